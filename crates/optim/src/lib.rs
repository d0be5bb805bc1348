//! optim: SGD and every PyTorch learning-rate scheduler, with PyTorch's names and semantics.
//!
//! ## The math
//! SGD (`torch.optim.SGD`), per tensor, with f32 tensors and f64 hyper-parameters cast to f32:
//! ```text
//! d = maximize ? -g : g;   d += λ·p (λ ≠ 0)
//! b = d (first step) | μ·b + (1-τ)·d;   d = nesterov ? d + μ·b : b   (μ ≠ 0)
//! p -= lr·d
//! ```
//! Every `a + α·b` is one fused multiply-add (`f32::mul_add`), as ATen's CPU `add(alpha=...)`
//! kernel computes it; this reproduces PyTorch's parameters bit for bit (see
//! `tests/pytorch_fixtures.rs`). Build with `-C target-cpu=native` so that it is one instruction.
//!
//! Schedulers follow `torch.optim.lr_scheduler` exactly, in f64: construction writes the lr for
//! t = 0, each `step()` computes the next lr with PyTorch's own (chainable) recursion from the
//! lr currently in the optimizer, and [`Scheduler::last_lr`] is the lr in use. There is no
//! `get_lr()`. With `L` the lr in use, `B` the base lr and `t` the number of scheduler steps:
//! ```text
//! loop:  for each batch { opt.step() }   sched.step()      (PyTorch >= 1.1: optimizer first)
//! StepLR             L ← L·γ  when t is a multiple of step_size     (= B·γ^⌊t/step_size⌋)
//! ExponentialLR      L ← L·γ                                        (= B·γ^t)
//! CosineAnnealingLR  L ← η + (L − η)·(1 + cos(πt/T)) / (1 + cos(π(t−1)/T))
//!                                                  (= η + (B − η)(1 + cos(πt/T))/2 for t ≤ T)
//! ReduceLROnPlateau  bad ← better(metric, best) ? 0 : bad + 1
//!                    if bad > patience:  L ← max(L·factor, min_lr) (skipped if the cut < eps), bad ← 0
//! ```
//! The other formulas (one per class, in PyTorch's operation order) are at the top of each
//! class's file in `scheduler/` (`step_lr.rs`, `cyclic_lr.rs`, ...). Stepping before the optimizer is recorded as a [`Warning`]; `ReduceLROnPlateau`
//! takes its metric in [`Scheduler::step_with_metric`] and reports what it did
//! ([`PlateauEvent`]); a NaN metric is an error.
//!
//! ## Quick start
//! ```
//! use optim::{Scheduler, SchedulerConfig, Sgd, SgdConfig};
//! let mut opt = Sgd::new(&SgdConfig { lr: 0.1, momentum: 0.9, nesterov: true, ..SgdConfig::default() }, &[2])?;
//! let config: SchedulerConfig = toml::from_str("name = 'StepLR'\nstep_size = 2\ngamma = 0.5")?;
//! let mut sched = Scheduler::new(&config, &mut opt)?;
//! let mut w = vec![1.0f32, -1.0];
//! for _ in 0..2 {
//!     opt.step(&mut [&mut w], &[&[0.5, 0.5]])?;
//!     sched.step(&mut opt)?;
//! }
//! assert_eq!(sched.last_lr(), vec![0.05]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Modules
//! - `sgd`: [`Sgd`], [`SgdConfig`], [`SgdState`], [`StepReport`] (per-tensor norms);
//!   `sgd_restore`: the checks a saved [`SgdState`] passes before it is loaded.
//! - `adam`: [`Adam`] (`torch.optim.Adam` and `AdamW`, bit for bit with PyTorch's
//!   single-tensor algorithm), [`AdamConfig`], [`AdamState`].
//! - `param_groups`: [`ParamGroups`], what a scheduler reads and writes of an optimizer, so that
//!   every scheduler drives SGD or Adam (`CyclicLR` / `OneCycleLR` cycle Adam's `betas[0]`).
//! - `config`: [`OptimizerConfig`] (`[optimizer]` table).
//! - `formula`: [`Formula`], an lr formula in `t` (`"min(1, (t + 1) / 5) * 0.95 ^ t"`), parsed
//!   and checked when a config is read, evaluated in f64 as Python evaluates the same lambda.
//! - [`scheduler`]: [`Scheduler`] (the stepping protocol and its state), [`SchedulerConfig`]
//!   (every scheduler, PyTorch's keyword names), and one file per class
//!   ([`scheduler::ExponentialLR`], ...) with its arguments, their checks, its chainable rule and
//!   its closed form; [`SCHEDULER_NAMES`] lists them.
//! - `error`: [`OptimError`], [`ScheduleError`].

#![warn(missing_docs)]

mod adam;
mod config;
mod error;
mod formula;
mod math;
mod param_groups;
pub mod scheduler;
mod sgd;
mod sgd_restore;

pub use adam::{Adam, AdamConfig, AdamGroup, AdamMoments, AdamState, WeightDecay};
pub use config::OptimizerConfig;
pub use error::{OptimError, ScheduleError};
pub use formula::{Formula, FormulaError};
pub use param_groups::ParamGroups;
pub use scheduler::{
    AnnealStrategy, CyclicMode, LrLambda, PerGroup, PlateauEvent, PlateauMode, ScaleFn, ScaleMode,
    Scheduler, SchedulerConfig, SchedulerState, ThresholdMode, Warning, WarningKind,
    SCHEDULER_NAMES,
};
pub use sgd::{ParamGroup, Sgd, SgdConfig, SgdState, StepReport, TensorReport};
