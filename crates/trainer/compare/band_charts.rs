//! The comparison's chart drawing (`trainer compare`, `trainer report`): one line per setting in
//! a colour fixed by the caller, an optional band (the spread over seeds), linear or log y axes,
//! and the legend in its own column to the right so it never hides a curve.

use anyhow::bail;
use plotters::prelude::*;

use crate::plot::{from_zero, padded_range, plot_error, steps, tick};

/// The y axis of a [`BandPanel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YScale {
    /// Evenly spaced values.
    Linear,
    /// Evenly spaced values from 0 (when no value is negative), so that a small change looks
    /// small: the lr.
    LinearFromZero,
    /// Evenly spaced powers of ten (non-positive points are left out).
    Log,
}

/// How each point of a [`BandSeries`] line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marks {
    /// A line only (many points, e.g. one per optimizer step).
    Line,
    /// Steps: each value held until the next point, then a vertical jump (a per-step value
    /// such as the lr, whose cuts are sharp).
    Steps,
    /// A line and a dot at every point (few points, e.g. one per epoch; a single point shows).
    LineAndDots,
}

/// One setting's curve: a centre line and, when it was run with several seeds, a band.
#[derive(Debug, Clone, PartialEq)]
pub struct BandSeries {
    /// The legend label.
    pub name: String,
    /// Index into the comparison palette; the caller keeps it fixed per setting so a setting has
    /// the same colour on every chart.
    pub colour: usize,
    /// The centre line (x, y), e.g. the mean over seeds.
    pub line: Vec<(f64, f64)>,
    /// The band (x, low, high), e.g. min and max over seeds; empty for no band.
    pub band: Vec<(f64, f64, f64)>,
}

/// One panel of a comparison chart.
#[derive(Debug, Clone, PartialEq)]
pub struct BandPanel {
    /// The y-axis label (with units).
    pub y_label: String,
    /// Linear or logarithmic y axis.
    pub y_scale: YScale,
    /// Line only, or line and dots.
    pub marks: Marks,
    /// The curves (one per setting).
    pub series: Vec<BandSeries>,
}

/// The comparison palette: Okabe–Ito without its yellow (too pale on white), then five of Paul
/// Tol's darker colours; a 13th setting reuses the first colour.
const COMPARE_PALETTE: [RGBColor; 12] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(136, 34, 85),
    RGBColor(153, 153, 51),
    RGBColor(51, 34, 136),
    RGBColor(68, 170, 153),
    RGBColor(204, 102, 119),
];

/// The colour of palette entry `index` (wrapping around).
pub fn compare_colour(index: usize) -> RGBColor {
    COMPARE_PALETTE[index % COMPARE_PALETTE.len()]
}

const BAND_WIDTH: u32 = 1100;
const LEGEND_WIDTH: u32 = 330;
const BAND_PANEL_HEIGHT: u32 = 380;

/// Renders panels stacked vertically under one title, sharing the x-axis label, with one legend
/// (every series name once, in its colour) in a column on the right and `note` under it.
/// Returns the SVG text.
pub fn band_chart_svg(
    title: &str,
    x_label: &str,
    note: &str,
    panels: &[BandPanel],
) -> anyhow::Result<String> {
    if panels.is_empty() {
        bail!("cannot draw `{title}`: no panels");
    }
    for panel in panels {
        if panel
            .series
            .iter()
            .all(|s| visible(panel, s).next().is_none())
        {
            bail!(
                "cannot draw `{title}`: the panel `{}` has no points",
                panel.y_label
            );
        }
        for s in &panel.series {
            let bad_line = s
                .line
                .iter()
                .find(|(x, y)| !x.is_finite() || !y.is_finite());
            let bad_band = s
                .band
                .iter()
                .find(|(x, lo, hi)| !x.is_finite() || !lo.is_finite() || !hi.is_finite());
            if bad_line.is_some() || bad_band.is_some() {
                bail!(
                    "cannot draw `{title}`: series `{}` has a non-finite point",
                    s.name
                );
            }
        }
    }
    let mut legend: Vec<(&str, usize)> = Vec::new();
    for s in panels.iter().flat_map(|p| &p.series) {
        if !legend.iter().any(|(name, _)| *name == s.name) {
            legend.push((&s.name, s.colour));
        }
    }

    let mut svg = String::new();
    {
        let height = BAND_PANEL_HEIGHT * panels.len() as u32 + 50;
        let root = SVGBackend::with_string(&mut svg, (BAND_WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let root = root.titled(title, ("sans-serif", 24)).map_err(plot_error)?;
        let (plots, legend_area) = root.split_horizontally(BAND_WIDTH - LEGEND_WIDTH);
        let areas = plots.split_evenly((panels.len(), 1));
        for (area, panel) in areas.iter().zip(panels) {
            let points = || panel.series.iter().flat_map(|s| visible(panel, s));
            let (x_min, x_max) = padded_range(points().map(|p| p.0), 0.02);
            let (y_min, y_max) = padded_range(points().map(|p| p.1), 0.05);
            let builder = || {
                let mut b = ChartBuilder::on(area);
                b.margin(12).x_label_area_size(45).y_label_area_size(90);
                b
            };
            match panel.y_scale {
                YScale::LinearFromZero => {
                    let top = from_zero(points().map(|p| p.1)).unwrap_or(y_max);
                    let bottom = if top == y_max { y_min } else { 0.0 };
                    let chart = builder()
                        .build_cartesian_2d(x_min..x_max, bottom..top)
                        .map_err(plot_error)?;
                    draw_band_panel(chart, x_label, panel)?;
                }
                YScale::Linear => {
                    let chart = builder()
                        .build_cartesian_2d(x_min..x_max, y_min..y_max)
                        .map_err(plot_error)?;
                    draw_band_panel(chart, x_label, panel)?;
                }
                YScale::Log => {
                    let (lo, hi) = log_range(points().map(|p| p.1));
                    let y = (lo..hi).log_scale().with_key_points(log_ticks(lo, hi));
                    let chart = builder()
                        .build_cartesian_2d(x_min..x_max, y)
                        .map_err(plot_error)?;
                    draw_band_panel(chart, x_label, panel)?;
                }
            }
        }
        draw_legend(&legend_area, &legend, note)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// The points of `s` that the panel's y axis can show (all of them, or the positive ones on a
/// log axis), band edges included.
fn visible<'a>(panel: &BandPanel, s: &'a BandSeries) -> impl Iterator<Item = (f64, f64)> + 'a {
    let log = panel.y_scale == YScale::Log;
    let band = s.band.iter().flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]);
    s.line
        .iter()
        .copied()
        .chain(band)
        .filter(move |&(_, y)| !log || y > 0.0)
}

/// Log-axis tick text: plain decimals from 0.001 up, else one significant digit (`1e-4`,
/// `3e-5`; plotters puts log ticks on 1..9 times a power of ten).
fn log_tick(v: f64) -> String {
    if (1e-3..1e5).contains(&v.abs()) {
        tick(v)
    } else {
        format!("{v:.0e}")
    }
}

/// A log axis range a little beyond the positive `values` (a tenth of their span in log
/// terms, at least 10% each side): not widened to whole decades, which with less than a decade
/// of data would leave most of the panel empty. Its labelled ticks come from [`log_ticks`].
fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo.is_finite() && hi.is_finite() {
        let pad = (hi / lo).powf(0.1).max(1.1);
        (lo / pad, hi * pad)
    } else {
        (0.1, 10.0)
    }
}

/// The labelled ticks of a log axis over `lo..hi`: the powers of ten in it when there are at
/// least three, else 1, 2 and 5 times them, else 1 to 9 times them, else five evenly spaced
/// (in log terms) values, so that less than a decade still gets a handful of labels.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    for mantissas in [
        &[1.0][..],
        &[1.0, 2.0, 5.0],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ] {
        let ticks: Vec<f64> = (first..=last)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| (lo..=hi).contains(v))
            .collect();
        if ticks.len() >= 3 {
            return ticks;
        }
    }
    (0..5)
        .map(|k| lo * (hi / lo).powf(f64::from(k) / 4.0))
        .collect()
}

fn draw_band_panel<DB, Y>(
    mut chart: ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    x_label: &str,
    panel: &BandPanel,
) -> anyhow::Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let log = panel.y_scale == YScale::Log;
    let dots = panel.marks == Marks::LineAndDots;
    // Dots stand for whole units (epochs): label only whole numbers, at most 11 of them.
    let x_range = chart.x_range();
    let whole = (x_range.end.floor() - x_range.start.ceil()).max(0.0) as usize + 1;
    let x_format = |v: &f64| match dots && v.fract() != 0.0 {
        true => String::new(),
        false => tick(*v),
    };
    let y_format = |v: &f64| if log { log_tick(*v) } else { tick(*v) };
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(panel.y_label.as_str())
        .x_labels(if dots { whole.min(11) } else { 11 })
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(plot_error)?;
    let keep = |y: f64| !log || y > 0.0;
    // Bands first, so that every line is drawn over every band.
    for s in &panel.series {
        let band: Vec<(f64, f64, f64)> = s
            .band
            .iter()
            .copied()
            .filter(|&(_, lo, hi)| keep(lo) && keep(hi))
            .collect();
        if band.len() < 2 {
            continue;
        }
        let outline: Vec<(f64, f64)> = band
            .iter()
            .map(|&(x, _, hi)| (x, hi))
            .chain(band.iter().rev().map(|&(x, lo, _)| (x, lo)))
            .collect();
        let fill = compare_colour(s.colour).mix(0.2).filled();
        chart
            .draw_series(std::iter::once(Polygon::new(outline, fill)))
            .map_err(plot_error)?;
    }
    // Earlier series are drawn wider, so a line hidden under a later identical one (settings
    // that share a schedule, say) still shows as a rim around it.
    let n = panel.series.len();
    for (i, s) in panel.series.iter().enumerate() {
        let colour = compare_colour(s.colour);
        let width = 2 + (2 * (n - 1 - i) / n.saturating_sub(1).max(1)) as u32;
        let line: Vec<(f64, f64)> = s.line.iter().copied().filter(|&(_, y)| keep(y)).collect();
        let drawn = match panel.marks {
            Marks::Steps => steps(&line),
            Marks::Line | Marks::LineAndDots => line.clone(),
        };
        chart
            .draw_series(LineSeries::new(drawn, colour.stroke_width(width)))
            .map_err(plot_error)?;
        if panel.marks == Marks::LineAndDots {
            chart
                .draw_series(line.iter().map(|&p| Circle::new(p, 4, colour.filled())))
                .map_err(plot_error)?;
            // The band as a whisker at every dot too: with one epoch there is no area to fill.
            let whiskers = s
                .band
                .iter()
                .filter(|&&(_, lo, hi)| keep(lo) && keep(hi))
                .map(|&(x, lo, hi)| {
                    PathElement::new(vec![(x, lo), (x, hi)], colour.stroke_width(2))
                });
            chart.draw_series(whiskers).map_err(plot_error)?;
        }
    }
    Ok(())
}

/// The legend column: a title, one entry per series (a short thick line in its colour and its
/// name), and a note under it.
fn draw_legend<DB>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[(&str, usize)],
    note: &str,
) -> anyhow::Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let top = 24;
    let title_font = ("sans-serif", 18).into_font().style(FontStyle::Bold);
    area.draw(&Text::new("settings", (10, top), title_font))
        .map_err(plot_error)?;
    let mut y = top + 36;
    for (name, colour) in entries {
        let sample = PathElement::new(
            vec![(10, y), (40, y)],
            compare_colour(*colour).stroke_width(5),
        );
        area.draw(&sample).map_err(plot_error)?;
        area.draw(&Text::new(
            name.to_string(),
            (48, y - 7),
            ("sans-serif", 17),
        ))
        .map_err(plot_error)?;
        y += 26;
    }
    let note_font = ("sans-serif", 15).into_font().color(&RGBColor(80, 80, 80));
    for line in note.lines() {
        y += 4;
        area.draw(&Text::new(line.to_string(), (10, y), note_font.clone()))
            .map_err(plot_error)?;
        y += 16;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, colour: usize, line: Vec<(f64, f64)>) -> BandSeries {
        BandSeries {
            name: name.to_string(),
            colour,
            line,
            band: Vec::new(),
        }
    }

    #[test]
    fn log_ticks_and_ranges_are_readable() {
        assert_eq!(log_tick(1e-4), "1e-4");
        assert_eq!(log_tick(3.0000000000000004e-5), "3e-5");
        assert_eq!(log_tick(0.02), "0.02");
        // The range hugs the data; non-positive values are left out.
        let (lo, hi) = log_range([0.0035, 0.06, 0.0, -1.0].into_iter());
        assert!(
            lo > 0.002 && lo < 0.0035 && hi > 0.06 && hi < 0.12,
            "{lo} {hi}"
        );
        // Less than a decade (the update ratio late in a run): 1-2-5 or 1..9 ticks, not one.
        assert_eq!(log_ticks(0.0008, 0.012), [0.001, 0.002, 0.005, 0.01]);
        assert_eq!(log_ticks(0.0021, 0.0062), [0.003, 0.004, 0.005, 0.006]);
        assert_eq!(log_ticks(1e-5, 2.0), [1e-5, 1e-4, 1e-3, 0.01, 0.1, 1.0]);
        let close = log_ticks(0.00301, 0.00309);
        assert_eq!(close.len(), 5);
        assert!((close[0] - 0.00301).abs() < 1e-12 && (close[4] - 0.00309).abs() < 1e-12);
    }

    #[test]
    fn the_palette_has_twelve_distinct_colours() {
        for i in 0..12 {
            for j in 0..i {
                assert_ne!(compare_colour(i), compare_colour(j));
            }
        }
        assert_eq!(compare_colour(12), compare_colour(0));
    }

    #[test]
    fn empty_and_non_finite_panels_are_errors() {
        let panel = |series| BandPanel {
            y_label: "y".into(),
            y_scale: YScale::Log,
            marks: Marks::Line,
            series,
        };
        // On a log axis, non-positive points cannot be shown: nothing to draw.
        let err = band_chart_svg(
            "t",
            "x",
            "",
            &[panel(vec![series("a", 0, vec![(1.0, 0.0)])])],
        );
        assert!(err.unwrap_err().to_string().contains("no points"));
        let err = band_chart_svg(
            "t",
            "x",
            "",
            &[panel(vec![series(
                "a",
                0,
                vec![(1.0, f64::NAN), (2.0, 1.0)],
            )])],
        );
        assert!(err.unwrap_err().to_string().contains("`a`"));
        let svg = band_chart_svg(
            "t",
            "x",
            "",
            &[panel(vec![series("a", 0, vec![(1.0, 0.5)])])],
        )
        .unwrap();
        assert!(svg.starts_with("<svg") && svg.contains(">\na\n</text>"));
    }
}
