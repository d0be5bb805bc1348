//! Small SVG step charts (plotters) of per-step values such as a schedule's lr: one or more
//! panels stacked vertically, each with axes, axis labels and one line per series in a
//! colour-blind-friendly palette (a legend when a panel has several; one series is named by
//! its axis label). Each value holds until the next step, so the lines are drawn as steps
//! ([`steps`]: across, then down or up), and a y axis of non-negative values starts at 0, so a
//! 4% decay looks like 4%.
//! The file is written whole (a temporary file and a rename, [`crate::outputs::write_atomic`]),
//! so a failed run never leaves a half-written chart.
//!
//! Used by `trainer schedule` (lr, and momentum when it varies); the comparison's charts, with
//! seed bands and log axes, are in `compare/band_charts.rs` and share [`tick`] and
//! [`padded_range`].

use std::path::Path;

use anyhow::bail;
use plotters::prelude::*;

/// One named curve: (x, y) points in drawing order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend label.
    pub name: String,
    /// The points; non-finite points are an error.
    pub points: Vec<(f64, f64)>,
}

/// One chart panel: its own y axis and series (the x axis label is shared).
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// The y-axis label.
    pub y_label: String,
    /// The curves drawn in this panel.
    pub series: Vec<Series>,
}

/// The Okabe–Ito palette (readable for colour-blind readers), then black.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

const WIDTH: u32 = 900;
const PANEL_HEIGHT: u32 = 420;

/// Draw `series` as lines on one chart with a title, axis labels and a legend, to `path` (SVG).
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> anyhow::Result<()> {
    let panel = Panel {
        y_label: y_label.to_string(),
        series: series.to_vec(),
    };
    stacked_charts(path, title, x_label, &[panel])
}

/// Draw several panels stacked vertically under one title, sharing the x-axis label.
pub fn stacked_charts(
    path: &Path,
    title: &str,
    x_label: &str,
    panels: &[Panel],
) -> anyhow::Result<()> {
    if panels.is_empty()
        || panels
            .iter()
            .any(|p| p.series.iter().all(|s| s.points.is_empty()))
    {
        bail!(
            "cannot draw {}: a chart panel has no points",
            path.display()
        );
    }
    for panel in panels {
        for s in &panel.series {
            if let Some((x, y)) = s
                .points
                .iter()
                .find(|(x, y)| !x.is_finite() || !y.is_finite())
            {
                bail!(
                    "cannot draw {}: series `{}` has a non-finite point ({x}, {y})",
                    path.display(),
                    s.name
                );
            }
        }
    }
    let svg = render(title, x_label, panels)?;
    crate::outputs::write_atomic(path, svg.as_bytes())
}

fn render(title: &str, x_label: &str, panels: &[Panel]) -> anyhow::Result<String> {
    let mut svg = String::new();
    let height = PANEL_HEIGHT * panels.len() as u32 + 40;
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let root = root.titled(title, ("sans-serif", 22)).map_err(plot_error)?;
        let areas = root.split_evenly((panels.len(), 1));
        for (area, panel) in areas.iter().zip(panels) {
            draw_panel(area, x_label, panel)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    x_label: &str,
    panel: &Panel,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let points = || panel.series.iter().flat_map(|s| s.points.iter().copied());
    let (x_min, x_max) = padded_range(points().map(|p| p.0), 0.0);
    let legend = panel.series.len() > 1;
    let (y_min, y_max) = match from_zero(points().map(|p| p.1)) {
        // Room above the lines for the legend, so that it hides none of them.
        Some(top) if legend => (0.0, top * 1.2),
        Some(top) => (0.0, top),
        None => padded_range(points().map(|p| p.1), 0.05),
    };
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_right(24)
        .x_label_area_size(45)
        .y_label_area_size(90)
        .build_cartesian_2d(x_min..x_max, y_min..y_max)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(panel.y_label.as_str())
        .x_label_formatter(&|v| tick(snap_to_zero(*v, x_max - x_min)))
        .y_label_formatter(&|v| tick(snap_to_zero(*v, y_max - y_min)))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(plot_error)?;
    for (i, s) in panel.series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(steps(&s.points), colour.stroke_width(2)))
            .map_err(plot_error)?
            .label(s.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    if legend {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 15))
            .margin(12)
            .legend_area_size(30)
            .background_style(WHITE.mix(0.85))
            .border_style(TRANSPARENT)
            .draw()
            .map_err(plot_error)?;
    }
    Ok(())
}

/// The points of a step line through `points`: each value held until the next point's x, then
/// a vertical jump (`(0, a) (1, b)` becomes `(0, a) (1, a) (1, b)`), so a schedule that changes
/// once per epoch shows flat stretches and sharp cuts, not slopes.
pub fn steps(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for (i, &(x, y)) in points.iter().enumerate() {
        if i > 0 {
            let (_, before) = points[i - 1];
            if before != y {
                out.push((x, before));
            }
        }
        out.push((x, y));
    }
    out
}

/// The top of a y axis from 0 (5% above the highest value, 1 for all zeros), when every value
/// is at least 0; `None` when some value is negative.
pub fn from_zero(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut top = 0.0f64;
    for v in values {
        if v < 0.0 {
            return None;
        }
        top = top.max(v);
    }
    Some(if top > 0.0 { top * 1.05 } else { 1.0 })
}

/// Min and max of `values`, widened by `pad` of the span (or ±half a unit of scale when flat).
pub fn padded_range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo == hi {
        let half = if lo == 0.0 { 1.0 } else { lo.abs() * 0.5 };
        lo -= half;
        hi += half;
    } else {
        let span = hi - lo;
        lo -= span * pad;
        hi += span * pad;
    }
    (lo, hi)
}

/// A tick at `lo + k * step` that should be 0 comes out as rounding noise (`-1.7e-18`); anything
/// a billionth of the axis span from zero is zero.
fn snap_to_zero(v: f64, span: f64) -> f64 {
    if v.abs() <= span.abs() * 1e-9 {
        0.0
    } else {
        v
    }
}

/// Axis tick text: plain decimals, scientific notation for very small or large magnitudes.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.2e}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".to_string()
        } else {
            s.to_string()
        }
    }
}

/// A plotters drawing error as an `anyhow` error.
pub fn plot_error<E: std::error::Error + Send + Sync + 'static>(
    e: DrawingAreaErrorKind<E>,
) -> anyhow::Error {
    anyhow::anyhow!("drawing the chart failed: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short_and_readable() {
        assert_eq!(tick(0.1), "0.1");
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(12.0), "12");
        assert_eq!(tick(0.00004), "4.00e-5");
        assert_eq!(tick(-0.0143), "-0.0143");
        assert_eq!(tick(snap_to_zero(-1.73e-18, 0.1)), "0");
        assert_eq!(tick(snap_to_zero(4e-5, 1e-4)), "4.00e-5");
    }

    #[test]
    fn steps_hold_each_value_until_the_next_point() {
        let line = steps(&[(0.0, 0.1), (1.0, 0.1), (2.0, 0.096), (3.0, 0.096)]);
        assert_eq!(
            line,
            [
                (0.0, 0.1),
                (1.0, 0.1),
                (2.0, 0.1),
                (2.0, 0.096),
                (3.0, 0.096)
            ]
        );
        assert!(steps(&[]).is_empty());
    }

    #[test]
    fn non_negative_axes_start_at_zero() {
        assert_eq!(
            from_zero([0.1, 0.096].into_iter()),
            Some(0.10500000000000001)
        );
        assert_eq!(from_zero([0.0].into_iter()), Some(1.0));
        assert_eq!(from_zero([-0.1, 1.0].into_iter()), None);
    }

    #[test]
    fn flat_ranges_are_widened() {
        assert_eq!(
            padded_range([0.1, 0.1].into_iter(), 0.05),
            (0.05, 0.15000000000000002)
        );
        assert_eq!(padded_range([0.0].into_iter(), 0.05), (-1.0, 1.0));
        let (lo, hi) = padded_range([0.0, 10.0].into_iter(), 0.1);
        assert_eq!((lo, hi), (-1.0, 11.0));
    }
}
