// aiadmin console behaviour. No inline scripts anywhere: everything is wired from here.
(function () {
  "use strict";
})();

// --- Error answers to HTMX requests (section owned by the error pages, views/errors.py) ---
// htmx swaps nothing on a 4xx/5xx, so a refused or failed save would look like a dead button.
// Show the error page's message (its [data-testid=error-page] element, never the rest of the
// answer) right after the form that asked, replacing an earlier one.
(function () {
  "use strict";
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var source = event.detail && event.detail.elt;
    if (!xhr || !source || !source.isConnected) return;
    var message = new DOMParser().parseFromString(xhr.responseText || "", "text/html").querySelector("[data-testid=error-page]");
    if (!message) return;
    var anchor = source.closest("form") || source;
    var next = anchor.nextElementSibling;
    if (next && next.classList.contains("ai-htmx-error")) next.remove();
    var box = document.createElement("div");
    box.className = "ai-htmx-error";
    box.appendChild(document.importNode(message, true));
    anchor.insertAdjacentElement("afterend", box);
  });
})();
