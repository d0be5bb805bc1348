// Opens a report.html of `trainer compare` in the system's Chromium (headless, through
// playwright-core, offline: every request that is not for a local file fails the check) and
// checks it as a reader would:
// - no console error and no uncaught exception;
// - every chart drawn, each with one series per setting, and ink on its canvas;
// - at a 1280 px wide window the page is no wider than the window (no horizontal scroll);
// - clicking a setting's legend entry hides its line, clicking again shows it;
// - the loss chart's "log scale" box switches its y axis; a header click sorts the table;
// - printed (print media, a portrait page) the page is no wider than the paper.
// Writes a screenshot at 1280 px and a PDF print. Exits non-zero with the failures listed.
//
//   node report_check.mjs REPORT.html SETTINGS SCREENSHOT.png PRINT.pdf
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [report, settingsArg, screenshot, pdf] = process.argv.slice(2);
if (!report || !settingsArg || !screenshot || !pdf) {
  console.error("usage: node report_check.mjs REPORT.html SETTINGS SCREENSHOT.png PRINT.pdf");
  process.exit(2);
}
const settings = Number(settingsArg);
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
};

const profile = mkdtempSync(join(tmpdir(), "report-check-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  const fetched = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:")) return route.continue();
    fetched.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(resolve(report)).href);
  await page.waitForLoadState("load");

  const charts = await page.evaluate(() => {
    const data = JSON.parse(document.getElementById("report-data").textContent);
    return data.charts.map((c) => {
      const u = window.reportCharts && window.reportCharts[c.id];
      if (!u) return { id: c.id, drawn: false };
      const canvas = u.ctx.canvas;
      const pixels = u.ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let ink = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) ink++;
      const legend = u.root.querySelectorAll(".u-legend .u-series").length - 1;
      return { id: c.id, drawn: true, series: u.series.length - 1, legend, ink, width: u.width };
    });
  });
  check(charts.length >= 5, `${charts.length} charts (lr, loss, accuracy, two update ratios)`);
  for (const c of charts) {
    check(c.drawn, `chart ${c.id} drawn`);
    if (!c.drawn) continue;
    check(c.series === settings, `chart ${c.id}: ${c.series} series for ${settings} settings`);
    check(c.legend === settings, `chart ${c.id}: ${c.legend} legend entries`);
    check(c.ink > 1000, `chart ${c.id}: ${c.ink} pixels drawn`);
  }

  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  check(widths.scroll <= 1280 && widths.scroll <= widths.inner, `page ${widths.scroll} px wide at a 1280 px window`);

  // Hide the first setting through the first chart's legend, then show it again.
  const first = charts[0].id;
  const entry = page.locator(`#chart-${first} .u-legend .u-series`).nth(1);
  await entry.click();
  const hidden = await page.evaluate((id) => window.reportCharts[id].series[1].show, first);
  check(hidden === false, `clicking the legend entry hides the first setting on ${first}`);
  await entry.click();
  const shown = await page.evaluate((id) => window.reportCharts[id].series[1].show, first);
  check(shown === true, `clicking it again shows it`);

  // The loss starts on a log axis; the box switches it to linear.
  const distr = () => page.evaluate(() => window.reportCharts.train_loss.scales.y.distr);
  check((await distr()) === 3, "train loss opens on a log axis");
  await page.locator("#log-train_loss").click();
  check((await distr()) === 1, "the log box switches the loss to a linear axis");
  await page.locator("#log-train_loss").click();

  // Sorting by the final accuracy, ascending then descending.
  const column = await page.evaluate(() =>
    Array.from(document.querySelectorAll("#summary thead th")).findIndex((th) =>
      th.textContent.startsWith("Final test accuracy"),
    ),
  );
  const order = () =>
    page.evaluate(
      (col) => Array.from(document.querySelectorAll("#summary tbody tr")).map((r) => Number(r.cells[col].dataset.sort)),
      column,
    );
  const header = page.locator("#summary thead th").nth(column);
  await header.click();
  const up = await order();
  await header.click();
  const down = await order();
  const sorted = (v, dir) => v.every((x, i) => i === 0 || dir * (x - v[i - 1]) >= 0);
  check(column >= 0 && sorted(up, 1) && sorted(down, -1), `the table sorts by final accuracy (${up} / ${down})`);

  await page.screenshot({ path: screenshot, fullPage: true });

  // Print: a portrait A4 page is about 794 CSS px wide with no margins.
  await page.emulateMedia({ media: "print" });
  await page.evaluate(() => window.dispatchEvent(new Event("beforeprint")));
  const printWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.setViewportSize({ width: 794, height: 1123 });
  const printScroll = await page.evaluate(() => document.documentElement.scrollWidth);
  check(printScroll <= 794, `printed, the page is ${printScroll} px wide on a 794 px page (${printWidth} before)`);
  await page.pdf({ path: pdf, format: "A4", printBackground: true });

  check(errors.length === 0, `no console errors${errors.length ? ": " + errors.join(" | ") : ""}`);
  check(fetched.length === 0, `nothing fetched${fetched.length ? ": " + fetched.join(", ") : ""}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
if (failures.length) {
  console.error(`${failures.length} check(s) failed:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
console.log("report.html passed every check");
