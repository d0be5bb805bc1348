//! The crate's two error enums: [`OptimError`] (SGD) and [`ScheduleError`] (schedulers).

use std::fmt;

/// Why an SGD construction, step or state restore was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum OptimError {
    /// A hyper-parameter is out of the range PyTorch accepts (or is not finite).
    InvalidArgument {
        /// The keyword, spelled as in `torch.optim.SGD` (`lr`, `momentum`, ...).
        key: &'static str,
        /// The rejected value, as given.
        value: String,
        /// What is allowed, in words.
        allowed: &'static str,
    },
    /// `nesterov = true` needs `momentum > 0` and `dampening = 0` (PyTorch's own check).
    NesterovNeedsMomentum {
        /// The group's momentum.
        momentum: f64,
        /// The group's dampening.
        dampening: f64,
    },
    /// `step` got a different number of parameter or gradient tensors than the optimizer holds.
    TensorCount {
        /// How many tensors the optimizer was built for.
        expected: usize,
        /// How many parameter tensors were passed.
        params: usize,
        /// How many gradient tensors were passed.
        grads: usize,
    },
    /// A parameter or gradient tensor has a different length than at construction.
    TensorLength {
        /// Index of the tensor (over all groups, in order).
        index: usize,
        /// Its length at construction.
        expected: usize,
        /// The parameter slice's length.
        param: usize,
        /// The gradient slice's length.
        grad: usize,
    },
    /// A parameter group index past the last group.
    NoSuchGroup {
        /// The requested group.
        group: usize,
        /// How many groups there are.
        groups: usize,
    },
    /// The optimizer needs at least one parameter group.
    NoGroups,
    /// A saved state does not fit this optimizer (different groups or tensor shapes).
    StateMismatch(String),
    /// A saved state holds a value a fresh optimizer would refuse (checked on restore).
    BadState {
        /// Where in the state: `param_groups[0].lr`, `momentum_buffers[2][17]`, ...
        field: String,
        /// The value found.
        value: String,
        /// What is allowed, in words.
        allowed: String,
    },
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptimError::InvalidArgument {
                key,
                value,
                allowed,
            } => {
                write!(f, "invalid `{key}` = {value}; allowed: {allowed}")
            }
            OptimError::NesterovNeedsMomentum {
                momentum,
                dampening,
            } => write!(
                f,
                "SGD: `nesterov = true` requires `momentum` > 0 and `dampening` = 0 \
                 (got momentum = {momentum}, dampening = {dampening}); set momentum (e.g. 0.9) \
                 and dampening = 0, or nesterov = false"
            ),
            OptimError::TensorCount {
                expected,
                params,
                grads,
            } => write!(
                f,
                "SGD step: the optimizer holds {expected} tensors but got {params} parameter \
                 and {grads} gradient tensors; pass one of each per tensor, in construction order"
            ),
            OptimError::TensorLength {
                index,
                expected,
                param,
                grad,
            } => write!(
                f,
                "SGD step: tensor {index} has length {expected} at construction but the parameter \
                 slice has {param} and the gradient slice {grad} elements"
            ),
            OptimError::NoSuchGroup { group, groups } => write!(
                f,
                "SGD: parameter group {group} does not exist (the optimizer has {groups} groups)"
            ),
            OptimError::NoGroups => write!(f, "SGD: needs at least one parameter group"),
            OptimError::StateMismatch(why) => {
                write!(f, "SGD: the saved state does not fit this optimizer: {why}")
            }
            OptimError::BadState {
                field,
                value,
                allowed,
            } => write!(
                f,
                "SGD: the saved state has `{field}` = {value}; allowed: {allowed}"
            ),
        }
    }
}

impl std::error::Error for OptimError {}

/// Why a scheduler construction, step or state restore was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduleError {
    /// A keyword argument is out of range (or not finite).
    InvalidArgument {
        /// The scheduler's PyTorch class name.
        scheduler: &'static str,
        /// The keyword, spelled as in PyTorch (`step_size`, `T_max`, ...).
        key: &'static str,
        /// The rejected value.
        value: String,
        /// What is allowed, in words.
        allowed: String,
    },
    /// `step()` on `ReduceLROnPlateau`: it needs the monitored metric.
    NeedsMetric,
    /// `step_with_metric()` on a scheduler that does not take a metric.
    MetricNotAccepted {
        /// The scheduler's PyTorch class name.
        scheduler: &'static str,
    },
    /// The metric passed to `ReduceLROnPlateau` is NaN.
    NanMetric,
    /// A schedule ran past its end (`OneCycleLR` after `total_steps` steps).
    PastTheEnd {
        /// The scheduler's PyTorch class name.
        scheduler: &'static str,
        /// The step that was attempted.
        step: i64,
        /// The last valid step.
        total_steps: i64,
    },
    /// A computation that Python would abort with `ZeroDivisionError`.
    DivisionByZero {
        /// The scheduler's PyTorch class name.
        scheduler: &'static str,
        /// What was divided, in words.
        what: String,
    },
    /// The combination is not supported (e.g. `ReduceLROnPlateau` inside `SequentialLR`).
    Unsupported(String),
    /// The optimizer has a different number of parameter groups than the scheduler expects.
    GroupCount {
        /// Groups the scheduler was built for.
        expected: usize,
        /// Groups the optimizer has now.
        found: usize,
    },
    /// A saved state does not fit this scheduler.
    StateMismatch(String),
    /// A saved state holds a value a fresh scheduler would refuse (checked on restore).
    BadState {
        /// Where in the state: `SequentialLR.schedulers[1].step_size`, ...
        field: String,
        /// The value found.
        value: String,
        /// What is allowed, in words.
        allowed: String,
    },
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleError::InvalidArgument { scheduler, key, value, allowed } => {
                write!(f, "{scheduler}: invalid `{key}` = {value}; allowed: {allowed}")
            }
            ScheduleError::NeedsMetric => write!(
                f,
                "ReduceLROnPlateau needs the monitored metric: call step_with_metric(metric) \
                 once per fresh validation, not step()"
            ),
            ScheduleError::MetricNotAccepted { scheduler } => write!(
                f,
                "{scheduler} does not take a metric (only ReduceLROnPlateau does); call step()"
            ),
            ScheduleError::NanMetric => write!(
                f,
                "ReduceLROnPlateau: the metric is NaN; check the validation that produced it \
                 (PyTorch would silently count it as a bad epoch)"
            ),
            ScheduleError::PastTheEnd { scheduler, step, total_steps } => write!(
                f,
                "{scheduler}: tried to step {step} times; the specified number of total steps is \
                 {total_steps} (raise total_steps or stop stepping)"
            ),
            ScheduleError::DivisionByZero { scheduler, what } => {
                write!(f, "{scheduler}: division by zero in {what} (Python raises ZeroDivisionError)")
            }
            ScheduleError::Unsupported(why) => write!(f, "{why}"),
            ScheduleError::GroupCount { expected, found } => write!(
                f,
                "the scheduler was built for {expected} parameter groups but the optimizer has {found}"
            ),
            ScheduleError::StateMismatch(why) => {
                write!(f, "the saved scheduler state does not fit this scheduler: {why}")
            }
            ScheduleError::BadState { field, value, allowed } => write!(
                f,
                "the saved scheduler state has `{field}` = {value}; allowed: {allowed}"
            ),
        }
    }
}

impl std::error::Error for ScheduleError {}

/// Checks a step's tensors against what the optimizer was built for: `expected` tensors with the
/// lengths `lens` (over all groups in order), as many gradients as parameters, each of its
/// tensor's length. Allocates nothing (the training step must not).
pub(crate) fn check_tensors(
    expected: usize,
    lens: impl Iterator<Item = usize>,
    params: &[&mut [f32]],
    grads: &[&[f32]],
) -> Result<(), OptimError> {
    if params.len() != expected || grads.len() != expected {
        return Err(OptimError::TensorCount {
            expected,
            params: params.len(),
            grads: grads.len(),
        });
    }
    for (index, ((p, g), len)) in params.iter().zip(grads).zip(lens).enumerate() {
        if p.len() != len || g.len() != len {
            return Err(OptimError::TensorLength {
                index,
                expected: len,
                param: p.len(),
                grad: g.len(),
            });
        }
    }
    Ok(())
}

/// PyTorch's `if not 0.0 <= value` constructor check, for each `(keyword, value)`, with NaN and
/// infinities refused too: the first that fails is the error.
pub(crate) fn check_non_negative(checks: &[(&'static str, f64)]) -> Result<(), OptimError> {
    for &(key, value) in checks {
        if !(value.is_finite() && value >= 0.0) {
            return Err(OptimError::InvalidArgument {
                key,
                value: value.to_string(),
                allowed: "a finite number >= 0",
            });
        }
    }
    Ok(())
}
