//! The comparison's charts, one series per setting in a colour fixed by the setting's index:
//! lr per step, train loss per step (moving average), test accuracy per epoch, and the
//! update-to-weight norm ratio ||Δw|| / ||w|| per step for fc1.weight and fc2.weight (log axis).
//!
//! With several seeds a setting's line is the mean over its seeds at each step (or epoch) and
//! the band spans the lowest to the highest seed. Runs that failed are left out (the summary
//! reports them); a setting with no finished run has no series.

use std::path::Path;

use anyhow::{bail, Context};

use super::grid::Plan;
use super::summary::RunOutcome;
use band_charts::{band_chart_svg, compare_colour, BandPanel, BandSeries, Marks, YScale};
pub use page_data::PageChart;
use page_data::{mean_over_seeds, page_chart, Labels, SettingCurve, Style};

#[path = "band_charts.rs"]
mod band_charts;
#[path = "coincide.rs"]
mod coincide;
#[path = "page_data.rs"]
mod page_data;

/// The layers whose update-to-weight ratio is drawn.
pub const RATIO_LAYERS: [&str; 2] = ["fc1.weight", "fc2.weight"];

/// Every chart file a comparison may hold (a report with no finished run removes them).
pub const FILES: [&str; 4] = [
    "lr.svg",
    "train_loss.svg",
    "test_accuracy.svg",
    "update_ratio.svg",
];

/// The page's element ids of the update-ratio charts, one per [`RATIO_LAYERS`] entry.
const RATIO_IDS: [&str; 2] = ["ratio_fc1", "ratio_fc2"];

/// At most this many points per line: longer curves are thinned evenly (after smoothing).
const MAX_POINTS: usize = 1000;

/// One finished chart: the static SVG and what the report page draws of it.
pub struct Chart {
    /// The SVG file name in the comparison folder.
    pub file: &'static str,
    /// The SVG text.
    pub svg: String,
    /// The same data for the report's interactive charts, one per panel of the SVG.
    pub page: Vec<PageChart>,
}

/// The per-step columns of one run's `trace.csv` that the charts use.
struct RunTrace {
    step: Vec<f64>,
    lr: Vec<f64>,
    loss: Vec<f64>,
    /// update_norm / param_norm per [`RATIO_LAYERS`] entry.
    ratio: Vec<Vec<f64>>,
}

/// Reads the columns the charts need from a `trace.csv`, by header name.
fn read_trace(path: &Path) -> anyhow::Result<RunTrace> {
    let text = crate::input_file::read_text(path, "the trace", crate::input_file::CSV_MAX_BYTES)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .with_context(|| format!("{} has no column {name}", path.display()))
    };
    let (step, lr, loss) = (col("step")?, col("lr")?, col("loss")?);
    let ratio_cols: Vec<(usize, usize)> = RATIO_LAYERS
        .iter()
        .map(|l| {
            Ok((
                col(&format!("{l}.update_norm"))?,
                col(&format!("{l}.param_norm"))?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut t = RunTrace {
        step: Vec::new(),
        lr: Vec::new(),
        loss: Vec::new(),
        ratio: vec![Vec::new(); RATIO_LAYERS.len()],
    };
    for (i, line) in lines.enumerate() {
        let cells: Vec<f64> = line
            .split(',')
            .map(|c| c.parse::<f64>())
            .collect::<Result<_, _>>()
            .with_context(|| format!("{} line {}: not a number", path.display(), i + 2))?;
        if cells.len() != header.len() {
            bail!(
                "{} line {}: {} cells, the header has {}",
                path.display(),
                i + 2,
                cells.len(),
                header.len()
            );
        }
        t.step.push(cells[step]);
        t.lr.push(cells[lr]);
        t.loss.push(cells[loss]);
        for (k, &(u, p)) in ratio_cols.iter().enumerate() {
            t.ratio[k].push(if cells[p] > 0.0 {
                cells[u] / cells[p]
            } else {
                f64::NAN
            });
        }
    }
    Ok(t)
}

/// The moving-average window for per-step curves of about `steps` steps: a fiftieth of the run,
/// between 1 and 50 steps.
pub fn smoothing_window(steps: usize) -> usize {
    (steps / 50).clamp(1, 50)
}

/// Trailing moving average: point i is the mean of points max(0, i − w + 1) ..= i.
pub fn moving_average(y: &[f64], w: usize) -> Vec<f64> {
    let w = w.max(1);
    let mut out = Vec::with_capacity(y.len());
    let mut sum = 0.0;
    for i in 0..y.len() {
        sum += y[i];
        if i >= w {
            sum -= y[i - w];
        }
        out.push(sum / (i + 1).min(w) as f64);
    }
    out
}

/// A line's (x, y) points.
pub type Line = Vec<(f64, f64)>;
/// A band's (x, low, high) points.
pub type Band = Vec<(f64, f64, f64)>;

/// The mean line and, with several curves, the min–max band, over curves that share their x
/// values (same steps or epochs); compared up to the shortest curve.
pub fn aggregate(x: &[f64], curves: &[Vec<f64>]) -> (Line, Band) {
    let n = curves.iter().map(Vec::len).min().unwrap_or(0).min(x.len());
    let mut line = Vec::with_capacity(n);
    let mut band = Vec::new();
    for i in 0..n {
        let values = curves.iter().map(|c| c[i]);
        let finite: Vec<f64> = values.filter(|v| v.is_finite()).collect();
        if finite.len() < curves.len() {
            continue; // a step where some seed has no value (e.g. a zero weight norm)
        }
        let mean = finite.iter().sum::<f64>() / finite.len() as f64;
        line.push((x[i], mean));
        if curves.len() > 1 {
            let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            band.push((x[i], lo, hi));
        }
    }
    (thin(line), thin(band))
}

/// Keeps at most [`MAX_POINTS`] evenly spaced points, always the last one.
fn thin<T: Copy>(points: Vec<T>) -> Vec<T> {
    if points.len() <= MAX_POINTS {
        return points;
    }
    let stride = points.len().div_ceil(MAX_POINTS);
    let last = points[points.len() - 1];
    let mut kept: Vec<T> = points.into_iter().step_by(stride).collect();
    kept.push(last);
    kept
}

/// Setting `index`'s curve for the page, in its colour.
fn setting_curve(plan: &Plan, index: usize, x: Vec<f64>, y: Vec<f64>) -> SettingCurve {
    let c = compare_colour(index);
    SettingCurve {
        name: plan.settings[index].name.clone(),
        colour: format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2),
        x,
        y,
    }
}

/// Draws the four charts from the finished runs of `plan`.
pub fn draw(plan: &Plan, outcomes: &[RunOutcome]) -> anyhow::Result<Vec<Chart>> {
    let mut per_setting: Vec<Vec<(RunTrace, &RunOutcome)>> =
        (0..plan.settings.len()).map(|_| Vec::new()).collect();
    for o in outcomes.iter().filter(|o| o.result.is_ok()) {
        let trace = read_trace(&o.dir.join("trace.csv"))?;
        per_setting[plan.runs[o.run].setting].push((trace, o));
    }
    let longest = per_setting
        .iter()
        .flatten()
        .map(|(t, _)| t.step.len())
        .max()
        .unwrap_or(0);
    if longest == 0 {
        bail!("no run finished a step, so there is nothing to draw");
    }
    let w = smoothing_window(longest);
    let seeds = plan.seeds_per_setting;
    let note = match seeds {
        1 => String::new(),
        n => format!("line: mean over {n} seeds\nband: lowest to highest seed"),
    };
    let failed: Vec<&str> = per_setting
        .iter()
        .zip(&plan.settings)
        .filter(|(runs, _)| runs.is_empty())
        .map(|(_, s)| s.name.as_str())
        .collect();
    let note = if failed.is_empty() {
        note
    } else {
        format!(
            "{note}\nnot drawn (every run failed):\n{}",
            failed.join("\n")
        )
    };

    let series_of = |pick: &dyn Fn(&RunTrace) -> Vec<f64>, smooth: usize| -> Vec<BandSeries> {
        per_setting
            .iter()
            .enumerate()
            .filter(|(_, runs)| !runs.is_empty())
            .map(|(i, runs)| {
                let x = &runs[0].0.step;
                let curves: Vec<Vec<f64>> = runs
                    .iter()
                    .map(|(t, _)| moving_average(&pick(t), smooth))
                    .collect();
                let (line, band) = aggregate(x, &curves);
                BandSeries {
                    name: plan.settings[i].name.clone(),
                    colour: i,
                    line,
                    band,
                }
            })
            .collect()
    };
    let panel = |y_label: String, y_scale, marks, series| BandPanel {
        y_label,
        y_scale,
        marks,
        series,
    };
    let step = "optimizer step";
    // The page's curves: the raw per-step (or per-epoch) mean over seeds of each setting.
    let raw_of = |pick: &dyn Fn(&RunTrace) -> Vec<f64>| -> Vec<SettingCurve> {
        per_setting
            .iter()
            .enumerate()
            .filter(|(_, runs)| !runs.is_empty())
            .map(|(i, runs)| {
                let curves: Vec<Vec<f64>> = runs.iter().map(|(t, _)| pick(t)).collect();
                setting_curve(plan, i, runs[0].0.step.clone(), mean_over_seeds(&curves))
            })
            .collect()
    };
    let per_step = |id, title: &str, y_label: &str, what: &str| Labels {
        id,
        title: title.to_string(),
        x_label: step,
        x_unit: "step",
        y_label: y_label.to_string(),
        what: what.to_string(),
    };
    let mut charts = Vec::new();

    let lr = series_of(&|t| t.lr.clone(), 1);
    let lr_title = "Learning rate per optimizer step";
    charts.push(Chart {
        file: FILES[0],
        svg: band_chart_svg(
            lr_title,
            step,
            &note,
            &[panel(
                "lr (used by the step)".into(),
                YScale::LinearFromZero,
                Marks::Steps,
                lr,
            )],
        )?,
        page: vec![page_chart(
            per_step("lr", lr_title, "lr (used by the step)", "lr"),
            Style {
                log: false,
                scale_switch: false,
                smooth: false,
                stepped: true,
                dots: false,
                from_zero: true,
            },
            &raw_of(&|t| t.lr.clone()),
        )],
    });

    let loss = series_of(&|t| t.loss.clone(), w);
    let loss_title = format!("Train loss per optimizer step (moving average of {w} steps)");
    let noisy = Style {
        log: true,
        scale_switch: true,
        smooth: true,
        stepped: false,
        dots: false,
        from_zero: false,
    };
    charts.push(Chart {
        file: FILES[1],
        svg: band_chart_svg(
            &loss_title,
            step,
            &note,
            &[panel(
                format!("train loss (cross-entropy, {w}-step moving avg, log)"),
                YScale::Log,
                Marks::Line,
                loss,
            )],
        )?,
        page: vec![page_chart(
            per_step(
                "train_loss",
                "Train loss per optimizer step",
                "train loss (cross-entropy)",
                "train loss",
            ),
            noisy,
            &raw_of(&|t| t.loss.clone()),
        )],
    });

    let finished_metrics =
        |runs: &[(RunTrace, &RunOutcome)]| -> Vec<Vec<crate::outputs::EpochMetrics>> {
            runs.iter()
                .filter_map(|(_, o)| o.result.as_ref().ok().cloned())
                .collect()
        };
    let accuracy: Vec<BandSeries> = per_setting
        .iter()
        .enumerate()
        .filter(|(_, runs)| !runs.is_empty())
        .map(|(i, runs)| {
            let metrics = finished_metrics(runs);
            let x: Vec<f64> = metrics[0].iter().map(|m| m.epoch as f64).collect();
            let curves: Vec<Vec<f64>> = metrics
                .iter()
                .map(|m| m.iter().map(|r| r.test_accuracy).collect())
                .collect();
            let (line, band) = aggregate(&x, &curves);
            BandSeries {
                name: plan.settings[i].name.clone(),
                colour: i,
                line,
                band,
            }
        })
        .collect();
    let accuracy_raw: Vec<SettingCurve> = per_setting
        .iter()
        .enumerate()
        .filter(|(_, runs)| !runs.is_empty())
        .map(|(i, runs)| {
            let metrics = finished_metrics(runs);
            let x: Vec<f64> = metrics[0].iter().map(|m| m.epoch as f64).collect();
            let curves: Vec<Vec<f64>> = metrics
                .iter()
                .map(|m| m.iter().map(|r| r.test_accuracy).collect())
                .collect();
            setting_curve(plan, i, x, mean_over_seeds(&curves))
        })
        .collect();
    charts.push(Chart {
        file: FILES[2],
        svg: band_chart_svg(
            "Test accuracy per epoch (10,000 test images, after each epoch)",
            "epoch",
            &note,
            &[panel(
                "test accuracy (%)".into(),
                YScale::Linear,
                Marks::LineAndDots,
                accuracy,
            )],
        )?,
        page: vec![page_chart(
            Labels {
                id: "test_accuracy",
                title: "Test accuracy per epoch (10,000 test images)".to_string(),
                x_label: "epoch",
                x_unit: "epoch",
                y_label: "test accuracy (%)".to_string(),
                what: "test accuracy".to_string(),
            },
            Style {
                log: false,
                scale_switch: false,
                smooth: false,
                stepped: false,
                dots: true,
                from_zero: false,
            },
            &accuracy_raw,
        )],
    });

    let ratio_panels: Vec<BandPanel> = RATIO_LAYERS
        .iter()
        .enumerate()
        .map(|(k, layer)| {
            panel(
                format!("{layer} update/weight norm ({w}-step avg, log)"),
                YScale::Log,
                Marks::Line,
                series_of(&|t| t.ratio[k].clone(), w),
            )
        })
        .collect();
    let ratio_title = format!(
        "Update-to-weight norm ratio ||lr·d|| / ||w|| per step (moving average of {w} steps)"
    );
    let ratio_pages = RATIO_LAYERS
        .iter()
        .enumerate()
        .map(|(k, layer)| {
            page_chart(
                per_step(
                    RATIO_IDS[k],
                    &format!("{layer}: update-to-weight norm ratio ||lr·d|| / ||w|| per step"),
                    &format!("{layer} ||lr·d|| / ||w||"),
                    &format!("{layer} update ratio"),
                ),
                noisy,
                &raw_of(&|t| t.ratio[k].clone()),
            )
        })
        .collect();
    charts.push(Chart {
        file: FILES[3],
        svg: band_chart_svg(&ratio_title, step, &note, &ratio_panels)?,
        page: ratio_pages,
    });
    Ok(charts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_average_is_trailing_and_starts_short() {
        let y = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(moving_average(&y, 2), [1.0, 1.5, 2.5, 3.5, 4.5]);
        assert_eq!(moving_average(&y, 1), y);
        assert_eq!(moving_average(&y, 10), [1.0, 1.5, 2.0, 2.5, 3.0]);
    }

    #[test]
    fn aggregate_is_mean_and_min_max_up_to_the_shortest_curve() {
        let x = [1.0, 2.0, 3.0];
        let (line, band) = aggregate(&x, &[vec![1.0, 4.0, 9.0], vec![3.0, 2.0]]);
        assert_eq!(line, [(1.0, 2.0), (2.0, 3.0)]);
        assert_eq!(band, [(1.0, 1.0, 3.0), (2.0, 2.0, 4.0)]);
        let (line, band) = aggregate(&x, &[vec![1.0, 4.0, 9.0]]);
        assert_eq!(line.len(), 3);
        assert!(band.is_empty(), "one seed has no band");
    }

    #[test]
    fn long_curves_are_thinned_keeping_the_ends() {
        let points: Vec<usize> = (0..2500).collect();
        let kept = thin(points);
        assert!(kept.len() <= MAX_POINTS + 1);
        assert_eq!(kept[0], 0);
        assert_eq!(*kept.last().unwrap(), 2499);
    }
}
