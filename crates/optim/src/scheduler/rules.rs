//! The schedulers that follow PyTorch's base `LRScheduler.step()`: one `get_lr` (the chainable
//! rule, reading the current lr `L` of each group at step `t`) and, where PyTorch has one, the
//! closed form (used by `SequentialLR` when it restarts a child at a milestone).
//! Notation: `L` current lr, `B` base lr (`initial_lr`), `t` = `last_epoch` after the increment.
//! Operation order follows `torch/optim/lr_scheduler.py` so that results agree to the last bit.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::config::{AnnealStrategy, LrLambda, ScaleFn, ScaleMode};
use crate::error::ScheduleError;
use crate::math::{cos, pow};
use crate::param_groups::ParamGroups;

/// One formula scheduler's fixed arguments (its varying state lives in `Base`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Rule {
    /// StepLR: L·γ when t is a non-zero multiple of step_size.
    Step { step_size: i64, gamma: f64 },
    /// MultiStepLR: L·γ^c when t occurs c times among the milestones (sorted, with repeats).
    MultiStep { milestones: Vec<i64>, gamma: f64 },
    /// ConstantLR: L·factor at t = 0, L·(1/factor) at t = total_iters.
    Constant { factor: f64, total_iters: i64 },
    /// LinearLR: L·s at t = 0, then ratios of consecutive factors up to total_iters.
    Linear {
        start_factor: f64,
        end_factor: f64,
        total_iters: i64,
    },
    /// ExponentialLR: L·γ.
    Exponential { gamma: f64 },
    /// PolynomialLR: L·((1 − t/T)/(1 − (t−1)/T))^power up to T.
    Polynomial { total_iters: i64, power: f64 },
    /// CosineAnnealingLR (recursive form, with the additive branch at t = T_max+1 mod 2·T_max).
    Cosine { t_max: i64, eta_min: f64 },
    /// LambdaLR: B·λ(t).
    Lambda {
        #[serde(skip)]
        lambdas: Vec<LrLambda>,
    },
    /// MultiplicativeLR: L·λ(t) for t ≥ 1.
    Multiplicative {
        #[serde(skip)]
        lambdas: Vec<LrLambda>,
    },
    /// CyclicLR (absolute; also writes momentum).
    Cyclic(Cyclic),
    /// OneCycleLR (absolute; also writes momentum).
    OneCycle(OneCycle),
}

/// CyclicLR's arguments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Cyclic {
    pub max_lrs: Vec<f64>,
    pub total_size: f64,
    pub step_ratio: f64,
    pub scale: CyclicScale,
    pub momentum: Option<(Vec<f64>, Vec<f64>)>, // (base_momentums, max_momentums)
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

/// OneCycleLR's arguments (PyTorch keeps max_lr/min_lr/momenta in the param groups).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OneCycle {
    pub total_steps: i64,
    pub phases: Vec<Phase>,
    pub anneal: AnnealStrategy,
    pub max_lrs: Vec<f64>,
    pub min_lrs: Vec<f64>,
    pub momentum: Option<(Vec<f64>, Vec<f64>)>, // (base_momentums, max_momentums)
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
    pub end_step: f64,
    pub lr: (Anchor, Anchor),
    pub momentum: (bool, bool),
}

/// The lrs (and momenta, for the cycling schedulers) one `get_lr` call computes.
pub(crate) struct Values {
    pub lrs: Vec<f64>,
    pub momenta: Option<Vec<f64>>,
}

impl Rule {
    /// PyTorch's `get_lr()` at step `t`; `initial` is the constructor's step (`_is_initial`).
    pub(crate) fn get_lr(
        &self,
        name: &'static str,
        t: i64,
        initial: bool,
        base_lrs: &[f64],
        opt: &dyn ParamGroups,
    ) -> Result<Values, ScheduleError> {
        let current = opt.lrs();
        let map = |f: &dyn Fn(f64) -> f64| Values {
            lrs: current.iter().map(|&l| f(l)).collect(),
            momenta: None,
        };
        let values = match self {
            Rule::Step { step_size, gamma } => {
                if t == 0 || t.rem_euclid(*step_size) != 0 {
                    map(&|l| l)
                } else {
                    map(&|l| l * gamma)
                }
            }
            Rule::MultiStep { milestones, gamma } => {
                let count = milestones.iter().filter(|&&m| m == t).count();
                if count == 0 {
                    map(&|l| l)
                } else {
                    let factor = pow(*gamma, count as f64);
                    map(&|l| l * factor)
                }
            }
            Rule::Constant {
                factor,
                total_iters,
            } => {
                if t == 0 {
                    map(&|l| l * factor)
                } else if t != *total_iters {
                    map(&|l| l)
                } else {
                    let inverse = 1.0 / factor;
                    map(&|l| l * inverse)
                }
            }
            Rule::Linear {
                start_factor: s,
                end_factor: e,
                total_iters,
            } => {
                if t == 0 {
                    map(&|l| l * s)
                } else if initial || t > *total_iters {
                    map(&|l| l)
                } else {
                    let ratio =
                        1.0 + (e - s) / (*total_iters as f64 * s + (t - 1) as f64 * (e - s));
                    map(&|l| l * ratio)
                }
            }
            Rule::Exponential { gamma } => {
                if initial {
                    map(&|l| l)
                } else {
                    map(&|l| l * gamma)
                }
            }
            Rule::Polynomial { total_iters, power } => {
                if initial || t > *total_iters {
                    map(&|l| l)
                } else {
                    let total = *total_iters as f64;
                    let decay = pow(
                        (1.0 - t as f64 / total) / (1.0 - (t - 1) as f64 / total),
                        *power,
                    );
                    map(&|l| l * decay)
                }
            }
            Rule::Cosine { t_max, eta_min } => {
                if initial {
                    map(&|l| l)
                } else if (t - 1 - t_max).rem_euclid(2 * t_max) == 0 {
                    let cos = cos(PI / *t_max as f64);
                    Values {
                        lrs: current
                            .iter()
                            .zip(base_lrs)
                            .map(|(&l, &b)| l + (b - eta_min) * (1.0 - cos) / 2.0)
                            .collect(),
                        momenta: None,
                    }
                } else {
                    let ratio = (1.0 + cos(PI * t as f64 / *t_max as f64))
                        / (1.0 + cos(PI * (t - 1) as f64 / *t_max as f64));
                    map(&|l| ratio * (l - eta_min) + eta_min)
                }
            }
            Rule::Lambda { lambdas } => Values {
                lrs: base_lrs
                    .iter()
                    .zip(lambdas)
                    .map(|(&b, f)| b * f.eval(t))
                    .collect(),
                momenta: None,
            },
            Rule::Multiplicative { lambdas } => {
                if initial {
                    map(&|l| l)
                } else {
                    Values {
                        lrs: current
                            .iter()
                            .zip(lambdas)
                            .map(|(&l, f)| l * f.eval(t))
                            .collect(),
                        momenta: None,
                    }
                }
            }
            Rule::Cyclic(c) => c.get_lr(t, base_lrs),
            Rule::OneCycle(o) => o.get_lr(name, t, opt)?,
        };
        Ok(values)
    }

    /// PyTorch's `_get_closed_form_lr()`, for the classes that have one.
    pub(crate) fn closed_form(
        &self,
        name: &'static str,
        t: i64,
        base_lrs: &[f64],
    ) -> Option<Result<Vec<f64>, ScheduleError>> {
        let each = |f: &dyn Fn(f64) -> f64| Some(Ok(base_lrs.iter().map(|&b| f(b)).collect()));
        match self {
            Rule::Step { step_size, gamma } => {
                let factor = pow(*gamma, t.div_euclid(*step_size) as f64);
                each(&|b| b * factor)
            }
            Rule::MultiStep { milestones, gamma } => {
                let passed = milestones.iter().filter(|&&m| m <= t).count();
                let factor = pow(*gamma, passed as f64);
                each(&|b| b * factor)
            }
            Rule::Constant {
                factor,
                total_iters,
            } => {
                let restore = if t >= *total_iters { 1.0 - factor } else { 0.0 };
                each(&|b| b * (factor + restore))
            }
            Rule::Linear {
                start_factor: s,
                end_factor: e,
                total_iters,
            } => {
                if *total_iters == 0 {
                    return Some(Err(ScheduleError::DivisionByZero {
                        scheduler: name,
                        what: "the closed form (total_iters = 0)".into(),
                    }));
                }
                let reached = (*total_iters).min(t) as f64;
                each(&|b| b * (s + (e - s) * reached / *total_iters as f64))
            }
            Rule::Exponential { gamma } => {
                let factor = pow(*gamma, t as f64);
                each(&|b| b * factor)
            }
            Rule::Polynomial { total_iters, power } => {
                if *total_iters == 0 {
                    return Some(Err(ScheduleError::DivisionByZero {
                        scheduler: name,
                        what: "the closed form (total_iters = 0)".into(),
                    }));
                }
                let reached = (*total_iters).min(t) as f64;
                each(&|b| b * pow(1.0 - reached / *total_iters as f64, *power))
            }
            Rule::Cosine { t_max, eta_min } => {
                let cos = cos(PI * t as f64 / *t_max as f64);
                each(&|b| eta_min + (b - eta_min) * (1.0 + cos) / 2.0)
            }
            Rule::Lambda { .. }
            | Rule::Multiplicative { .. }
            | Rule::Cyclic(_)
            | Rule::OneCycle(_) => None,
        }
    }

    /// True for the rules that set the lr from the base lr alone and so overwrite whatever an
    /// earlier child of a `ChainedScheduler` did.
    pub(crate) fn is_absolute(&self) -> bool {
        matches!(
            self,
            Rule::Lambda { .. } | Rule::Cyclic(_) | Rule::OneCycle(_)
        )
    }
}

impl Cyclic {
    /// cycle = ⌊1 + t/total⌋, x = 1 + t/total − cycle, sf = x/ratio (rising) or (x−1)/(ratio−1);
    /// lr = base + ((max − base)·sf)·scale, momentum = max_m − ((max_m − base_m)·sf)·scale.
    fn get_lr(&self, t: i64, base_lrs: &[f64]) -> Values {
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
        let lrs = base_lrs
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
        Values { lrs, momenta }
    }
}

impl OneCycle {
    /// Walk the phases; pct = (t − start)/(end − start); cos: to + (from − to)/2·(cos(π·pct) + 1),
    /// linear: (to − from)·pct + from. t > total_steps is an error, as in PyTorch.
    fn get_lr(
        &self,
        name: &'static str,
        t: i64,
        opt: &dyn ParamGroups,
    ) -> Result<Values, ScheduleError> {
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
