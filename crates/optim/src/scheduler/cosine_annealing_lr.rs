//! `CosineAnnealingLR(optimizer, T_max, eta_min=0.0)`: a cosine from the base lr down to
//! `eta_min` over `T_max` steps, in PyTorch's recursive form (which keeps going past `T_max`,
//! back up, as a cosine of period 2·T_max).
//!
//! ```text
//! get_lr:       L at the constructor's step;
//!               L + (B − η)·(1 − cos(π/T))/2                    if (t − 1 − T) % 2T == 0
//!               η + (L − η)·(1 + cos(πt/T)) / (1 + cos(π(t−1)/T))  otherwise   (η = eta_min)
//! closed form:  η + (B − η)·(1 + cos(πt/T))/2
//! ```

use std::fmt;

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::error::ScheduleError;
use crate::math::cos;
use crate::param_groups::ParamGroups;

use super::arguments::Call;
use super::checks::Checking;
use super::config::Arguments;
use super::rule::{construct, each_base, At, Rule, Schedule, Values};
use super::{Node, Warning};

/// `CosineAnnealingLR`'s arguments, with PyTorch's keyword names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineAnnealingLR {
    /// Half period (≥ 1).
    #[serde(rename = "T_max")]
    pub t_max: i64,
    /// Minimum lr (default 0).
    #[serde(default)]
    pub eta_min: f64,
}

/// The saved rule (a state spells `t_max` in lower case).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Cosine {
    t_max: i64,
    eta_min: f64,
}

impl CosineAnnealingLR {
    /// The PyTorch class name.
    pub const NAME: &'static str = "CosineAnnealingLR";
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `CosineAnnealingLR(T_max=1175)`.
impl fmt::Display for CosineAnnealingLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Call::new(f, Self::NAME)?
            .arg("T_max", &self.t_max)?
            .arg_unless_default("eta_min", &self.eta_min, &0.0)?
            .end()
    }
}

impl Arguments for CosineAnnealingLR {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        _: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        let rule = Cosine {
            t_max: self.t_max,
            eta_min: self.eta_min,
        };
        rule.check(&Checking::Config(Self::NAME), opt.num_groups())?;
        construct(Self::NAME, Rule::Cosine(rule), opt)
    }
}

impl Schedule for Cosine {
    fn get_lr(&self, at: &At, opt: &dyn ParamGroups) -> Result<Values, ScheduleError> {
        let (t, t_max, eta_min) = (at.t, self.t_max, self.eta_min);
        Ok(if at.initial {
            Values::each(opt, at.base_lrs, |l, _| l)
        } else if (t - 1 - t_max).rem_euclid(2 * t_max) == 0 {
            let cos = cos(PI / t_max as f64);
            Values::each(opt, at.base_lrs, |l, b| {
                l + (b - eta_min) * (1.0 - cos) / 2.0
            })
        } else {
            let ratio = (1.0 + cos(PI * t as f64 / t_max as f64))
                / (1.0 + cos(PI * (t - 1) as f64 / t_max as f64));
            Values::each(opt, at.base_lrs, |l, _| ratio * (l - eta_min) + eta_min)
        })
    }
    fn closed_form(&self, at: &At) -> Option<Result<Vec<f64>, ScheduleError>> {
        let eta_min = self.eta_min;
        let cos = cos(PI * at.t as f64 / self.t_max as f64);
        Some(Ok(each_base(at.base_lrs, |b| {
            eta_min + (b - eta_min) * (1.0 + cos) / 2.0
        })))
    }
    fn sets_lr_from_base(&self) -> bool {
        false
    }
    fn check(&self, checking: &Checking, _groups: usize) -> Result<(), ScheduleError> {
        checking.at_least("T_max", self.t_max, 1)?;
        checking.finite("eta_min", self.eta_min)?;
        Ok(())
    }
}
