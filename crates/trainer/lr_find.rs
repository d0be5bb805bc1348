//! The learning-rate range test (Smith 2015, "Cyclical Learning Rates"; fastai's `lr_find`,
//! Lightning's `Tuner.lr_find`): the arithmetic, apart from the training it drives.
//!
//! ```text
//! lr_i     = start · (end / start)^(i / (N − 1))                 i = 0 .. N−1, exponential
//! avg_i    = β·avg_(i−1) + (1 − β)·loss_i,  avg_(−1) = 0          β = 0.98 (fastai)
//! smooth_i = avg_i / (1 − β^(i+1))                                bias-corrected, as fastai
//! stop after step i if smooth_i > 4 · min(smooth_0 .. smooth_i)   (fastai's divergence rule)
//!           or the loss is not finite
//! suggest  = lr at argmin of gradient(smooth[10 .. len−1])        (Lightning's "steepest")
//! ```
//! `gradient` is NumPy's: central differences inside, one-sided at both ends. Lightning skips
//! the first 10 points (the smoothing has not settled) and the last one (where the run stopped).
//!
//! Powers come from the `libm` crate, so the lrs are the same bits on every CPU.

/// fastai's smoothing factor.
pub const BETA: f64 = 0.98;
/// fastai stops once the smoothed loss exceeds this multiple of its lowest value so far.
pub const DIVERGENCE_FACTOR: f64 = 4.0;
/// Lightning's `skip_begin`: points left out at the start when suggesting an lr.
pub const SKIP_BEGIN: usize = 10;
/// Lightning's `skip_end`: points left out at the end.
pub const SKIP_END: usize = 1;

/// The lr of step `i` (0-based) of `steps`, growing exponentially from `start` to `end`.
pub fn lr_at(start: f64, end: f64, steps: u64, i: u64) -> f64 {
    if steps < 2 {
        return start;
    }
    start * libm::pow(end / start, i as f64 / (steps - 1) as f64)
}

/// One recorded step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// 1-based step number.
    pub step: u64,
    /// The lr the step used.
    pub lr: f64,
    /// The batch loss (before the update).
    pub loss: f64,
    /// The bias-corrected moving average of the losses up to this step.
    pub smoothed: f64,
}

/// The running state of a range test: smoothing, best smoothed loss, and the stop rule.
#[derive(Debug, Clone, Default)]
pub struct RangeTest {
    avg: f64,
    best: f64,
    points: Vec<Point>,
}

/// Why a range test ended before its last step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// The smoothed loss passed 4 times its lowest value.
    Diverged,
    /// The loss was NaN or infinite.
    NotFinite,
}

impl RangeTest {
    /// An empty test.
    pub fn new() -> RangeTest {
        RangeTest {
            avg: 0.0,
            best: f64::INFINITY,
            points: Vec::new(),
        }
    }

    /// Records the loss of the next step at `lr`; returns why to stop, if the test should.
    pub fn record(&mut self, lr: f64, loss: f64) -> Option<Stop> {
        let count = self.points.len() as i32 + 1;
        self.avg = BETA * self.avg + (1.0 - BETA) * loss;
        let smoothed = self.avg / (1.0 - libm::pow(BETA, f64::from(count)));
        self.points.push(Point {
            step: count as u64,
            lr,
            loss,
            smoothed,
        });
        if !loss.is_finite() || !smoothed.is_finite() {
            return Some(Stop::NotFinite);
        }
        if smoothed < self.best {
            self.best = smoothed;
        }
        (smoothed > DIVERGENCE_FACTOR * self.best).then_some(Stop::Diverged)
    }

    /// Every recorded step, in order.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// Lightning's suggestion: the point where the smoothed loss falls fastest, skipping
    /// [`SKIP_BEGIN`] points at the start and [`SKIP_END`] at the end; `None` if fewer than two
    /// finite points remain.
    pub fn suggestion(&self) -> Option<Point> {
        let end = self.points.len().checked_sub(SKIP_END)?;
        let kept: Vec<&Point> = self
            .points
            .get(SKIP_BEGIN..end)?
            .iter()
            .filter(|p| p.smoothed.is_finite())
            .collect();
        let losses: Vec<f64> = kept.iter().map(|p| p.smoothed).collect();
        let gradient = gradient(&losses)?;
        let mut steepest = 0;
        for (i, g) in gradient.iter().enumerate() {
            if *g < gradient[steepest] {
                steepest = i;
            }
        }
        Some(*kept[steepest])
    }
}

/// NumPy's `np.gradient` with unit spacing: `(y[i+1] − y[i−1]) / 2` inside, `y[1] − y[0]` and
/// `y[n−1] − y[n−2]` at the ends; `None` for fewer than two values.
pub fn gradient(y: &[f64]) -> Option<Vec<f64>> {
    let n = y.len();
    if n < 2 {
        return None;
    }
    let mut g = Vec::with_capacity(n);
    g.push(y[1] - y[0]);
    for i in 1..n - 1 {
        g.push((y[i + 1] - y[i - 1]) / 2.0);
    }
    g.push(y[n - 1] - y[n - 2]);
    Some(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lrs_grow_exponentially_from_start_to_end() {
        assert_eq!(lr_at(1e-7, 10.0, 100, 0), 1e-7);
        assert!((lr_at(1e-7, 10.0, 100, 99) - 10.0).abs() < 1e-12);
        // Eight decades over 99 intervals: each step multiplies by 10^(8/99).
        let ratio = lr_at(1e-7, 10.0, 100, 51) / lr_at(1e-7, 10.0, 100, 50);
        assert!((ratio - 10f64.powf(8.0 / 99.0)).abs() < 1e-12);
        assert!((lr_at(1e-4, 1e-2, 3, 1) - 1e-3).abs() < 1e-15);
    }

    #[test]
    fn smoothing_is_fastais_bias_corrected_average() {
        let mut test = RangeTest::new();
        assert_eq!(test.record(1e-3, 2.0), None);
        // First point: 0.02·2 / (1 − 0.98) = 2 (up to rounding).
        assert!((test.points()[0].smoothed - 2.0).abs() < 1e-12);
        test.record(1e-2, 1.0);
        // (0.98·0.04 + 0.02·1) / (1 − 0.98²) = 0.0592 / 0.0396.
        assert!((test.points()[1].smoothed - 0.0592 / 0.0396).abs() < 1e-12);
        assert_eq!(test.points()[1].step, 2);
    }

    #[test]
    fn the_test_stops_once_the_smoothed_loss_passes_four_times_its_best() {
        let mut test = RangeTest::new();
        let mut stopped_at = None;
        for i in 0..200 {
            // The loss falls to 0.5, then explodes by 10% a step.
            let loss = if i < 50 {
                2.0 - 0.03 * i as f64
            } else {
                0.5 * 1.1f64.powi(i - 49)
            };
            if let Some(stop) = test.record(1e-3, loss) {
                assert_eq!(stop, Stop::Diverged);
                stopped_at = Some(i);
                break;
            }
        }
        let points = test.points();
        let last = points[points.len() - 1].smoothed;
        let best = points
            .iter()
            .map(|p| p.smoothed)
            .fold(f64::INFINITY, f64::min);
        assert!(stopped_at.is_some() && last > 4.0 * best, "{stopped_at:?}");
        let before = points[points.len() - 2].smoothed;
        assert!(before <= 4.0 * best, "it stops at the first such step");
        let mut test = RangeTest::new();
        assert_eq!(test.record(1.0, f64::NAN), Some(Stop::NotFinite));
    }

    #[test]
    fn gradient_is_numpys() {
        // np.gradient([1, 2, 4, 7, 11]) = [1, 1.5, 2.5, 3.5, 4]
        assert_eq!(
            gradient(&[1.0, 2.0, 4.0, 7.0, 11.0]),
            Some(vec![1.0, 1.5, 2.5, 3.5, 4.0])
        );
        assert_eq!(gradient(&[3.0, 1.0]), Some(vec![-2.0, -2.0]));
        assert_eq!(gradient(&[3.0]), None);
    }

    #[test]
    fn the_suggestion_is_the_steepest_fall_after_skipping_the_ends() {
        let mut test = RangeTest::new();
        // A flat loss (its smoothed value is exactly flat too, thanks to the bias correction)
        // that drops from 1 to 0.2 at index 25 and stays there: the smoothed loss falls
        // fastest right at the drop.
        let losses: Vec<f64> = (0..40).map(|i| if i < 25 { 1.0 } else { 0.2 }).collect();
        for (i, loss) in losses.iter().enumerate() {
            test.record(1e-3 * (i + 1) as f64, *loss);
        }
        let suggestion = test.suggestion().expect("enough points");
        let smoothed: Vec<f64> = test.points().iter().map(|p| p.smoothed).collect();
        let g = gradient(&smoothed[SKIP_BEGIN..smoothed.len() - SKIP_END]).expect("points");
        let min = g.iter().cloned().fold(f64::INFINITY, f64::min);
        let at = g.iter().position(|v| *v == min).expect("a minimum") + SKIP_BEGIN;
        assert_eq!(suggestion.step, at as u64 + 1);
        assert!((25..=26).contains(&at), "steepest at {at}");
        let mut short = RangeTest::new();
        for _ in 0..11 {
            short.record(1.0, 1.0);
        }
        assert_eq!(short.suggestion(), None, "one point left after skipping");
    }
}
