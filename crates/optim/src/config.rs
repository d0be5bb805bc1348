//! Serde descriptions of the optimizer and of every scheduler, keyed exactly as PyTorch's
//! keyword arguments, with `name` choosing the class (`name = "StepLR"`, `step_size = 4`, ...).
//! Unknown names and keys are errors that list the allowed ones; ranges are checked when the
//! scheduler is built ([`crate::Scheduler::new`]).

use std::fmt;
use std::sync::Arc;

use serde::de::{self, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::adam::{Adam, AdamConfig};
use crate::error::OptimError;
use crate::formula::Formula;
use crate::math::pow;
use crate::optimizer::Optimizer;
use crate::sgd::{Sgd, SgdConfig};

/// The `[optimizer]` table of a run config: `name` chooses the class (`"SGD"`, `"Adam"`,
/// `"AdamW"`) and the other keys are that class's keyword arguments, with PyTorch's names and
/// defaults (AdamW's `weight_decay` defaults to 1e-2, Adam's to 0). A key the chosen class does
/// not take is an error that lists the ones it does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name")]
pub enum OptimizerConfig {
    /// `torch.optim.SGD`.
    #[serde(rename = "SGD")]
    Sgd(SgdConfig),
    /// `torch.optim.Adam` (L2 weight decay added to the gradient).
    #[serde(rename = "Adam")]
    Adam(AdamConfig),
    /// `torch.optim.AdamW` (decoupled weight decay).
    #[serde(rename = "AdamW")]
    AdamW(#[serde(with = "adamw_keys")] AdamConfig),
}

impl OptimizerConfig {
    /// The PyTorch class name.
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd(_) => "SGD",
            OptimizerConfig::Adam(_) => "Adam",
            OptimizerConfig::AdamW(_) => "AdamW",
        }
    }

    /// PyTorch's constructor checks of the chosen class.
    pub fn validate(&self) -> Result<(), OptimError> {
        match self {
            OptimizerConfig::Sgd(c) => c.validate(),
            OptimizerConfig::Adam(c) | OptimizerConfig::AdamW(c) => c.validate(),
        }
    }

    /// Build the optimizer with one parameter group holding tensors of these lengths.
    pub fn build(&self, param_lens: &[usize]) -> Result<Optimizer, OptimError> {
        Ok(match self {
            OptimizerConfig::Sgd(c) => Optimizer::Sgd(Sgd::new(c, param_lens)?),
            OptimizerConfig::Adam(c) => Optimizer::Adam(Adam::new(c, param_lens)?),
            OptimizerConfig::AdamW(c) => Optimizer::Adam(Adam::adamw(c, param_lens)?),
        })
    }
}

/// AdamW's keys: Adam's, with `weight_decay` defaulting to 1e-2 as in `torch.optim.AdamW`.
mod adamw_keys {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::adam::AdamConfig;

    #[derive(Serialize, Deserialize)]
    #[serde(default = "AdamConfig::adamw_default", deny_unknown_fields)]
    #[serde(remote = "AdamConfig")]
    struct AdamWKeys {
        lr: f64,
        betas: [f64; 2],
        eps: f64,
        weight_decay: f64,
        amsgrad: bool,
        maximize: bool,
    }

    pub fn serialize<S: Serializer>(config: &AdamConfig, serializer: S) -> Result<S::Ok, S::Error> {
        AdamWKeys::serialize(config, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<AdamConfig, D::Error> {
        AdamWKeys::deserialize(deserializer)
    }
}

/// A value given once for every parameter group, or once per group (PyTorch's "float or list").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PerGroup<T> {
    /// The same value for every group.
    All(T),
    /// One value per group, in group order.
    Each(Vec<T>),
}

impl<T: Clone> PerGroup<T> {
    /// Expand to one value per group; `None` if a list has the wrong length.
    pub fn expand(&self, groups: usize) -> Option<Vec<T>> {
        match self {
            PerGroup::All(v) => Some(vec![v.clone(); groups]),
            PerGroup::Each(list) if list.len() == groups => Some(list.clone()),
            PerGroup::Each(_) => None,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for PerGroup<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PerGroupVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for PerGroupVisitor<T> {
            type Value = PerGroup<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value, or a list with one value per parameter group")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::<T>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(PerGroup::Each)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(PerGroup::All)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(PerGroup::All)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(PerGroup::All)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(PerGroup::All)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(PerGroup::All)
            }
        }
        deserializer.deserialize_any(PerGroupVisitor(std::marker::PhantomData))
    }
}

/// A function of the scheduler step `t` (PyTorch's `lr_lambda(epoch)`), for `LambdaLR`
/// (lr = base·λ(t)) and `MultiplicativeLR` (lr = lr·λ(t)). Python functions cannot come from a
/// config file, so a config writes the function as a formula in `t`
/// (`lr_lambda = "min(1, (t + 1) / 5) * 0.95 ^ t"`, see [`Formula`]) or names one of a small
/// set (`lr_lambda = { name = "exponential", gamma = 0.95 }`); any other function is Rust-only
/// ([`LrLambda::custom`]).
#[derive(Clone)]
pub enum LrLambda {
    /// λ(t) = factor (`lambda epoch: factor`, the usual `MultiplicativeLR` lambda).
    Constant {
        /// The constant factor.
        factor: f64,
    },
    /// λ(t) = gamma ** t.
    Exponential {
        /// The base.
        gamma: f64,
    },
    /// λ(t) = gamma ** (t // step_size).
    Step {
        /// Steps between decays (≥ 1).
        step_size: i64,
        /// Decay factor.
        gamma: f64,
    },
    /// λ(t) = min(1, t / warmup) (a warm-up from 0; note lr is 0 at t = 0, as in Python).
    LinearWarmup {
        /// Steps to reach the full lr (≥ 1).
        warmup: i64,
    },
    /// λ(t) written as a formula in `t` (a string in a config file).
    Formula(Formula),
    /// Any Rust function of t (not available from config files, not saved in a state).
    Custom(Arc<dyn Fn(i64) -> f64 + Send + Sync>),
}

/// The named lambdas as a config writes them (`{ name = "step", step_size = 3, gamma = 0.5 }`).
#[derive(Deserialize, Serialize)]
#[serde(tag = "name", deny_unknown_fields)]
enum NamedLambda {
    #[serde(rename = "constant")]
    Constant { factor: f64 },
    #[serde(rename = "exponential")]
    Exponential { gamma: f64 },
    #[serde(rename = "step")]
    Step { step_size: i64, gamma: f64 },
    #[serde(rename = "linear_warmup")]
    LinearWarmup { warmup: i64 },
}

impl From<NamedLambda> for LrLambda {
    fn from(named: NamedLambda) -> LrLambda {
        match named {
            NamedLambda::Constant { factor } => LrLambda::Constant { factor },
            NamedLambda::Exponential { gamma } => LrLambda::Exponential { gamma },
            NamedLambda::Step { step_size, gamma } => LrLambda::Step { step_size, gamma },
            NamedLambda::LinearWarmup { warmup } => LrLambda::LinearWarmup { warmup },
        }
    }
}

impl<'de> Deserialize<'de> for LrLambda {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LambdaVisitor;
        impl<'de> Visitor<'de> for LambdaVisitor {
            type Value = LrLambda;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a formula in t (\"0.95 ^ t\") or a named lambda ({ name = \"exponential\", \
                     gamma = 0.95 })",
                )
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<LrLambda, E> {
                Formula::parse(text)
                    .map(LrLambda::Formula)
                    .map_err(|e| E::custom(format!("lr_lambda formula {text:?}, {e}")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LrLambda, A::Error> {
                NamedLambda::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(LrLambda::from)
            }
        }
        deserializer.deserialize_any(LambdaVisitor)
    }
}

impl Serialize for LrLambda {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let named = match self {
            LrLambda::Constant { factor } => NamedLambda::Constant { factor: *factor },
            LrLambda::Exponential { gamma } => NamedLambda::Exponential { gamma: *gamma },
            LrLambda::Step { step_size, gamma } => NamedLambda::Step {
                step_size: *step_size,
                gamma: *gamma,
            },
            LrLambda::LinearWarmup { warmup } => NamedLambda::LinearWarmup { warmup: *warmup },
            LrLambda::Formula(formula) => return serializer.serialize_str(formula.text()),
            LrLambda::Custom(_) => {
                return Err(serde::ser::Error::custom(
                    "a Rust closure lr_lambda cannot be saved; write it as a formula in t",
                ))
            }
        };
        named.serialize(serializer)
    }
}

impl LrLambda {
    /// Wrap a Rust closure.
    pub fn custom(f: impl Fn(i64) -> f64 + Send + Sync + 'static) -> LrLambda {
        LrLambda::Custom(Arc::new(f))
    }

    /// λ(t), as the Python expression it stands for.
    pub fn eval(&self, t: i64) -> f64 {
        match self {
            LrLambda::Constant { factor } => *factor,
            LrLambda::Exponential { gamma } => pow(*gamma, t as f64),
            LrLambda::Step { step_size, gamma } => pow(*gamma, t.div_euclid(*step_size) as f64),
            LrLambda::LinearWarmup { warmup } => (t as f64 / *warmup as f64).min(1.0),
            LrLambda::Formula(formula) => formula.eval(t as f64),
            LrLambda::Custom(f) => f(t),
        }
    }

    pub(crate) fn check(&self, scheduler: &'static str) -> Result<(), crate::ScheduleError> {
        let bad = |key: &'static str, value: String| crate::ScheduleError::InvalidArgument {
            scheduler,
            key,
            value,
            allowed: "an integer >= 1".into(),
        };
        match self {
            LrLambda::Step { step_size, .. } if *step_size < 1 => {
                Err(bad("lr_lambda.step_size", step_size.to_string()))
            }
            LrLambda::LinearWarmup { warmup } if *warmup < 1 => {
                Err(bad("lr_lambda.warmup", warmup.to_string()))
            }
            // Python would only fail (or train on a NaN lr) when it got there; a value that is
            // not finite at the first step is refused before any work.
            LrLambda::Formula(formula) if !formula.eval(0.0).is_finite() => {
                Err(crate::ScheduleError::InvalidArgument {
                    scheduler,
                    key: "lr_lambda",
                    value: format!("{:?} (= {} at t = 0)", formula.text(), formula.eval(0.0)),
                    allowed: "a formula whose value at t = 0 is a finite number".into(),
                })
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for LrLambda {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LrLambda::Constant { factor } => write!(f, "constant({factor})"),
            LrLambda::Exponential { gamma } => write!(f, "exponential({gamma})"),
            LrLambda::Step { step_size, gamma } => write!(f, "step({step_size}, {gamma})"),
            LrLambda::LinearWarmup { warmup } => write!(f, "linear_warmup({warmup})"),
            LrLambda::Formula(formula) => write!(f, "{formula:?}"),
            LrLambda::Custom(_) => write!(f, "custom(<closure>)"),
        }
    }
}

/// A custom `CyclicLR` scale function of the cycle number or iteration (Rust-only).
#[derive(Clone)]
pub struct ScaleFn(pub Arc<dyn Fn(f64) -> f64 + Send + Sync>);

impl fmt::Debug for ScaleFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ScaleFn(<closure>)")
    }
}

/// `ReduceLROnPlateau(mode=...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlateauMode {
    /// Lower is better (a loss).
    Min,
    /// Higher is better (an accuracy).
    Max,
}

/// `ReduceLROnPlateau(threshold_mode=...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdMode {
    /// Improvement relative to the best value (best·(1 ± threshold)).
    Rel,
    /// Improvement by an absolute amount (best ± threshold).
    Abs,
}

/// `CyclicLR(mode=...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScaleMode {
    /// The scale function receives the cycle number.
    Cycle,
    /// The scale function receives the iteration.
    Iterations,
}

/// `OneCycleLR(anneal_strategy=...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnnealStrategy {
    /// Cosine annealing.
    Cos,
    /// Linear annealing.
    Linear,
}

fn d_gamma() -> f64 {
    0.1
}
fn d_third() -> f64 {
    1.0 / 3.0
}
fn d_one() -> f64 {
    1.0
}
fn d_five() -> i64 {
    5
}
fn d_one_i() -> i64 {
    1
}
fn d_true() -> bool {
    true
}
fn d_plateau_factor() -> f64 {
    0.1
}
fn d_patience() -> i64 {
    10
}
fn d_threshold() -> f64 {
    1e-4
}
fn d_min_lr() -> PerGroup<f64> {
    PerGroup::All(0.0)
}
fn d_eps() -> f64 {
    1e-8
}
fn d_step_up() -> i64 {
    2000
}
fn d_base_momentum_cyclic() -> PerGroup<f64> {
    PerGroup::All(0.8)
}
fn d_max_momentum_cyclic() -> PerGroup<f64> {
    PerGroup::All(0.9)
}
fn d_base_momentum_onecycle() -> PerGroup<f64> {
    PerGroup::All(0.85)
}
fn d_max_momentum_onecycle() -> PerGroup<f64> {
    PerGroup::All(0.95)
}
fn d_pct_start() -> f64 {
    0.3
}
fn d_div_factor() -> f64 {
    25.0
}
fn d_final_div_factor() -> f64 {
    1e4
}
fn d_min() -> PlateauMode {
    PlateauMode::Min
}
fn d_rel() -> ThresholdMode {
    ThresholdMode::Rel
}
fn d_triangular() -> CyclicMode {
    CyclicMode::Triangular
}
fn d_cycle() -> ScaleMode {
    ScaleMode::Cycle
}
fn d_cos() -> AnnealStrategy {
    AnnealStrategy::Cos
}

/// Every PyTorch learning-rate scheduler with its keyword arguments and defaults, spelled as in
/// `torch.optim.lr_scheduler` (`T_max`, `T_0`, `eta_min`, ...). `name` picks the class.
/// `last_epoch` is not offered: resume through [`crate::Scheduler::load_state`] instead.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "name", deny_unknown_fields)]
pub enum SchedulerConfig {
    /// lr = base·λ(t).
    LambdaLR {
        /// One function for every group, or one per group.
        lr_lambda: PerGroup<LrLambda>,
    },
    /// lr = lr·λ(t) for t ≥ 1.
    MultiplicativeLR {
        /// One function for every group, or one per group.
        lr_lambda: PerGroup<LrLambda>,
    },
    /// lr·gamma every `step_size` steps.
    StepLR {
        /// Period of decay (≥ 1).
        step_size: i64,
        /// Decay factor (default 0.1).
        #[serde(default = "d_gamma")]
        gamma: f64,
    },
    /// lr·gamma at each milestone (a multiset).
    MultiStepLR {
        /// Steps at which to decay.
        milestones: Vec<i64>,
        /// Decay factor (default 0.1).
        #[serde(default = "d_gamma")]
        gamma: f64,
    },
    /// lr·factor until `total_iters`, then lr.
    ConstantLR {
        /// Factor in (0, 1] (default 1/3).
        #[serde(default = "d_third")]
        factor: f64,
        /// Steps at the reduced lr (default 5).
        #[serde(default = "d_five")]
        total_iters: i64,
    },
    /// Factor moving linearly from `start_factor` to `end_factor` over `total_iters` steps.
    LinearLR {
        /// In (0, 1] (default 1/3).
        #[serde(default = "d_third")]
        start_factor: f64,
        /// In [0, 1] (default 1).
        #[serde(default = "d_one")]
        end_factor: f64,
        /// Length of the ramp (default 5).
        #[serde(default = "d_five")]
        total_iters: i64,
    },
    /// lr·gamma every step.
    ExponentialLR {
        /// Decay factor (required).
        gamma: f64,
    },
    /// Children one after another, switching at the milestones.
    SequentialLR {
        /// The children (at least one; no ReduceLROnPlateau).
        schedulers: Vec<SchedulerConfig>,
        /// One fewer than the children.
        milestones: Vec<i64>,
    },
    /// (1 − t/T)^power decay to 0 over `total_iters` steps.
    PolynomialLR {
        /// Steps to reach 0 (default 5).
        #[serde(default = "d_five")]
        total_iters: i64,
        /// The power (default 1).
        #[serde(default = "d_one")]
        power: f64,
    },
    /// Cosine from the base lr to `eta_min` over `T_max` steps (PyTorch's recursive form).
    CosineAnnealingLR {
        /// Half period (≥ 1).
        #[serde(rename = "T_max")]
        t_max: i64,
        /// Minimum lr (default 0).
        #[serde(default)]
        eta_min: f64,
    },
    /// Every child's step, in order, on the same lr.
    ChainedScheduler {
        /// The children (at least one; no ReduceLROnPlateau).
        schedulers: Vec<SchedulerConfig>,
    },
    /// Reduce the lr when a metric stops improving.
    ReduceLROnPlateau {
        /// `min` or `max` (default `min`).
        #[serde(default = "d_min")]
        mode: PlateauMode,
        /// new lr = lr·factor, factor < 1 (default 0.1).
        #[serde(default = "d_plateau_factor")]
        factor: f64,
        /// Bad steps tolerated before a reduction (default 10).
        #[serde(default = "d_patience")]
        patience: i64,
        /// Significance threshold (default 1e-4).
        #[serde(default = "d_threshold")]
        threshold: f64,
        /// `rel` or `abs` (default `rel`).
        #[serde(default = "d_rel")]
        threshold_mode: ThresholdMode,
        /// Steps without counting after a reduction (default 0).
        #[serde(default)]
        cooldown: i64,
        /// Lower bound, one or per group (default 0).
        #[serde(default = "d_min_lr")]
        min_lr: PerGroup<f64>,
        /// Reductions smaller than this are skipped (default 1e-8).
        #[serde(default = "d_eps")]
        eps: f64,
    },
    /// Cyclical learning rate (and inverse momentum).
    CyclicLR {
        /// Lower lr bound (one or per group).
        base_lr: PerGroup<f64>,
        /// Upper lr bound (one or per group).
        max_lr: PerGroup<f64>,
        /// Steps of the rising half (default 2000).
        #[serde(default = "d_step_up")]
        step_size_up: i64,
        /// Steps of the falling half (default = step_size_up).
        #[serde(default)]
        step_size_down: Option<i64>,
        /// `triangular`, `triangular2` or `exp_range` (default `triangular`).
        #[serde(default = "d_triangular")]
        mode: CyclicMode,
        /// For `exp_range` (default 1).
        #[serde(default = "d_one")]
        gamma: f64,
        /// `cycle` or `iterations`; used only with a custom `scale_fn` (default `cycle`).
        #[serde(default = "d_cycle")]
        scale_mode: ScaleMode,
        /// Cycle momentum inversely to the lr (default true).
        #[serde(default = "d_true")]
        cycle_momentum: bool,
        /// Lower momentum bound (default 0.8).
        #[serde(default = "d_base_momentum_cyclic")]
        base_momentum: PerGroup<f64>,
        /// Upper momentum bound (default 0.9).
        #[serde(default = "d_max_momentum_cyclic")]
        max_momentum: PerGroup<f64>,
        /// A custom scale function (Rust-only; overrides `mode`).
        #[serde(skip)]
        scale_fn: Option<ScaleFn>,
    },
    /// The 1cycle policy.
    OneCycleLR {
        /// Peak lr (one or per group).
        max_lr: PerGroup<f64>,
        /// Total steps (or give epochs and steps_per_epoch).
        #[serde(default)]
        total_steps: Option<i64>,
        /// Epochs (with steps_per_epoch).
        #[serde(default)]
        epochs: Option<i64>,
        /// Steps per epoch (with epochs).
        #[serde(default)]
        steps_per_epoch: Option<i64>,
        /// Fraction of the cycle spent rising, in [0, 1] (default 0.3).
        #[serde(default = "d_pct_start")]
        pct_start: f64,
        /// `cos` or `linear` (default `cos`).
        #[serde(default = "d_cos")]
        anneal_strategy: AnnealStrategy,
        /// Cycle momentum inversely to the lr (default true).
        #[serde(default = "d_true")]
        cycle_momentum: bool,
        /// Lower momentum bound (default 0.85).
        #[serde(default = "d_base_momentum_onecycle")]
        base_momentum: PerGroup<f64>,
        /// Upper momentum bound (default 0.95).
        #[serde(default = "d_max_momentum_onecycle")]
        max_momentum: PerGroup<f64>,
        /// initial lr = max_lr / div_factor (default 25).
        #[serde(default = "d_div_factor")]
        div_factor: f64,
        /// min lr = initial lr / final_div_factor (default 1e4).
        #[serde(default = "d_final_div_factor")]
        final_div_factor: f64,
        /// Use the paper's three phases (default false).
        #[serde(default)]
        three_phase: bool,
    },
    /// SGDR cosine with warm restarts.
    CosineAnnealingWarmRestarts {
        /// Steps until the first restart (≥ 1).
        #[serde(rename = "T_0")]
        t_0: i64,
        /// Period growth factor (integer ≥ 1, default 1).
        #[serde(rename = "T_mult", default = "d_one_i")]
        t_mult: i64,
        /// Minimum lr (default 0).
        #[serde(default)]
        eta_min: f64,
    },
}

impl SchedulerConfig {
    /// The PyTorch class name.
    pub fn name(&self) -> &'static str {
        match self {
            SchedulerConfig::LambdaLR { .. } => "LambdaLR",
            SchedulerConfig::MultiplicativeLR { .. } => "MultiplicativeLR",
            SchedulerConfig::StepLR { .. } => "StepLR",
            SchedulerConfig::MultiStepLR { .. } => "MultiStepLR",
            SchedulerConfig::ConstantLR { .. } => "ConstantLR",
            SchedulerConfig::LinearLR { .. } => "LinearLR",
            SchedulerConfig::ExponentialLR { .. } => "ExponentialLR",
            SchedulerConfig::SequentialLR { .. } => "SequentialLR",
            SchedulerConfig::PolynomialLR { .. } => "PolynomialLR",
            SchedulerConfig::CosineAnnealingLR { .. } => "CosineAnnealingLR",
            SchedulerConfig::ChainedScheduler { .. } => "ChainedScheduler",
            SchedulerConfig::ReduceLROnPlateau { .. } => "ReduceLROnPlateau",
            SchedulerConfig::CyclicLR { .. } => "CyclicLR",
            SchedulerConfig::OneCycleLR { .. } => "OneCycleLR",
            SchedulerConfig::CosineAnnealingWarmRestarts { .. } => "CosineAnnealingWarmRestarts",
        }
    }
}

impl<'de> Deserialize<'de> for PlateauMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        choice(
            deserializer,
            "mode",
            &[("min", PlateauMode::Min), ("max", PlateauMode::Max)],
        )
    }
}

impl<'de> Deserialize<'de> for ThresholdMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        choice(
            deserializer,
            "threshold_mode",
            &[("rel", ThresholdMode::Rel), ("abs", ThresholdMode::Abs)],
        )
    }
}

impl<'de> Deserialize<'de> for CyclicMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        choice(
            deserializer,
            "mode",
            &[
                ("triangular", CyclicMode::Triangular),
                ("triangular2", CyclicMode::Triangular2),
                ("exp_range", CyclicMode::ExpRange),
            ],
        )
    }
}

impl<'de> Deserialize<'de> for ScaleMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        choice(
            deserializer,
            "scale_mode",
            &[
                ("cycle", ScaleMode::Cycle),
                ("iterations", ScaleMode::Iterations),
            ],
        )
    }
}

impl<'de> Deserialize<'de> for AnnealStrategy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        choice(
            deserializer,
            "anneal_strategy",
            &[
                ("cos", AnnealStrategy::Cos),
                ("linear", AnnealStrategy::Linear),
            ],
        )
    }
}

/// Deserialise one of a fixed set of strings; the error names the key and the allowed values.
fn choice<'de, D: Deserializer<'de>, T: Copy>(
    deserializer: D,
    key: &str,
    options: &[(&str, T)],
) -> Result<T, D::Error> {
    let given = String::deserialize(deserializer)?;
    options
        .iter()
        .find(|(name, _)| *name == given)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let allowed: Vec<String> = options
                .iter()
                .map(|(name, _)| format!("\"{name}\""))
                .collect();
            de::Error::custom(format!(
                "`{key}` = \"{given}\" is not allowed; use one of {}",
                allowed.join(", ")
            ))
        })
}
