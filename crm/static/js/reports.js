// Charts on the report pages (the CSP allows no inline scripts). A template writes
// <canvas data-chart='{"type": "bar", "labels": [...], "datasets": [{"label": "...",
// "data": [...], "format": "eur"}], "stacked": false, "horizontal": false}'
// data-chart-label="What the chart shows">, and this draws it with Chart.js.
"use strict";

// Okabe-Ito: colours that stay apart for people with the common colour-vision deficiencies.
// Yellow and black come last: yellow is faint on white, black reads as text.
const CHART_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7",
  "#F0E442", "#000000"];

function chartLocale() {
  return document.documentElement.lang === "en" ? "en" : "de";
}

// A function that writes a number as `format` says: eur (whole euros, or "1,2 Mio. €" on an
// axis), count (whole numbers) or share (0.125 is "12,5 %").
function numberFormatter(format, locale, onAxis) {
  let options = {maximumFractionDigits: 0};
  if (format === "eur") {
    options = {style: "currency", currency: "EUR", minimumFractionDigits: 0,
      maximumFractionDigits: onAxis ? 1 : 0, notation: onAxis ? "compact" : "standard"};
  } else if (format === "share") {
    options = {style: "percent", maximumFractionDigits: 1};
  }
  const formatter = new Intl.NumberFormat(locale, options);
  return (value) => (value === null || value === undefined ? "" : formatter.format(value));
}

function chartConfig(spec) {
  const locale = chartLocale();
  const datasets = spec.datasets || [];
  const isDoughnut = spec.type === "doughnut";
  const tooltipFormats = datasets.map((dataset) => numberFormatter(dataset.format, locale, false));
  // The value axis follows the first dataset; a chart mixes no euros with counts.
  const axisFormatName = (datasets[0] || {}).format;
  const axisFormat = numberFormatter(axisFormatName, locale, true);
  const colour = (index) => CHART_COLOURS[index % CHART_COLOURS.length];

  const config = {
    type: spec.type,
    data: {
      labels: spec.labels || [],
      // Each dataset has its colour; a doughnut's slices each have theirs.
      datasets: datasets.map((dataset, index) => ({
        label: dataset.label,
        data: dataset.data || [],
        backgroundColor: isDoughnut ? (dataset.data || []).map((_, i) => colour(i)) : colour(index),
        borderColor: isDoughnut ? "#ffffff" : colour(index),
        fill: false,
      })),
    },
    options: {
      locale,
      plugins: {
        legend: {display: isDoughnut || datasets.length > 1},
        tooltip: {
          callbacks: {
            label: (context) => {
              const name = isDoughnut ? context.label : context.dataset.label;
              const value = tooltipFormats[context.datasetIndex](context.raw);
              return name ? `${name}: ${value}` : value;
            },
          },
        },
      },
    },
  };
  if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    config.options.animation = false;
  }
  if (!isDoughnut) {
    const horizontal = Boolean(spec.horizontal) && spec.type === "bar";
    const stacked = Boolean(spec.stacked);
    const ticks = {callback: (value) => axisFormat(value)};
    if (axisFormatName !== "share") {
      ticks.precision = 0;  // no "2,5" leads between the ticks
    }
    config.options.indexAxis = horizontal ? "y" : "x";
    config.options.scales = {
      [horizontal ? "y" : "x"]: {stacked},
      [horizontal ? "x" : "y"]: {stacked, beginAtZero: true, ticks},
    };
  }
  return config;
}

function drawCharts(root) {
  if (typeof Chart === "undefined") {
    return;
  }
  const canvases = Array.from(root.querySelectorAll("canvas[data-chart]"));
  if (root.matches && root.matches("canvas[data-chart]")) {
    canvases.push(root);
  }
  canvases.forEach((canvas) => {
    let spec;
    try {
      spec = JSON.parse(canvas.dataset.chart);
    } catch (error) {
      console.error("data-chart is not valid JSON", canvas, error);
      return;
    }
    const existing = Chart.getChart(canvas);
    if (existing) {
      existing.destroy();
    }
    canvas.setAttribute("role", "img");
    if (canvas.dataset.chartLabel) {
      canvas.setAttribute("aria-label", canvas.dataset.chartLabel);
    }
    new Chart(canvas, chartConfig(spec));
  });
}

document.addEventListener("DOMContentLoaded", () => drawCharts(document));
// htmx swapped in new content (a filter changed): draw the charts inside it. The event bubbles
// from the settled element through document.body to here.
document.addEventListener("htmx:afterSettle", (event) => {
  const target = event.target;
  drawCharts(target instanceof Element && document.contains(target) ? target : document);
});
