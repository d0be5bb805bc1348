//! `OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
//! pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
//! max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False)`: the 1cycle
//! policy. The lr rises from max_lr/div_factor to max_lr over the first `pct_start` of the
//! steps, then falls to (max_lr/div_factor)/final_div_factor (with `three_phase`, back to the
//! initial lr first); the momentum moves the other way.
//!
//! ```text
//! get_lr:   find the phase holding t; pct = (t − start)/(end − start)
//!           cos:    to + (from − to)/2·(cos(π·pct) + 1)
//!           linear: (to − from)·pct + from
//!           t > total_steps is an error, as in PyTorch (no closed form)
//! ```

use std::f64::consts::PI;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ScheduleError;
use crate::math::cos;
use crate::param_groups::ParamGroups;

use super::arguments::{choice, write_choice, Call, PerGroup};
use super::checks::Checking;
use super::config::Arguments;
use super::cyclic_lr::momentum_bounds;
use super::rule::{construct, At, Rule, Schedule, Values};
use super::{Node, Warning};

/// `OneCycleLR`'s arguments, with PyTorch's keyword names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneCycleLR {
    /// Peak lr (one or per group).
    pub max_lr: PerGroup<f64>,
    /// Total steps (or give epochs and steps_per_epoch).
    #[serde(default)]
    pub total_steps: Option<i64>,
    /// Epochs (with steps_per_epoch).
    #[serde(default)]
    pub epochs: Option<i64>,
    /// Steps per epoch (with epochs).
    #[serde(default)]
    pub steps_per_epoch: Option<i64>,
    /// Fraction of the cycle spent rising, in [0, 1] (default 0.3).
    #[serde(default = "default_pct_start")]
    pub pct_start: f64,
    /// `cos` or `linear` (default `cos`).
    #[serde(default = "default_anneal")]
    pub anneal_strategy: AnnealStrategy,
    /// Cycle momentum inversely to the lr (default true).
    #[serde(default = "default_true")]
    pub cycle_momentum: bool,
    /// Lower momentum bound (default 0.85).
    #[serde(default = "default_base_momentum")]
    pub base_momentum: PerGroup<f64>,
    /// Upper momentum bound (default 0.95).
    #[serde(default = "default_max_momentum")]
    pub max_momentum: PerGroup<f64>,
    /// initial lr = max_lr / div_factor (default 25).
    #[serde(default = "default_div_factor")]
    pub div_factor: f64,
    /// min lr = initial lr / final_div_factor (default 1e4).
    #[serde(default = "default_final_div_factor")]
    pub final_div_factor: f64,
    /// Use the paper's three phases (default false).
    #[serde(default)]
    pub three_phase: bool,
}

fn default_pct_start() -> f64 {
    0.3
}
fn default_anneal() -> AnnealStrategy {
    AnnealStrategy::Cos
}
fn default_true() -> bool {
    true
}
fn default_base_momentum() -> PerGroup<f64> {
    PerGroup::All(0.85)
}
fn default_max_momentum() -> PerGroup<f64> {
    PerGroup::All(0.95)
}
fn default_div_factor() -> f64 {
    25.0
}
fn default_final_div_factor() -> f64 {
    1e4
}

/// `OneCycleLR(anneal_strategy=...)`.
#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnnealStrategy {
    /// Cosine annealing.
    Cos,
    /// Linear annealing.
    Linear,
}

/// The names a config gives `AnnealStrategy`'s values.
const ANNEAL_STRATEGIES: [(&str, AnnealStrategy); 2] = [
    ("cos", AnnealStrategy::Cos),
    ("linear", AnnealStrategy::Linear),
];

impl<'de> Deserialize<'de> for AnnealStrategy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        choice(deserializer, "anneal_strategy", &ANNEAL_STRATEGIES)
    }
}

/// As a config writes it: `"cos"`.
impl fmt::Debug for AnnealStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_choice(f, self, &ANNEAL_STRATEGIES)
    }
}

/// The saved rule (PyTorch keeps max_lr, min_lr and the momenta in the param groups).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OneCycle {
    pub(crate) total_steps: i64,
    pub(crate) phases: Vec<Phase>,
    pub(crate) anneal: AnnealStrategy,
    pub(crate) max_lrs: Vec<f64>,
    pub(crate) min_lrs: Vec<f64>,
    pub(crate) momentum: Option<(Vec<f64>, Vec<f64>)>, // (base_momentums, max_momentums)
}

/// Which stored value a OneCycleLR phase starts or ends at.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) enum Anchor {
    Initial,
    Max,
    Min,
}

/// One OneCycleLR phase: until `end_step`, lr from→to and momentum from→to
/// (`true` = max_momentum, `false` = base_momentum).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Phase {
    pub(crate) end_step: f64,
    pub(crate) lr: (Anchor, Anchor),
    pub(crate) momentum: (bool, bool),
}

impl OneCycleLR {
    /// The PyTorch class name.
    pub const NAME: &'static str = "OneCycleLR";
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `OneCycleLR(max_lr=0.1, total_steps=1175)`.
impl fmt::Display for OneCycleLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut call = Call::new(f, Self::NAME)?.arg("max_lr", &self.max_lr)?;
        for (key, value) in [
            ("total_steps", self.total_steps),
            ("epochs", self.epochs),
            ("steps_per_epoch", self.steps_per_epoch),
        ] {
            if let Some(value) = value {
                call = call.arg(key, &value)?;
            }
        }
        call.arg_unless_default("pct_start", &self.pct_start, &default_pct_start())?
            .arg_unless_default("anneal_strategy", &self.anneal_strategy, &default_anneal())?
            .arg_unless_default("cycle_momentum", &self.cycle_momentum, &true)?
            .arg_unless_default(
                "base_momentum",
                &self.base_momentum,
                &default_base_momentum(),
            )?
            .arg_unless_default("max_momentum", &self.max_momentum, &default_max_momentum())?
            .arg_unless_default("div_factor", &self.div_factor, &default_div_factor())?
            .arg_unless_default(
                "final_div_factor",
                &self.final_div_factor,
                &default_final_div_factor(),
            )?
            .arg_unless_default("three_phase", &self.three_phase, &false)?
            .end()
    }
}

impl Arguments for OneCycleLR {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn build(
        &self,
        opt: &mut dyn ParamGroups,
        _: &mut Vec<Warning>,
    ) -> Result<Node, ScheduleError> {
        let checking = Checking::Config(Self::NAME);
        let groups = opt.num_groups();
        let total = match (self.total_steps, self.epochs, self.steps_per_epoch) {
            (Some(t), _, _) => checking.at_least("total_steps", t, 1)?,
            (None, Some(e), Some(s)) => {
                checking.at_least("epochs", e, 1)? * checking.at_least("steps_per_epoch", s, 1)?
            }
            _ => {
                return Err(checking.fail(
                    "total_steps",
                    "nothing",
                    "give total_steps, or both epochs and steps_per_epoch",
                ))
            }
        };
        let pct_start = self.pct_start;
        checking.require(
            (0.0..=1.0).contains(&pct_start),
            "pct_start",
            pct_start,
            "a number in [0, 1]",
        )?;
        for (key, v) in [
            ("div_factor", self.div_factor),
            ("final_div_factor", self.final_div_factor),
        ] {
            checking.require(v.is_finite() && v > 0.0, key, v, "a finite number > 0")?;
        }
        let max_lrs = checking.per_group("max_lr", &self.max_lr, groups)?;
        let pct_total = pct_start * total as f64;
        let phases = if self.three_phase {
            vec![
                Phase {
                    end_step: pct_total - 1.0,
                    lr: (Anchor::Initial, Anchor::Max),
                    momentum: (true, false),
                },
                Phase {
                    end_step: 2.0 * pct_start * total as f64 - 2.0,
                    lr: (Anchor::Max, Anchor::Initial),
                    momentum: (false, true),
                },
                Phase {
                    end_step: (total - 1) as f64,
                    lr: (Anchor::Initial, Anchor::Min),
                    momentum: (true, true),
                },
            ]
        } else {
            vec![
                Phase {
                    end_step: pct_total - 1.0,
                    lr: (Anchor::Initial, Anchor::Max),
                    momentum: (true, false),
                },
                Phase {
                    end_step: (total - 1) as f64,
                    lr: (Anchor::Max, Anchor::Min),
                    momentum: (false, true),
                },
            ]
        };
        // PyTorch writes initial_lr = max_lr/div_factor (overwriting), max_lr and min_lr into
        // the groups.
        let mut min_lrs = Vec::with_capacity(groups);
        for (g, &m) in max_lrs.iter().enumerate() {
            let initial = m / self.div_factor;
            opt.set_initial_lr(g, Some(initial));
            min_lrs.push(initial / self.final_div_factor);
        }
        let bounds = (&self.base_momentum, &self.max_momentum);
        let momentum = if self.cycle_momentum {
            Some(momentum_bounds(&checking, bounds, opt)?)
        } else {
            None
        };
        let rule = Rule::OneCycle(OneCycle {
            total_steps: total,
            phases,
            anneal: self.anneal_strategy,
            max_lrs,
            min_lrs,
            momentum,
        });
        construct(Self::NAME, rule, opt)
    }
}

impl Schedule for OneCycle {
    fn get_lr(&self, at: &At, opt: &dyn ParamGroups) -> Result<Values, ScheduleError> {
        let (name, t) = (at.name, at.t);
        if t > self.total_steps {
            return Err(ScheduleError::PastTheEnd {
                scheduler: name,
                step: t,
                total_steps: self.total_steps,
            });
        }
        let mut lrs = Vec::with_capacity(self.max_lrs.len());
        let mut momenta = Vec::with_capacity(self.max_lrs.len());
        for g in 0..opt.num_groups().min(self.max_lrs.len()) {
            let anchor = |a: Anchor| match a {
                Anchor::Initial => opt.initial_lr(g).unwrap_or(opt.lr(g)),
                Anchor::Max => self.max_lrs[g],
                Anchor::Min => self.min_lrs[g],
            };
            let mut start = 0.0;
            for (i, phase) in self.phases.iter().enumerate() {
                if t as f64 <= phase.end_step || i == self.phases.len() - 1 {
                    let width = phase.end_step - start;
                    if width == 0.0 {
                        return Err(ScheduleError::DivisionByZero {
                            scheduler: name,
                            what: format!("phase {} which has zero length (pct_start·total_steps is too small)", i + 1),
                        });
                    }
                    let pct = (t as f64 - start) / width;
                    lrs.push(self.anneal(anchor(phase.lr.0), anchor(phase.lr.1), pct));
                    if let Some((base_m, max_m)) = &self.momentum {
                        let pick = |is_max: bool| if is_max { max_m[g] } else { base_m[g] };
                        momenta.push(self.anneal(
                            pick(phase.momentum.0),
                            pick(phase.momentum.1),
                            pct,
                        ));
                    }
                    break;
                }
                start = phase.end_step;
            }
        }
        Ok(Values {
            lrs,
            momenta: self.momentum.as_ref().map(|_| momenta),
        })
    }

    fn closed_form(&self, _at: &At) -> Option<Result<Vec<f64>, ScheduleError>> {
        None
    }
    fn sets_lr_from_base(&self) -> bool {
        true
    }
    fn check(&self, checking: &Checking, groups: usize) -> Result<(), ScheduleError> {
        checking.at_least("total_steps", self.total_steps, 1)?;
        if self.phases.is_empty() || self.phases.iter().any(|p| !p.end_step.is_finite()) {
            return Err(checking.fail(
                "phases",
                format!("{} phases", self.phases.len()),
                "two or three phases with finite ends",
            ));
        }
        checking.lrs("max_lr", &self.max_lrs, groups)?;
        checking.lrs("min_lr", &self.min_lrs, groups)?;
        checking.momenta(self.momentum.as_ref(), groups)
    }
}

impl OneCycle {
    fn anneal(&self, from: f64, to: f64, pct: f64) -> f64 {
        match self.anneal {
            AnnealStrategy::Cos => {
                let cos_out = cos(PI * pct) + 1.0;
                to + (from - to) / 2.0 * cos_out
            }
            AnnealStrategy::Linear => (to - from) * pct + from,
        }
    }
}
