// Usage page: Unfold's app.js draws every canvas.chart once, on window load. Canvases that an
// HTMX swap brings in later (filter changes, back/forward) are drawn here from the same
// data-type / data-value / data-options attributes. No inline scripts, no eval.
(function () {
  "use strict";

  function drawCharts() {
    // Before window load Unfold has not drawn yet and would fail on a canvas drawn here.
    if (typeof Chart === "undefined" || document.readyState !== "complete") {
      return;
    }
    document.querySelectorAll("canvas.chart").forEach(function (canvas) {
      // Skip canvases Unfold (or an earlier swap) already drew: Chart.js refuses a reused canvas.
      if (!canvas.dataset.value || Chart.getChart(canvas)) {
        return;
      }
      new Chart(canvas.getContext("2d"), {
        type: canvas.dataset.type || "bar",
        data: JSON.parse(canvas.dataset.value),
        options: canvas.dataset.options ? JSON.parse(canvas.dataset.options) : {},
      });
    });
  }

  // Only after swaps: on first load Unfold draws the charts itself.
  document.addEventListener("htmx:afterSettle", drawCharts);
  document.addEventListener("htmx:historyRestore", drawCharts);
})();
