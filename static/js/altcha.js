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
