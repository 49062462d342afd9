// The proof-of-work widget on the sign form (progressive enhancement: the form works without it).
//
// We load ALTCHA's "external" build: unlike the default bundle it injects no <style> element
// (its CSS is the vendored altcha.css, linked by the template) and starts no workers from blob:
// URLs, so it runs under our Content-Security-Policy unchanged. The price is that it ships no
// solver: we register the one algorithm our server issues (campaigns/pow.py), pointing at the
// vendored worker file, which script-src 'self' already allows.
//
// Relative paths resolve against this module's own URL, so they work under any STATIC_URL.
import "../vendor/altcha/altcha.min.js";
import "../vendor/altcha/i18n/ru.js";

const shaWorker = new URL("../vendor/altcha/workers/sha.js", import.meta.url);

globalThis.$altcha.algorithms.set("SHA-256", () => new Worker(shaWorker));

// The page carries its challenge (campaigns/pow.py), which saves every signer a request. A page
// left open past the challenge's expiry asks our endpoint for a fresh one instead: checked when
// the widget is about to start (the form gets focus), and whenever the widget reports expiry.
const EXPIRY_MARGIN_MS = 60_000;

function inlineChallengeExpired(widget) {
  const challenge = widget.getAttribute("challenge") || "";
  if (!challenge.startsWith("{")) return false;
  try {
    const expiresAt = JSON.parse(challenge).parameters.expiresAt;
    return typeof expiresAt === "number" && expiresAt * 1000 < Date.now() + EXPIRY_MARGIN_MS;
  } catch {
    return true;
  }
}

function useChallengeEndpoint(widget) {
  widget.setAttribute("challenge", widget.dataset.challengeUrl);
}

for (const widget of document.querySelectorAll("altcha-widget[data-challenge-url]")) {
  // Capture phase: runs before the widget's own focus handler on the same form.
  widget.closest("form")?.addEventListener(
    "focusin",
    () => {
      if (inlineChallengeExpired(widget)) useChallengeEndpoint(widget);
    },
    { capture: true },
  );
  widget.addEventListener("expired", () => useChallengeEndpoint(widget));
}
