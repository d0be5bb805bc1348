//! `report.html`: one self-contained page with the summary table and every chart as inline SVG.
//! No scripts, no style sheets or fonts from elsewhere, no links out: a browser opens it from
//! disk, offline.

use std::fmt::Write as _;

use super::charts::Chart;
use super::finished::MissingRun;
use super::grid::Plan;
use super::summary::{cells, header, SettingSummary};

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
    page.push_str(concat!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<title>trainer compare</title>\n<style>\n",
        "body { font-family: sans-serif; margin: 2em; color: #222; }\n",
        "table { border-collapse: collapse; font-size: 14px; }\n",
        "th, td { border: 1px solid #bbb; padding: 4px 8px; text-align: right; }\n",
        "th { background: #eee; }\n",
        "td.text { text-align: left; }\n",
        "tr.failed td { background: #fdecea; }\n",
        "figure { margin: 2em 0; }\n",
        "svg { max-width: 100%; height: auto; }\n",
        "code { background: #f4f4f4; padding: 2px 4px; }\n",
        "</style>\n</head>\n<body>\n<h1>trainer compare</h1>\n",
    ));
    let _ = writeln!(page, "<p><code>{}</code></p>", escape(command));
    let _ = writeln!(
        page,
        "<p>{} settings × {} seed(s) = {} runs. Accuracy in percent on the 10,000 test images; \
         loss is mean cross-entropy. With several seeds: mean and sample standard deviation over \
         the seeds that finished; the best epoch is the one with the highest mean test accuracy.</p>",
        plan.settings.len(),
        plan.seeds_per_setting,
        plan.runs.len()
    );
    page.push_str("<h2>Summary</h2>\n<table>\n<tr>");
    for h in header(plan) {
        let _ = write!(page, "<th>{}</th>", escape(&h));
    }
    page.push_str("</tr>\n");
    let several = plan.seeds_per_setting > 1;
    let text_columns = 2 + plan.axes.len() + 1;
    for row in rows {
        let class = if row.runs_failed > 0 {
            " class=\"failed\""
        } else {
            ""
        };
        let _ = write!(page, "<tr{class}>");
        let row_cells = cells(row, several);
        let last = row_cells.len() - 1;
        for (i, c) in row_cells.iter().enumerate() {
            let td = if i < text_columns || i == last {
                "<td class=\"text\">"
            } else {
                "<td>"
            };
            let _ = write!(page, "{td}{}</td>", escape(c));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");
    missing_runs(&mut page, plan, missing);
    horizon_notes(&mut page, plan);
    page.push_str("<h2>Charts</h2>\n");
    for chart in charts {
        let _ = writeln!(
            page,
            "<figure>\n<figcaption><h3>{}</h3></figcaption>\n{}\n</figure>",
            escape(&chart.title),
            inline_svg(&chart.svg)
        );
    }
    page.push_str("</body>\n</html>\n");
    page
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

/// The SVG as an element of an HTML page: without the XML namespace attribute, which HTML does
/// not need (and which would be the page's only URL).
fn inline_svg(svg: &str) -> String {
    svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
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
    fn escapes_and_strips_the_namespace() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let svg = "<svg width=\"10\" height=\"10\" viewBox=\"0 0 10 10\" xmlns=\"http://www.w3.org/2000/svg\">\n</svg>";
        assert!(!inline_svg(svg).contains("http"));
        assert!(inline_svg(svg).starts_with("<svg width=\"10\""));
    }
}
