//! `report.html`: one self-contained page with the summary table ([`table`]) and interactive
//! charts. It opens from disk, offline: the runs' curves are embedded as JSON, and the charting
//! library (uPlot, vendored in `assets/uplot/`), its style sheet and the page's own script
//! (`assets/report.js`) and style (`assets/report.css`) are inlined; nothing is fetched. The
//! static SVGs are written beside the page and linked from it, for papers and READMEs.
//!
//! Everything embedded is escaped: text into HTML with [`escape`], the JSON inside `<script>`
//! with [`json_for_script`] (no `</script>` or `<!--` can end or bend the script element).

use std::fmt::Write as _;

use super::charts::Chart;
use super::finished::MissingRun;
use super::grid::Plan;
use super::summary::SettingSummary;

#[path = "report_table.rs"]
mod table;

/// uPlot's minified script and style sheet, pinned (see `assets/uplot/README.md`).
const UPLOT_JS: &str = include_str!("../assets/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../assets/uplot/uPlot.min.css");
/// The page's script: draws the charts, sorts the table.
const REPORT_JS: &str = include_str!("../assets/report.js");
/// The page's style, screen and print.
const REPORT_CSS: &str = include_str!("../assets/report.css");

/// The page, for the comparison `plan` run by `command`; `missing` are the runs not finished
/// (listed after the table).
pub fn html(
    command: &str,
    plan: &Plan,
    rows: &[SettingSummary],
    charts: &[Chart],
    missing: &[MissingRun],
) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>trainer compare: {}</title>\n<style>\n{UPLOT_CSS}\n</style>\n<style>\n{REPORT_CSS}</style>\n\
         </head>\n<body>\n<main>\n<h1>trainer compare</h1>\n",
        escape(&plural_settings(plan.settings.len()))
    );
    let _ = writeln!(
        page,
        "<p class=\"command\"><code>{}</code></p>",
        escape(command)
    );
    let seeds = plan.seeds_per_setting;
    let _ = writeln!(
        page,
        "<p>{} settings × {} seed{} = {} runs. Accuracy in percent on the 10,000 test images; \
         loss is mean cross-entropy.{}</p>",
        plan.settings.len(),
        seeds,
        if seeds == 1 { "" } else { "s" },
        plan.runs.len(),
        if seeds > 1 {
            " Each value is the mean ± the sample standard deviation over the seeds that \
             finished; the best epoch is the one with the highest mean test accuracy."
        } else {
            ""
        }
    );
    page.push_str("<h2>Summary</h2>\n");
    page.push_str(&table::html(plan, rows));
    page.push_str(
        "<p class=\"legend-note\">★ the best value of its column. Click a header to sort by it. \
         The same numbers, with more digits, are in <a href=\"summary.csv\">summary.csv</a>.</p>\n",
    );
    missing_runs(&mut page, plan, missing);
    horizon_notes(&mut page, plan);
    if !charts.is_empty() {
        chart_section(&mut page, plan, charts);
    }
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// "1 setting", "3 settings".
fn plural_settings(n: usize) -> String {
    crate::plural::plural(n as u64, "setting")
}

/// The charts: the smoothing control, one figure per chart with its log switch, its notes on
/// coinciding curves and a link to its SVG, then the data and the scripts.
fn chart_section(page: &mut String, plan: &Plan, charts: &[Chart]) {
    page.push_str("<h2>Charts</h2>\n");
    let _ = writeln!(
        page,
        "<div class=\"controls\">\n<label>Smoothing of the per-step loss and update ratio \
         (exponential moving average weight) <input type=\"range\" id=\"smoothing\" min=\"0\" \
         max=\"0.99\" step=\"0.01\" value=\"0.9\"> <output id=\"smoothing-value\">0.90</output>\
         </label>\n<span>Hover: every setting's value at that point. Click a legend entry: hide \
         or show it. Drag: zoom in; double-click: zoom out.</span>\n</div>"
    );
    if plan.seeds_per_setting > 1 {
        let _ = writeln!(
            page,
            "<p class=\"legend-note\">Each line is the mean over the {} seeds; the SVG files \
             also draw the spread (lowest to highest seed) as a band.</p>",
            plan.seeds_per_setting
        );
    }
    page.push_str(
        "<noscript><p>The interactive charts need JavaScript; the same charts are in the SVG \
         files beside this page (linked below each chart's place).</p></noscript>\n",
    );
    let mut data = Vec::new();
    for chart in charts {
        for p in &chart.page {
            let _ = write!(
                page,
                "<figure class=\"chart\" id=\"fig-{id}\">\n<div class=\"head\"><h3>{title}</h3>",
                id = p.id,
                title = escape(&p.title)
            );
            if p.style.scale_switch {
                let _ = write!(
                    page,
                    "<label class=\"no-print\"><input type=\"checkbox\" id=\"log-{}\"{}> log \
                     scale</label>",
                    p.id,
                    if p.style.log { " checked" } else { "" }
                );
            }
            let _ = writeln!(
                page,
                "</div>\n<div class=\"plot\" id=\"chart-{}\"></div>",
                p.id
            );
            page.push_str("<figcaption>");
            if !p.notes.is_empty() {
                page.push_str("<ul class=\"notes\">");
                for note in &p.notes {
                    let _ = write!(page, "<li>{}</li>", escape(note));
                }
                page.push_str("</ul>");
            }
            let _ = writeln!(
                page,
                "Static chart: <a href=\"{0}\">{0}</a></figcaption>\n</figure>",
                chart.file
            );
            data.push(p);
        }
    }
    let json = serde_json::json!({ "charts": data });
    let _ = write!(
        page,
        "<script type=\"application/json\" id=\"report-data\">{}</script>\n\
         <script>\n{UPLOT_JS}\n</script>\n<script>\n{REPORT_JS}</script>\n",
        json_for_script(&json.to_string())
    );
}

/// JSON text made safe inside a `<script>` element: `<`, `>` and `&` become `\u003c`,
/// `\u003e` and `\u0026` (so no `</script>` or `<!--` can appear), and the two line separators
/// JavaScript once treated as newlines are escaped too. In JSON those characters only occur
/// inside strings, where the escapes mean the same characters.
pub fn json_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The runs not (yet) finished, one item each with why (nothing when every run finished or
/// failed).
fn missing_runs(page: &mut String, plan: &Plan, missing: &[MissingRun]) {
    if missing.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<h2>Missing runs</h2>\n<p>{} of {} runs have not finished; the table and the charts \
         cover the others:</p>\n<ul>",
        missing.len(),
        plan.runs.len()
    );
    for m in missing {
        let _ = writeln!(
            page,
            "<li><code>{}</code>: {}</li>",
            escape(&plan.runs[m.run].dir_name),
            escape(&m.reason)
        );
    }
    page.push_str("</ul>\n");
}

/// The schedule horizons that do not fit their runs, one item per setting naming its runs
/// (nothing when every horizon fits).
fn horizon_notes(page: &mut String, plan: &Plan) {
    if plan.settings.iter().all(|s| s.notes.is_empty()) {
        return;
    }
    page.push_str(
        "<h2>Schedule horizons</h2>\n<p>These runs' schedules are sized for another length \
         than the run's, so their curves are not the schedule's intended shape:</p>\n<ul>\n",
    );
    for (index, setting) in plan.settings.iter().enumerate() {
        let runs: Vec<&str> = plan
            .runs
            .iter()
            .filter(|r| r.setting == index)
            .map(|r| r.dir_name.as_str())
            .collect();
        for note in &setting.notes {
            let _ = writeln!(
                page,
                "<li><code>{}</code>: {}</li>",
                escape(&runs.join(", ")),
                escape(note)
            );
        }
    }
    page.push_str("</ul>\n");
}

/// Escapes the five HTML special characters.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html_and_json_in_a_script() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let json = serde_json::json!({ "name": "x</script><!--y&\u{2028}" }).to_string();
        let safe = json_for_script(&json);
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('\u{2028}'));
        // The same value once parsed.
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["name"], "x</script><!--y&\u{2028}");
    }

    #[test]
    fn the_inlined_assets_cannot_end_their_elements() {
        for (name, text) in [("uPlot.iife.min.js", UPLOT_JS), ("report.js", REPORT_JS)] {
            let lower = text.to_ascii_lowercase();
            assert!(
                !lower.contains("</script") && !lower.contains("<!--"),
                "{name}"
            );
        }
        for (name, text) in [("uPlot.min.css", UPLOT_CSS), ("report.css", REPORT_CSS)] {
            assert!(!text.to_ascii_lowercase().contains("</style"), "{name}");
        }
        // Nothing to fetch: no address in what is inlined but uPlot's banner comment.
        let uplot = UPLOT_JS.replacen("/*! https://github.com/leeoniya/uPlot (v1.6.32) */", "", 1);
        for text in [&uplot, UPLOT_CSS, REPORT_JS, REPORT_CSS] {
            assert!(!text.contains("http:") && !text.contains("https:"));
            assert!(!text.contains("url(") && !text.contains("@import"));
        }
    }
}
