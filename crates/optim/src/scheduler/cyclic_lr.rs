//! `CyclicLR(optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
//! mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True,
//! base_momentum=0.8, max_momentum=0.9)`: the lr cycles between `base_lr` and `max_lr` (and the
//! momentum inversely, between `max_momentum` and `base_momentum`), rising for `step_size_up`
//! steps and falling for `step_size_down`.
//!
//! ```text
//! get_lr:   cycle = ⌊1 + t/total⌋,  x = 1 + t/total − cycle          (total = up + down)
//!           sf = x/ratio (rising, x ≤ ratio) or (x − 1)/(ratio − 1)   (ratio = up/total)
//!           scale = 1 (triangular), 1/2^(cycle − 1) (triangular2), γ^t (exp_range)
//!           lr = base + ((max − base)·sf)·scale,  momentum = max_m − ((max_m − base_m)·sf)·scale
//! ```
//! It sets the lr from its bounds alone (no closed form in PyTorch). Like PyTorch, construction
//! writes `base_lr` into every group (and `max_momentum`, if it cycles momentum).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ScheduleError;
use crate::math::pow;
use crate::param_groups::ParamGroups;

use super::arguments::{choice, write_choice, Call, PerGroup};
use super::checks::Checking;
use super::config::Arguments;
use super::rule::{construct, At, Rule, Schedule, Values};
use super::{Node, Warning};

/// `CyclicLR`'s arguments, with PyTorch's keyword names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CyclicLR {
    /// Lower lr bound (one or per group).
    pub base_lr: PerGroup<f64>,
    /// Upper lr bound (one or per group).
    pub max_lr: PerGroup<f64>,
    /// Steps of the rising half (default 2000).
    #[serde(default = "default_step_size_up")]
    pub step_size_up: i64,
    /// Steps of the falling half (default = step_size_up).
    #[serde(default)]
    pub step_size_down: Option<i64>,
    /// `triangular`, `triangular2` or `exp_range` (default `triangular`).
    #[serde(default = "default_mode")]
    pub mode: CyclicMode,
    /// For `exp_range` (default 1).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
    /// `cycle` or `iterations`; used only with a custom `scale_fn` (default `cycle`).
    #[serde(default = "default_scale_mode")]
    pub scale_mode: ScaleMode,
    /// Cycle momentum inversely to the lr (default true).
    #[serde(default = "default_true")]
    pub cycle_momentum: bool,
    /// Lower momentum bound (default 0.8).
    #[serde(default = "default_base_momentum")]
    pub base_momentum: PerGroup<f64>,
    /// Upper momentum bound (default 0.9).
    #[serde(default = "default_max_momentum")]
    pub max_momentum: PerGroup<f64>,
    /// A custom scale function (Rust-only; overrides `mode`).
    #[serde(skip)]
    pub scale_fn: Option<ScaleFn>,
}

fn default_step_size_up() -> i64 {
    2000
}
fn default_mode() -> CyclicMode {
    CyclicMode::Triangular
}
fn default_gamma() -> f64 {
    1.0
}
fn default_scale_mode() -> ScaleMode {
    ScaleMode::Cycle
}
fn default_true() -> bool {
    true
}
fn default_base_momentum() -> PerGroup<f64> {
    PerGroup::All(0.8)
}
fn default_max_momentum() -> PerGroup<f64> {
    PerGroup::All(0.9)
}

/// A custom `CyclicLR` scale function of the cycle number or iteration (Rust-only).
#[derive(Clone)]
pub struct ScaleFn(pub Arc<dyn Fn(f64) -> f64 + Send + Sync>);

impl fmt::Debug for ScaleFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ScaleFn(<closure>)")
    }
}

/// `CyclicLR(mode=...)`.
#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CyclicMode {
    /// Scale 1 every cycle.
    Triangular,
    /// Scale halves every cycle.
    Triangular2,
    /// Scale gamma ** iteration.
    ExpRange,
}

/// `CyclicLR(scale_mode=...)` (only used with a custom scale function).
#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScaleMode {
    /// The scale function receives the cycle number.
    Cycle,
    /// The scale function receives the iteration.
    Iterations,
}

/// The names a config gives `CyclicMode`'s values.
const CYCLIC_MODES: [(&str, CyclicMode); 3] = [
    ("triangular", CyclicMode::Triangular),
    ("triangular2", CyclicMode::Triangular2),
    ("exp_range", CyclicMode::ExpRange),
];

impl<'de> Deserialize<'de> for CyclicMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        choice(deserializer, "mode", &CYCLIC_MODES)
    }
}

/// As a config writes it: `"triangular"`.
impl fmt::Debug for CyclicMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_choice(f, self, &CYCLIC_MODES)
    }
}

/// The names a config gives `ScaleMode`'s values.
const SCALE_MODES: [(&str, ScaleMode); 2] = [
    ("cycle", ScaleMode::Cycle),
    ("iterations", ScaleMode::Iterations),
];

impl<'de> Deserialize<'de> for ScaleMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        choice(deserializer, "scale_mode", &SCALE_MODES)
    }
}

/// As a config writes it: `"cycle"`.
impl fmt::Debug for ScaleMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_choice(f, self, &SCALE_MODES)
    }
}

/// The saved rule: what the constructor computed from the arguments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Cyclic {
    pub(crate) max_lrs: Vec<f64>,
    pub(crate) total_size: f64,
    pub(crate) step_ratio: f64,
    pub(crate) scale: CyclicScale,
    pub(crate) momentum: Option<(Vec<f64>, Vec<f64>)>, // (base_momentums, max_momentums)
}

/// CyclicLR's scale function and the argument it receives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum CyclicScale {
    Triangular,
    Triangular2,
    ExpRange {
        gamma: f64,
    },
    Custom {
        #[serde(skip)]
        f: Option<ScaleFn>,
        mode: ScaleMode,
    },
}

impl CyclicLR {
    /// The PyTorch class name.
    pub const NAME: &'static str = "CyclicLR";
}

/// The arguments as Python writes the call, those left at PyTorch's defaults left out:
/// `CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=235, mode="triangular2")`.
impl fmt::Display for CyclicLR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut call = Call::new(f, Self::NAME)?
            .arg("base_lr", &self.base_lr)?
            .arg("max_lr", &self.max_lr)?
            .arg_unless_default("step_size_up", &self.step_size_up, &default_step_size_up())?;
        if let Some(down) = self.step_size_down {
            call = call.arg("step_size_down", &down)?;
        }
        if self.scale_fn.is_some() {
            call = call
                .arg("scale_fn", &"<function>")?
                .arg("scale_mode", &self.scale_mode)?;
        } else {
            call = call.arg_unless_default("mode", &self.mode, &default_mode())?;
        }
        call.arg_unless_default("gamma", &self.gamma, &default_gamma())?
            .arg_unless_default("cycle_momentum", &self.cycle_momentum, &true)?
            .arg_unless_default(
                "base_momentum",
                &self.base_momentum,
                &default_base_momentum(),
            )?
            .arg_unless_default("max_momentum", &self.max_momentum, &default_max_momentum())?
            .end()
    }
}

impl Arguments for CyclicLR {
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
        let base_lrs = checking.per_group("base_lr", &self.base_lr, groups)?;
        let max_lrs = checking.per_group("max_lr", &self.max_lr, groups)?;
        let up = checking.at_least("step_size_up", self.step_size_up, 1)? as f64;
        let down = match self.step_size_down {
            Some(d) => checking.at_least("step_size_down", d, 0)? as f64,
            None => up,
        };
        let gamma = checking.positive_factor("gamma", self.gamma)?;
        let scale = match (&self.scale_fn, self.mode) {
            (Some(f), _) => CyclicScale::Custom {
                f: Some(f.clone()),
                mode: self.scale_mode,
            },
            (None, CyclicMode::Triangular) => CyclicScale::Triangular,
            (None, CyclicMode::Triangular2) => CyclicScale::Triangular2,
            (None, CyclicMode::ExpRange) => CyclicScale::ExpRange { gamma },
        };
        // PyTorch overwrites every group's lr with base_lr before the base constructor.
        for (g, &lr) in base_lrs.iter().enumerate() {
            let _ = opt.set_lr(g, lr);
        }
        let bounds = (&self.base_momentum, &self.max_momentum);
        let momentum = if self.cycle_momentum {
            Some(momentum_bounds(&checking, bounds, opt)?)
        } else {
            None
        };
        let total_size = up + down;
        let rule = Rule::Cyclic(Cyclic {
            max_lrs,
            total_size,
            step_ratio: up / total_size,
            scale,
            momentum,
        });
        let mut node = construct(Self::NAME, rule, opt)?;
        if let Node::Formula { base, .. } = &mut node {
            base.base_lrs = base_lrs;
        }
        Ok(node)
    }
}

/// The (base, max) momentum of every group, for a scheduler that cycles momentum (`CyclicLR`,
/// `OneCycleLR`); like PyTorch, it writes `max_momentum` into the groups.
pub(crate) fn momentum_bounds(
    checking: &Checking,
    (base, max): (&PerGroup<f64>, &PerGroup<f64>),
    opt: &mut dyn ParamGroups,
) -> Result<(Vec<f64>, Vec<f64>), ScheduleError> {
    let groups = opt.num_groups();
    let base_m = checking.per_group("base_momentum", base, groups)?;
    let max_m = checking.per_group("max_momentum", max, groups)?;
    for (g, &m) in max_m.iter().enumerate() {
        let _ = opt.set_momentum(g, m);
    }
    Ok((base_m, max_m))
}

impl Schedule for Cyclic {
    fn get_lr(&self, at: &At, _opt: &dyn ParamGroups) -> Result<Values, ScheduleError> {
        let t = at.t;
        let cycle = (1.0 + t as f64 / self.total_size).floor();
        let x = 1.0 + t as f64 / self.total_size - cycle;
        let scale_factor = if x <= self.step_ratio {
            x / self.step_ratio
        } else {
            (x - 1.0) / (self.step_ratio - 1.0)
        };
        let scale = match &self.scale {
            CyclicScale::Triangular => 1.0,
            CyclicScale::Triangular2 => 1.0 / pow(2.0, cycle - 1.0),
            CyclicScale::ExpRange { gamma } => pow(*gamma, t as f64),
            CyclicScale::Custom { f, mode } => {
                let arg = match mode {
                    ScaleMode::Cycle => cycle,
                    ScaleMode::Iterations => t as f64,
                };
                f.as_ref().map_or(1.0, |f| (f.0)(arg))
            }
        };
        let lrs = at
            .base_lrs
            .iter()
            .zip(&self.max_lrs)
            .map(|(&b, &m)| b + (m - b) * scale_factor * scale)
            .collect();
        let momenta = self.momentum.as_ref().map(|(base_m, max_m)| {
            base_m
                .iter()
                .zip(max_m)
                .map(|(&b, &m)| m - (m - b) * scale_factor * scale)
                .collect()
        });
        Ok(Values { lrs, momenta })
    }
    fn closed_form(&self, _at: &At) -> Option<Result<Vec<f64>, ScheduleError>> {
        None
    }
    fn sets_lr_from_base(&self) -> bool {
        true
    }
    fn check(&self, checking: &Checking, groups: usize) -> Result<(), ScheduleError> {
        checking.lrs("max_lr", &self.max_lrs, groups)?;
        let size = self.total_size;
        checking.require(
            size.is_finite() && size > 0.0,
            "total_size",
            size,
            "a finite number > 0",
        )?;
        let ratio = self.step_ratio;
        checking.require(
            ratio > 0.0 && ratio <= 1.0,
            "step_ratio",
            ratio,
            "a number in (0, 1]",
        )?;
        if let CyclicScale::ExpRange { gamma } = self.scale {
            checking.positive_factor("gamma", gamma)?;
        }
        checking.momenta(self.momentum.as_ref(), groups)
    }
}
