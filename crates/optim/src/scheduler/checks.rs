//! The range checks every scheduler's arguments pass, twice: when a config is built (a mistake
//! is an [`ScheduleError::InvalidArgument`] naming the class and the keyword) and when a saved
//! state is restored (a [`ScheduleError::BadState`] naming the field by its path in the tree,
//! e.g. `SequentialLR.schedulers[1].T_max`). Each scheduler file writes its checks once, against
//! a [`Checking`], so a saved state cannot hold what a config could not.

use crate::error::ScheduleError;

use super::arguments::PerGroup;

/// What is being checked, which decides how a failed check is reported.
pub(crate) enum Checking<'a> {
    /// A config of this class, being built.
    Config(&'static str),
    /// A saved state, at this path in the scheduler tree.
    State(&'a str),
}

impl Checking<'_> {
    /// The error for `key` = `value`, with what is allowed in words.
    pub(crate) fn fail(
        &self,
        key: &'static str,
        value: impl ToString,
        allowed: impl Into<String>,
    ) -> ScheduleError {
        match self {
            Checking::Config(scheduler) => ScheduleError::InvalidArgument {
                scheduler,
                key,
                value: value.to_string(),
                allowed: allowed.into(),
            },
            Checking::State(path) => ScheduleError::BadState {
                field: format!("{path}.{key}"),
                value: value.to_string(),
                allowed: allowed.into(),
            },
        }
    }

    /// `value` if `ok`, else the error.
    pub(crate) fn require<T: ToString>(
        &self,
        ok: bool,
        key: &'static str,
        value: T,
        allowed: &str,
    ) -> Result<T, ScheduleError> {
        if ok {
            Ok(value)
        } else {
            Err(self.fail(key, value, allowed))
        }
    }

    /// An integer `>= min`.
    pub(crate) fn at_least(
        &self,
        key: &'static str,
        v: i64,
        min: i64,
    ) -> Result<i64, ScheduleError> {
        self.require(v >= min, key, v, &format!("an integer >= {min}"))
    }

    /// A finite number.
    pub(crate) fn finite(&self, key: &'static str, v: f64) -> Result<f64, ScheduleError> {
        self.require(v.is_finite(), key, v, "a finite number")
    }

    /// A decay factor: the lr is multiplied by it, so it must be a finite number above zero (a
    /// negative one would flip the sign of the lr, zero would stop training after one decay).
    pub(crate) fn positive_factor(&self, key: &'static str, v: f64) -> Result<f64, ScheduleError> {
        self.require(
            v.is_finite() && v > 0.0,
            key,
            v,
            "a finite number > 0 (the lr is multiplied by it; < 1 decays)",
        )
    }

    /// One finite number per parameter group, from one number or a list of `groups`.
    pub(crate) fn per_group(
        &self,
        key: &'static str,
        v: &PerGroup<f64>,
        groups: usize,
    ) -> Result<Vec<f64>, ScheduleError> {
        let values = v.expand(groups).ok_or_else(|| {
            let given = match v {
                PerGroup::Each(list) => format!("{list:?} ({} values)", list.len()),
                PerGroup::All(x) => x.to_string(),
            };
            self.fail(
                key,
                given,
                format!("one number, or a list of {groups} (one per parameter group)"),
            )
        })?;
        for &x in &values {
            self.finite(key, x)?;
        }
        Ok(values)
    }

    /// One finite number >= 0 per group (an lr, a momentum) in a saved state.
    pub(crate) fn lrs(
        &self,
        key: &'static str,
        values: &[f64],
        groups: usize,
    ) -> Result<(), ScheduleError> {
        if values.len() != groups {
            return Err(self.fail(
                key,
                format!("{values:?}"),
                format!("one value per parameter group ({groups})"),
            ));
        }
        if let Some(v) = values.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(self.fail(key, v, "finite numbers >= 0"));
        }
        Ok(())
    }

    /// The (base, max) momentum bounds of a cycling scheduler, if it cycles momentum.
    pub(crate) fn momenta(
        &self,
        momentum: Option<&(Vec<f64>, Vec<f64>)>,
        groups: usize,
    ) -> Result<(), ScheduleError> {
        if let Some((base, max)) = momentum {
            self.lrs("base_momentum", base, groups)?;
            self.lrs("max_momentum", max, groups)?;
        }
        Ok(())
    }
}
