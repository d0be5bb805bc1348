//! What the report page's interactive charts draw: per chart, one x column shared by every
//! setting and one y column per setting (the mean over its seeds, `null` where it has no
//! point), serialised as JSON into `report.html` for its script (`assets/report.js`), with the
//! sentences saying which curves coincide ([`super::coincide`]).
//!
//! The page gets the raw per-step values, not the SVG's moving average: it smooths them itself
//! with a slider. Past [`PAGE_MAX_POINTS`] steps, points are merged in even buckets (the mean
//! of the bucket, or its first value for a stepped curve such as the lr, whose steps must stay
//! sharp), which keeps a 100-epoch comparison's page a few megabytes.

use serde::Serialize;

use super::coincide;

/// At most this many points per chart on the page.
pub const PAGE_MAX_POINTS: usize = 4000;

/// One interactive chart (the field names are the script's).
#[derive(Debug, Clone, Serialize)]
pub struct PageChart {
    /// The element id and the key the browser test finds the chart by.
    pub id: &'static str,
    /// The heading above the chart.
    pub title: String,
    /// The x axis label.
    pub x_label: &'static str,
    /// The y axis label.
    pub y_label: String,
    /// How the chart is drawn.
    #[serde(flatten)]
    pub style: Style,
    /// The x values shared by every series, ascending.
    pub x: Vec<f64>,
    /// One series per setting that has points, in setting order.
    pub series: Vec<PageSeries>,
    /// Which curves coincide, one sentence each (shown under the chart).
    pub notes: Vec<String>,
}

/// How a [`PageChart`] is drawn and what the reader may change.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Style {
    /// The y axis the page opens with: a log axis (`true`) or a linear one.
    pub log: bool,
    /// The reader may switch the y axis between log and linear.
    pub scale_switch: bool,
    /// The smoothing slider applies (noisy per-step curves).
    pub smooth: bool,
    /// Drawn as steps: the value holds from one point until the next (the lr of each step).
    pub stepped: bool,
    /// A dot at every point (few points, one per epoch).
    pub dots: bool,
    /// A linear y axis that starts at 0, so that a small change does not look large.
    pub from_zero: bool,
}

/// One setting's curve on the page.
#[derive(Debug, Clone, Serialize)]
pub struct PageSeries {
    /// The setting's name (the legend entry).
    pub name: String,
    /// Its colour, the same as in the SVGs (`#rrggbb`).
    pub colour: String,
    /// One value per x (`null` where the setting has no point or the value is not finite).
    pub y: Vec<Option<f64>>,
}

/// One setting's raw curve, before alignment with the others.
pub struct SettingCurve {
    /// The setting's name.
    pub name: String,
    /// Its colour (`#rrggbb`).
    pub colour: String,
    /// Its x values (steps or epochs), ascending.
    pub x: Vec<f64>,
    /// Its y values, one per x (the mean over seeds).
    pub y: Vec<f64>,
}

/// What a chart shows, for its heading and its coincidence notes.
pub struct Labels {
    /// The element id.
    pub id: &'static str,
    /// The heading.
    pub title: String,
    /// The x axis label.
    pub x_label: &'static str,
    /// The unit of x in a sentence ("step", "epoch").
    pub x_unit: &'static str,
    /// The y axis label.
    pub y_label: String,
    /// The quantity in a sentence ("lr", "train loss").
    pub what: String,
}

/// Aligns the settings' curves on one x column, says which coincide (on every point, before
/// any merging), and merges points past [`PAGE_MAX_POINTS`].
pub fn page_chart(labels: Labels, style: Style, curves: &[SettingCurve]) -> PageChart {
    let mut x: Vec<f64> = curves.iter().flat_map(|c| c.x.iter().copied()).collect();
    x.sort_by(f64::total_cmp);
    x.dedup();
    let aligned: Vec<Vec<Option<f64>>> = curves
        .iter()
        .map(|c| {
            let mut y = vec![None; x.len()];
            let mut at = 0;
            for (&cx, &cy) in c.x.iter().zip(&c.y) {
                while at < x.len() && x[at] < cx {
                    at += 1;
                }
                if at < x.len() && x[at] == cx {
                    y[at] = cy.is_finite().then_some(cy);
                }
            }
            y
        })
        .collect();
    let names: Vec<&str> = curves.iter().map(|c| c.name.as_str()).collect();
    let notes = coincide::notes(&names, &x, &aligned, &labels.what, labels.x_unit);
    let stride = x.len().div_ceil(PAGE_MAX_POINTS).max(1);
    let series = curves
        .iter()
        .zip(aligned)
        .map(|(c, y)| PageSeries {
            name: c.name.clone(),
            colour: c.colour.clone(),
            y: merge(&y, stride, style.stepped),
        })
        .collect();
    PageChart {
        id: labels.id,
        title: labels.title,
        x_label: labels.x_label,
        y_label: labels.y_label,
        style,
        x: x.iter().step_by(stride).copied().collect(),
        series,
        notes,
    }
}

/// Every `stride` points become one: the first present value (`first`), else the mean of the
/// present values; `None` for a bucket with none.
fn merge(y: &[Option<f64>], stride: usize, first: bool) -> Vec<Option<f64>> {
    if stride == 1 {
        return y.to_vec();
    }
    y.chunks(stride)
        .map(|bucket| {
            let present: Vec<f64> = bucket.iter().flatten().copied().collect();
            match (present.first(), first) {
                (None, _) => None,
                (Some(&v), true) => Some(v),
                (Some(_), false) => Some(present.iter().sum::<f64>() / present.len() as f64),
            }
        })
        .collect()
}

/// The mean over seeds at each point, up to the shortest seed's curve; NaN where a seed's value
/// is not finite (drawn as a gap).
pub fn mean_over_seeds(curves: &[Vec<f64>]) -> Vec<f64> {
    let n = curves.iter().map(Vec::len).min().unwrap_or(0);
    (0..n)
        .map(|i| {
            let values = curves.iter().map(|c| c[i]);
            if values.clone().all(f64::is_finite) {
                values.sum::<f64>() / curves.len() as f64
            } else {
                f64::NAN
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STYLE: Style = Style {
        log: false,
        scale_switch: false,
        smooth: false,
        stepped: true,
        dots: false,
        from_zero: true,
    };

    fn labels() -> Labels {
        Labels {
            id: "lr",
            title: "t".into(),
            x_label: "optimizer step",
            x_unit: "step",
            y_label: "lr".into(),
            what: "lr".into(),
        }
    }

    fn curve(name: &str, x: &[f64], y: &[f64]) -> SettingCurve {
        SettingCurve {
            name: name.into(),
            colour: "#000000".into(),
            x: x.to_vec(),
            y: y.to_vec(),
        }
    }

    #[test]
    fn curves_of_different_lengths_share_one_x_column_with_gaps() {
        let chart = page_chart(
            labels(),
            STYLE,
            &[
                curve("long", &[1.0, 2.0, 3.0], &[0.1, 0.2, 0.3]),
                curve("short", &[2.0, 3.0], &[f64::NAN, 0.5]),
            ],
        );
        assert_eq!(chart.x, [1.0, 2.0, 3.0]);
        assert_eq!(chart.series[0].y, [Some(0.1), Some(0.2), Some(0.3)]);
        assert_eq!(chart.series[1].y, [None, None, Some(0.5)]);
        let json = serde_json::to_string(&chart).unwrap();
        assert!(json.contains("\"y\":[null,null,0.5]"), "{json}");
        assert!(json.contains("\"stepped\":true"), "{json}");
    }

    #[test]
    fn long_curves_are_merged_to_bucket_means_or_first_values() {
        let n = 3 * PAGE_MAX_POINTS;
        let x: Vec<f64> = (1..=n).map(|s| s as f64).collect();
        let y: Vec<f64> = (1..=n).map(|s| s as f64).collect();
        let stepped = page_chart(labels(), STYLE, &[curve("a", &x, &y)]);
        assert_eq!(stepped.x.len(), PAGE_MAX_POINTS);
        assert_eq!(stepped.x[1], 4.0);
        assert_eq!(stepped.series[0].y[1], Some(4.0));
        let smooth = Style {
            stepped: false,
            ..STYLE
        };
        let averaged = page_chart(labels(), smooth, &[curve("a", &x, &y)]);
        assert_eq!(averaged.series[0].y[1], Some(5.0)); // mean of 4, 5, 6
    }

    #[test]
    fn the_mean_over_seeds_stops_at_the_shortest_and_marks_non_finite() {
        let m = mean_over_seeds(&[vec![1.0, 2.0, 3.0], vec![3.0, f64::INFINITY]]);
        assert_eq!(m[0], 2.0);
        assert!(m[1].is_nan());
        assert_eq!(m.len(), 2);
    }
}
