//! `CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=1, eta_min=0.0)`: SGDR, a cosine from
//! the base lr to `eta_min` that restarts after `T_0` steps, each period `T_mult` times longer.
//! PyTorch overrides `step()` for it: it counts `T_cur` (steps since the last restart, possibly
//! fractional after `step(epoch)`) and `T_i` (the current period) instead of `last_epoch`.
//!
//! ```text
//! step():       T_cur += 1;  if T_cur ≥ T_i: T_cur −= T_i, T_i ·= T_mult
//! step(epoch):  T_mult = 1:  T_cur = epoch % T_0
//!               else:        n = ⌊log_{T_mult}(epoch/T_0·(T_mult − 1) + 1)⌋,
//!                            T_cur = epoch − T_0·(T_mult^n − 1)/(T_mult − 1),  T_i = T_0·T_mult^n
//! lr:           η + (B − η)·(1 + cos(π·T_cur/T_i))/2       (η = eta_min; also its closed form)
//! ```

use std::fmt;

use std::f64::consts::PI;

use serde::Deserialize;

use crate::error::ScheduleError;
use crate::math::{cos, ln};
use crate::param_groups::ParamGroups;

use super::arguments::Call;
use super::checks::Checking;
use super::config::Arguments;
use super::rule::{attach, Values};
use super::{Base, Node, Warning};

/// `CosineAnnealingWarmRestarts`'s arguments, with PyTorch's keyword names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineAnnealingWarmRestarts {
    /// Steps until the first restart (≥ 1).
    #[serde(rename = "T_0")]
    pub t_0: i64,
    /// Period growth factor (integer ≥ 1, default 1).
    #[serde(rename = "T_mult", default = "default_t_mult")]
    pub t_mult: i64,
    /// Minimum lr (default 0).
    #[serde(default)]
    pub eta_min: f64,
}

fn default_t_mult() -> i64 {
    1
}

impl CosineAnnealingWarmRestarts {
    /// The PyTorch class name.
    pub const NAME: &'static str = "CosineAnnealingWarmRestarts";
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `CosineAnnealingWarmRestarts(T_0=235, T_mult=2)`.
impl fmt::Display for CosineAnnealingWarmRestarts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Call::new(f, Self::NAME)?
            .arg("T_0", &self.t_0)?
            .arg_unless_default("T_mult", &self.t_mult, &default_t_mult())?
            .arg_unless_default("eta_min", &self.eta_min, &0.0)?
            .end()
    }
}

impl Arguments for CosineAnnealingWarmRestarts {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        _: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        let checking = Checking::Config(Self::NAME);
        let t_0 = checking.at_least("T_0", self.t_0, 1)?;
        let t_mult = checking.at_least("T_mult", self.t_mult, 1)?;
        let eta_min = checking.finite("eta_min", self.eta_min)?;
        let base = attach(Self::NAME, opt);
        let mut node = Node::WarmRestarts {
            base,
            t_0,
            t_i: t_0,
            t_mult,
            eta_min,
            t_cur: -1.0,
        };
        node.initial_step(opt)?;
        Ok(node)
    }
}

/// The checks a saved state passes (the counters as well as the arguments).
pub(crate) fn check(
    checking: &Checking,
    (t_0, t_i, t_mult, eta_min, t_cur): (i64, i64, i64, f64, f64),
) -> Result<(), ScheduleError> {
    checking.at_least("T_0", t_0, 1)?;
    checking.at_least("T_i", t_i, 1)?;
    checking.at_least("T_mult", t_mult, 1)?;
    checking.finite("eta_min", eta_min)?;
    checking.require(
        t_cur.is_finite() && t_cur >= -1.0,
        "T_cur",
        t_cur,
        "a finite number >= -1",
    )?;
    Ok(())
}

/// `(T_cur, T_i)` after one plain `step()` from `(t_cur, t_i)`.
pub(crate) fn next(t_cur: f64, t_i: i64, t_mult: i64) -> (f64, i64) {
    let mut t_cur = t_cur + 1.0;
    let mut t_i = t_i;
    if t_cur >= t_i as f64 {
        t_cur %= t_i as f64;
        t_i *= t_mult;
    }
    (t_cur, t_i)
}

/// `(T_cur, T_i)` at a (possibly fractional) `epoch`, as PyTorch's `step(epoch)` computes them,
/// including its logarithm (see `math.rs` on where that can truncate differently from glibc).
/// `t_i` is the current period, kept when `T_mult = 1`.
pub(crate) fn at_epoch(epoch: f64, t_0: i64, t_i: i64, t_mult: i64) -> (f64, i64) {
    if epoch < t_0 as f64 {
        return (epoch, t_0);
    }
    if t_mult == 1 {
        return (epoch % t_0 as f64, t_i);
    }
    // n = int(math.log(epoch / T_0 * (T_mult - 1) + 1, T_mult))
    let ratio = epoch / t_0 as f64 * (t_mult - 1) as f64 + 1.0;
    let n = (ln(ratio) / ln(t_mult as f64)) as u32;
    let power = t_mult.pow(n);
    let t_cur = epoch - (t_0 * (power - 1)) as f64 / (t_mult - 1) as f64;
    (t_cur, t_0 * power)
}

/// The lr of every group: η + (B − η)·(1 + cos(π·T_cur/T_i))/2.
pub(crate) fn lrs(base: &Base, eta_min: f64, t_cur: f64, t_i: i64) -> Values {
    let cos = cos(PI * t_cur / t_i as f64);
    Values {
        lrs: base
            .base_lrs
            .iter()
            .map(|&b| eta_min + (b - eta_min) * (1.0 + cos) / 2.0)
            .collect(),
        momenta: None,
    }
}
