// API tokens page: the "Copy" button beside a new token. Delegated on the document, since the
// token arrives in an HTMX swap. Falls back to selecting the text where the Clipboard API is
// missing (a page served over plain HTTP from another host). No inline scripts, no eval.
(function () {
  "use strict";

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function say(button, text) {
    button.textContent = text;
    window.setTimeout(function () {
      button.textContent = "Copy";
    }, 4000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) {
      return;
    }
    var source = document.querySelector(button.dataset.copyTarget);
    if (!source) {
      return;
    }
    var text = source.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () {
          say(button, "Copied");
        },
        function () {
          selectText(source);
          say(button, "Selected: press Ctrl+C");
        }
      );
    } else {
      selectText(source);
      say(button, "Selected: press Ctrl+C");
    }
  });
})();
