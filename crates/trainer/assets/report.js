// The script of report.html (trainer compare / trainer report): draws the charts from the JSON
// in <script id="report-data"> with uPlot (inlined above this script), and sorts the summary
// table by a clicked header. Nothing is fetched: the page works from disk, offline.
//
// Each chart: hover shows every setting's value at that x (the legend under it); clicking a
// legend entry hides or shows a setting; dragging across the chart zooms in on x, a
// double-click zooms out. The smoothing slider applies an exponential moving average (the
// one TensorBoard uses, debiased at the start) to the noisy per-step curves; "log scale"
// switches a y axis between log and linear. The uPlot instances are on window.reportCharts
// (id -> uPlot) for the browser test (tests/browser/report_check.mjs).
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const charts = {};
  window.reportCharts = charts;
  const smoothing = document.getElementById("smoothing");
  const smoothingValue = document.getElementById("smoothing-value");
  const logScale = {};
  const hidden = {};
  let printing = false;

  // Four significant digits, without a trailing ".000".
  function fmt(v) {
    if (v == null || !isFinite(v)) return "–";
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return Number(v.toPrecision(3)).toExponential();
    return String(Number(v.toPrecision(4)));
  }

  // TensorBoard's smoothing: last = last * w + (1 - w) * y, divided by 1 - w^n so the first
  // points are not pulled towards 0. Gaps (null) stay gaps and do not count.
  function ema(ys, w) {
    if (w <= 0) return ys;
    const out = new Array(ys.length);
    let last = 0;
    let n = 0;
    for (let i = 0; i < ys.length; i++) {
      const y = ys[i];
      if (y == null) {
        out[i] = null;
        continue;
      }
      last = last * w + (1 - w) * y;
      n += 1;
      out[i] = last / (1 - Math.pow(w, n));
    }
    return out;
  }

  // Ticks on a log axis that fit the data: whole decades when there are several, else
  // 1-2-5 or 1..9 times a power of ten, else evenly spaced values, so that less than a
  // decade still gets a handful of labelled ticks.
  function logSplits(u, axisIdx, min, max) {
    const lo = Math.floor(Math.log10(min));
    const hi = Math.ceil(Math.log10(max));
    for (const mantissas of [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
      const ticks = [];
      for (let e = lo; e <= hi; e++) {
        for (const m of mantissas) {
          const v = Number((m * Math.pow(10, e)).toPrecision(6));
          if (v >= min && v <= max) ticks.push(v);
        }
      }
      if (ticks.length >= 3) return ticks;
    }
    const ticks = [];
    for (let k = 0; k <= 4; k++) ticks.push(Number((min * Math.pow(max / min, k / 4)).toPrecision(2)));
    return ticks;
  }

  // A log range a little beyond the positive data (not rounded out to whole decades, which
  // would leave most of the chart empty when the data spans less than one).
  function logRange(u, min, max) {
    if (!(min > 0) || !(max > 0)) return [0.1, 1];
    if (min === max) return [min / 2, max * 2];
    const pad = Math.pow(max / min, 0.05);
    return [min / pad, max * pad];
  }

  function linearRange(fromZero) {
    return function (u, min, max) {
      if (min == null || max == null) return [0, 1];
      if (min === max) {
        const half = min === 0 ? 1 : Math.abs(min) * 0.5;
        return [fromZero ? 0 : min - half, max + half];
      }
      const pad = (max - min) * 0.05;
      return [fromZero && min >= 0 ? 0 : min - pad, max + pad];
    };
  }

  function width(el) {
    return printing ? 680 : Math.max(320, el.clientWidth);
  }

  function build(chart) {
    const el = document.getElementById("chart-" + chart.id);
    // A rebuilt chart (new smoothing, other scale) keeps the reader's zoom.
    let zoom = null;
    const old = charts[chart.id];
    if (old) {
      const n = chart.x.length;
      if (old.scales.x.min > chart.x[0] || old.scales.x.max < chart.x[n - 1]) {
        zoom = { min: old.scales.x.min, max: old.scales.x.max };
      }
      old.destroy();
    }
    const log = logScale[chart.id];
    const w = chart.smooth ? Number(smoothing.value) : 0;
    const series = [{ label: chart.x_label, value: (u, v) => fmt(v) }];
    const ys = [];
    chart.series.forEach((s, i) => {
      series.push({
        label: s.name,
        stroke: s.colour,
        width: 2,
        show: !hidden[chart.id + "/" + i],
        spanGaps: false,
        paths: chart.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
        points: { show: chart.dots, size: 7, fill: s.colour },
        value: (u, v) => fmt(v),
      });
      ys.push(ema(s.y, w).map((v) => (log && v != null && v <= 0 ? null : v)));
    });
    const opts = {
      width: width(el),
      height: 320,
      series: series,
      scales: {
        x: { time: false },
        y: log
          ? { distr: 3, log: 10, range: logRange }
          : { range: linearRange(chart.from_zero) },
      },
      axes: [
        { label: chart.x_label, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000] },
        {
          label: chart.y_label,
          size: 70,
          splits: log ? logSplits : undefined,
          values: (u, vals) => vals.map(fmt),
        },
      ],
      cursor: { drag: { x: true, y: false }, sync: chart.x_label === "epoch" ? undefined : { key: "steps" } },
      legend: { live: true },
      hooks: {
        setSeries: [
          (u, idx) => {
            if (idx != null && idx > 0) hidden[chart.id + "/" + (idx - 1)] = !u.series[idx].show;
          },
        ],
      },
    };
    charts[chart.id] = new uPlot(opts, [chart.x].concat(ys), el);
    if (zoom) charts[chart.id].setScale("x", zoom);
  }

  for (const chart of data.charts) {
    logScale[chart.id] = chart.log;
    const box = document.getElementById("log-" + chart.id);
    if (box) {
      box.checked = chart.log;
      box.addEventListener("change", () => {
        logScale[chart.id] = box.checked;
        build(chart);
      });
    }
    build(chart);
  }

  function rebuildSmoothed() {
    smoothingValue.textContent = Number(smoothing.value).toFixed(2);
    for (const chart of data.charts) if (chart.smooth) build(chart);
  }
  if (smoothing) smoothing.addEventListener("input", rebuildSmoothed);
  if (smoothingValue) smoothingValue.textContent = Number(smoothing.value).toFixed(2);

  function resizeAll() {
    for (const chart of data.charts) {
      const el = document.getElementById("chart-" + chart.id);
      charts[chart.id].setSize({ width: width(el), height: 320 });
    }
  }
  let pending = null;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(resizeAll, 100);
  });
  // Printing: draw the charts at the width of a portrait page, then back.
  window.addEventListener("beforeprint", () => {
    printing = true;
    resizeAll();
  });
  window.addEventListener("afterprint", () => {
    printing = false;
    resizeAll();
  });

  // The summary table: a click on a header sorts by that column (numbers by the value in
  // data-sort, text by itself); a second click reverses. Empty cells go last.
  const table = document.getElementById("summary");
  if (table) {
    const heads = table.querySelectorAll("thead th");
    heads.forEach((th, col) => {
      th.addEventListener("click", () => {
        const down = th.getAttribute("aria-sort") === "ascending";
        heads.forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", down ? "descending" : "ascending");
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        const key = (row) => {
          const cell = row.cells[col];
          const v = cell.getAttribute("data-sort");
          return v == null ? cell.textContent.trim() : v === "" ? null : Number(v);
        };
        rows.sort((a, b) => {
          const ka = key(a);
          const kb = key(b);
          if (ka === kb) return 0;
          if (ka == null || ka === "") return 1;
          if (kb == null || kb === "") return -1;
          const c = typeof ka === "number" && typeof kb === "number" ? ka - kb : String(ka).localeCompare(String(kb));
          return down ? -c : c;
        });
        rows.forEach((r) => body.appendChild(r));
      });
    });
  }
})();
