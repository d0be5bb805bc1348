//! The summary table of `report.html`, as a person reads it (`summary.csv` keeps its machine
//! columns): one `mean ± std` column per metric as on the terminal, headers in words, the
//! setting's name once (its config and grid values are in it), the best value of each column
//! marked, the best epoch's accuracy only where it differs from the final one, and a failed
//! run's reason in its row. Every cell of a number column carries its value in `data-sort`, so
//! the page's script sorts by value when a header is clicked.

use std::fmt::Write as _;

use super::escape;
use crate::compare_cmd::grid::Plan;
use crate::compare_cmd::summary::{SettingSummary, Stat};

/// Which end of a column is best.
#[derive(Clone, Copy, PartialEq)]
enum Best {
    Highest,
    Lowest,
}

/// One number column: its header, how to read a row, its decimals and which end is best.
struct NumberColumn {
    header: &'static str,
    value: fn(&SettingSummary) -> Option<Stat>,
    digits: usize,
    best: Best,
}

const FINAL_ACCURACY: NumberColumn = NumberColumn {
    header: "Final test accuracy (%)",
    value: |r| r.final_test_accuracy,
    digits: 2,
    best: Best::Highest,
};
const BEST_ACCURACY: NumberColumn = NumberColumn {
    header: "Best test accuracy (%) at epoch",
    value: |r| r.best_test_accuracy,
    digits: 2,
    best: Best::Highest,
};
const FINAL_LOSS: NumberColumn = NumberColumn {
    header: "Final train loss",
    value: |r| r.final_train_loss,
    digits: 4,
    best: Best::Lowest,
};
const SECONDS: NumberColumn = NumberColumn {
    header: "Seconds per run",
    value: |r| {
        Some(Stat {
            mean: r.seconds,
            std: None,
        })
    },
    digits: 1,
    best: Best::Lowest,
};

/// The table, `<table id="summary">`, for the settings of `plan`.
pub fn html(plan: &Plan, rows: &[SettingSummary]) -> String {
    // "Best" is a column only when some setting's best epoch is not its last one.
    let mut columns = vec![&FINAL_ACCURACY];
    if rows.iter().any(best_differs) {
        columns.push(&BEST_ACCURACY);
    }
    columns.extend([&FINAL_LOSS, &SECONDS]);

    let mut t =
        String::from("<table class=\"summary\" id=\"summary\">\n<thead><tr><th>Setting</th>");
    for axis in &plan.axes {
        let _ = write!(t, "<th>{}</th>", escape(&axis.key));
    }
    t.push_str("<th>Seeds</th>");
    for c in &columns {
        let _ = write!(t, "<th>{}</th>", c.header);
    }
    t.push_str("<th>Status</th></tr></thead>\n<tbody>\n");
    let bests: Vec<Option<String>> = columns.iter().map(|c| best_text(c, rows)).collect();
    for row in rows {
        let failed = row.runs_failed > 0;
        t.push_str(if failed {
            "<tr class=\"failed\">"
        } else {
            "<tr>"
        });
        let _ = write!(t, "<td>{}</td>", escape(&row.name));
        for value in &row.values {
            match value.parse::<f64>() {
                Ok(v) if v.is_finite() => {
                    let _ = write!(
                        t,
                        "<td class=\"num\" data-sort=\"{v}\">{}</td>",
                        escape(value)
                    );
                }
                _ => {
                    let _ = write!(t, "<td>{}</td>", escape(value));
                }
            }
        }
        let seeds: Vec<String> = row.seeds.iter().map(u64::to_string).collect();
        let _ = write!(t, "<td>{}</td>", seeds.join(", "));
        for (c, best) in columns.iter().zip(&bests) {
            number_cell(&mut t, c, row, best.as_deref());
        }
        let _ = writeln!(t, "<td class=\"status\">{}</td></tr>", escape(&row.status));
    }
    t.push_str("</tbody>\n</table>\n");
    t
}

/// Whether the row's best-epoch accuracy is another number than its final one.
fn best_differs(row: &SettingSummary) -> bool {
    match (row.best_test_accuracy, row.final_test_accuracy) {
        (Some(best), Some(last)) => best.text(2) != last.text(2),
        _ => false,
    }
}

/// The best mean of the column as printed (ties in print are ties), when at least two rows
/// have a value to compare.
fn best_text(column: &NumberColumn, rows: &[SettingSummary]) -> Option<String> {
    let means: Vec<f64> = rows
        .iter()
        .filter_map(|r| (column.value)(r))
        .map(|s| s.mean)
        .filter(|m| m.is_finite())
        .collect();
    if means.len() < 2 {
        return None;
    }
    let best = match column.best {
        Best::Highest => means.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Best::Lowest => means.iter().copied().fold(f64::INFINITY, f64::min),
    };
    Some(format!("{best:.d$}", d = column.digits))
}

/// One number cell: `mean ± std`, marked when its mean is the column's best; the best-epoch
/// cell names its epoch, or says "= final" when it is the final value.
fn number_cell(t: &mut String, column: &NumberColumn, row: &SettingSummary, best: Option<&str>) {
    let Some(stat) = (column.value)(row) else {
        t.push_str("<td class=\"num\" data-sort=\"\">–</td>");
        return;
    };
    let mean = format!("{:.d$}", stat.mean, d = column.digits);
    let is_best = best == Some(mean.as_str());
    let mut text = stat.text(column.digits);
    let mut class = String::from("num");
    if std::ptr::eq(column, &BEST_ACCURACY) {
        if best_differs(row) {
            if let Some(epoch) = row.best_epoch {
                let _ = write!(text, " ({epoch})");
            }
        } else {
            text = "= final".to_string();
            class.push_str(" same");
        }
    }
    if is_best {
        class.push_str(" best");
        text.push_str(" ★");
    }
    let _ = write!(
        t,
        "<td class=\"{class}\" data-sort=\"{}\">{}</td>",
        stat.mean,
        escape(&text)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, last: f64, best: f64, loss: f64, status: &str) -> SettingSummary {
        let stat = |mean, std| Some(Stat { mean, std });
        SettingSummary {
            name: name.into(),
            config: "c".into(),
            values: Vec::new(),
            seeds: vec![0, 1],
            final_test_accuracy: stat(last, Some(0.48)),
            best_test_accuracy: stat(best, Some(if best == last { 0.48 } else { 0.5 })),
            best_epoch: Some(2),
            final_train_loss: stat(loss, Some(0.001)),
            seconds: 1.0,
            runs_failed: usize::from(status != "ok"),
            status: status.into(),
            notes: String::new(),
        }
    }

    fn plan() -> Plan {
        Plan {
            settings: Vec::new(),
            axes: Vec::new(),
            seeds_per_setting: 2,
            runs: Vec::new(),
        }
    }

    #[test]
    fn metrics_read_as_mean_plus_minus_std_and_the_best_is_marked() {
        let rows = [
            row("steplr", 86.42, 86.42, 0.3859, "ok"),
            row("cosine", 85.0, 85.0, 0.3792, "ok"),
        ];
        let t = html(&plan(), &rows);
        assert!(t.contains(">86.42 ± 0.48 ★</td>"), "{t}");
        assert!(t.contains(">85.00 ± 0.48</td>"), "{t}");
        assert!(
            t.contains("class=\"num best\" data-sort=\"0.3792\">0.3792 ± 0.0010 ★"),
            "{t}"
        );
        // best = final everywhere: no best column, no CSV names, no config column.
        assert!(!t.contains("Best test accuracy"), "{t}");
        assert!(!t.contains("_mean") && !t.contains(">c<"), "{t}");
    }

    #[test]
    fn best_is_shown_where_it_differs_and_failures_say_why() {
        let rows = [
            row("a", 80.0, 84.0, 0.5, "ok"),
            row("b", 85.0, 85.0, 0.4, "ok"),
            SettingSummary {
                final_test_accuracy: None,
                best_test_accuracy: None,
                best_epoch: None,
                final_train_loss: None,
                ..row(
                    "bad<1>",
                    0.0,
                    0.0,
                    0.0,
                    "failed: seed=0: the run diverged at step 3",
                )
            },
        ];
        let t = html(&plan(), &rows);
        assert!(
            t.contains("<th>Best test accuracy (%) at epoch</th>"),
            "{t}"
        );
        assert!(t.contains(">84.00 ± 0.50 (2)</td>"), "{t}");
        assert!(
            t.contains("class=\"num same best\" data-sort=\"85\">= final ★"),
            "{t}"
        );
        assert!(
            t.contains("<tr class=\"failed\"><td>bad&lt;1&gt;</td>"),
            "{t}"
        );
        assert!(t.contains("<td class=\"status\">failed: seed=0: the run diverged at step 3</td>"));
        assert!(t.contains("data-sort=\"\">–</td>"), "{t}");
    }
}
