// Audio playground: offer only the speech formats the picked model really produces (the
// sandbox and Gemini give WAV only). The map comes from the format select's data-formats
// attribute; the server refuses a format outside it anyway. No inline scripts, no eval.
(function () {
  "use strict";

  function narrow(form) {
    var model = form.querySelector("select[name$='-model']");
    var format = form.querySelector("select[data-formats]");
    if (!model || !format) return;
    var formats;
    try {
      formats = JSON.parse(format.dataset.formats || "{}")[model.value];
    } catch (ignored) {
      return;
    }
    if (!formats || !formats.length) return;
    Array.prototype.forEach.call(format.options, function (option) {
      var offered = formats.indexOf(option.value) >= 0;
      option.disabled = !offered;
      option.hidden = !offered;
    });
    if (formats.indexOf(format.value) < 0) format.value = formats[0];
  }

  function narrowAll() {
    document.querySelectorAll("select[data-formats]").forEach(function (select) {
      if (select.form) narrow(select.form);
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("select[name$='-model']") && target.form) narrow(target.form);
  });
  // The panel is swapped by HTMX after each request: narrow the new form too.
  document.addEventListener("htmx:afterSettle", narrowAll);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", narrowAll);
  else narrowAll();
})();
