// Draws the revenue dashboard's charts from the figures the page carries in
// <script type="application/json" id="revenue-chart-data"> (Django's json_script).
// Progressive enhancement only: the tables under each chart hold the same figures, and
// without this file (or Chart.js) the charts simply stay hidden.
(function () {
  "use strict";

  var source = document.getElementById("revenue-chart-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var language = document.documentElement.lang || "en";
  var shillings = new Intl.NumberFormat(language, { maximumFractionDigits: 0 });
  var reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  // Amounts arrive as strings of shillings and cents: exact in the tables, and only
  // turned into numbers here, where a chart needs no more than whole shillings.
  function numbers(values) {
    return values.map(function (value) {
      return Number(value);
    });
  }

  function draw(figure, series) {
    var canvas = figure.querySelector("canvas");
    figure.hidden = false;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: [
          {
            label: data.text.collected,
            data: numbers(series.amounts),
            backgroundColor: "#0b3d2e",
          },
          {
            label: data.text.target,
            data: numbers(series.targets),
            backgroundColor: "#b1b4b6",
          },
        ],
      },
      options: {
        animation: reducedMotion ? false : undefined,
        // Many long names (the streams) read better as horizontal bars, in a taller chart.
        indexAxis: series.labels.length > 12 ? "y" : "x",
        aspectRatio: series.labels.length > 12 ? 1 : 2,
        scales: {
          x: { ticks: { autoSkip: false } },
          y: { ticks: { autoSkip: false } },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: function (context) {
                var value = context.parsed.x;
                if (context.chart.options.indexAxis === "x") {
                  value = context.parsed.y;
                }
                return context.dataset.label + ": " + shillings.format(value);
              },
            },
          },
        },
      },
    });
  }

  document.querySelectorAll("figure[data-chart]").forEach(function (figure) {
    var series = data[figure.getAttribute("data-chart")];
    if (series && series.labels.length) {
      draw(figure, series);
    }
  });
})();
