// Long checkbox lists (fieldset.checklist, e.g. ~250 countries): adds a filter input above the
// list. Without JavaScript the list is a plain, scrollable box of checkboxes and works the same.
// Loaded as a file from our own host, so the Content-Security-Policy (script-src 'self') holds.
(function () {
  "use strict";
  var counter = 0;
  document.querySelectorAll("fieldset.checklist").forEach(function (fieldset) {
    var list = fieldset.querySelector(":scope > div");
    if (!list) return;
    var options = Array.prototype.slice.call(list.children);
    var id = "checklist-filter-" + (++counter);
    var wrap = document.createElement("div");
    wrap.className = "checklist-filter";
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = fieldset.getAttribute("data-filter-label");
    var input = document.createElement("input");
    input.type = "search";
    input.id = id;
    input.autocomplete = "off";
    input.setAttribute("aria-controls", list.id || "");
    var status = document.createElement("p");
    status.className = "help checklist-count";
    status.setAttribute("role", "status");
    wrap.appendChild(label);
    wrap.appendChild(input);
    fieldset.insertBefore(wrap, list);
    fieldset.appendChild(status);
    var template = fieldset.getAttribute("data-filter-count") || "";
    function norm(text) { return text.toLocaleLowerCase().replace(/ё/g, "е").trim(); }
    function apply() {
      var query = norm(input.value);
      var shown = 0;
      options.forEach(function (option) {
        var box = option.querySelector("input");
        // Checked choices stay visible, so a filter never hides what will be sent.
        var match = !query || norm(option.textContent).indexOf(query) !== -1 || (box && box.checked);
        option.hidden = !match;
        if (match) shown++;
      });
      status.textContent = query ? template.replace("{shown}", shown).replace("{total}", options.length) : "";
    }
    input.addEventListener("input", apply);
    // Enter in the filter must not submit the whole form.
    input.addEventListener("keydown", function (event) { if (event.key === "Enter") event.preventDefault(); });
  });
})();
