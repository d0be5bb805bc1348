//! The checks a saved [`SgdState`] passes before [`crate::Sgd::load_state`] takes it.
//!
//! A saved state is input like a config (a checkpoint file can be damaged or edited), so each
//! group gets the same range checks as a fresh [`SgdConfig`] (`lr` -0.1 or `momentum` 50 are
//! refused here as they are at construction), plus what a state alone can get wrong: a negative
//! or non-finite `initial_lr`, non-finite values in a momentum buffer, and settings that no
//! scheduler changes (`dampening`, `weight_decay`, `nesterov`, `maximize`) differing from the
//! optimizer the state is loaded into. Errors name the field as `param_groups[g].key`.

use crate::error::OptimError;
use crate::sgd::{ParamGroup, SgdConfig, SgdState};

/// Checks `state` against the ranges of a fresh config and against `mine`, the groups of the
/// optimizer it is loaded into (same number of groups: checked by the caller).
pub(crate) fn check(state: &SgdState, mine: &[ParamGroup]) -> Result<(), OptimError> {
    for (g, (saved, mine)) in state.groups.iter().zip(mine).enumerate() {
        let field = |key: &str| format!("param_groups[{g}].{key}");
        let config = SgdConfig {
            lr: saved.lr,
            momentum: saved.momentum,
            dampening: saved.dampening,
            weight_decay: saved.weight_decay,
            nesterov: saved.nesterov,
            maximize: saved.maximize,
        };
        match config.validate() {
            Ok(()) => {}
            Err(OptimError::InvalidArgument {
                key,
                value,
                allowed,
            }) => {
                return Err(bad(field(key), value, allowed.to_string()));
            }
            Err(OptimError::NesterovNeedsMomentum {
                momentum,
                dampening,
            }) => {
                return Err(bad(
                    field("nesterov"),
                    format!("true with momentum = {momentum}, dampening = {dampening}"),
                    "nesterov needs momentum > 0 and dampening = 0".into(),
                ));
            }
            Err(other) => return Err(other),
        }
        if let Some(initial) = saved.initial_lr {
            if !(initial.is_finite() && initial >= 0.0) {
                return Err(bad(
                    field("initial_lr"),
                    initial.to_string(),
                    "a finite number >= 0".into(),
                ));
            }
        }
        let fixed = [
            ("dampening", saved.dampening, mine.dampening),
            ("weight_decay", saved.weight_decay, mine.weight_decay),
            (
                "nesterov",
                f64::from(u8::from(saved.nesterov)),
                f64::from(u8::from(mine.nesterov)),
            ),
            (
                "maximize",
                f64::from(u8::from(saved.maximize)),
                f64::from(u8::from(mine.maximize)),
            ),
        ];
        for (key, saved_value, my_value) in fixed {
            if saved_value.to_bits() != my_value.to_bits() {
                let show = |v: f64| match key {
                    "nesterov" | "maximize" => (v == 1.0).to_string(),
                    _ => v.to_string(),
                };
                return Err(bad(
                    field(key),
                    show(saved_value),
                    format!(
                        "{} (the value of the optimizer it is loaded into; no scheduler changes it)",
                        show(my_value)
                    ),
                ));
            }
        }
    }
    for (i, buffer) in state.momentum_buffers.iter().enumerate() {
        if let Some(at) = buffer
            .as_ref()
            .and_then(|b| b.iter().position(|x| !x.is_finite()))
        {
            let value = buffer.as_ref().map_or(f32::NAN, |b| b[at]);
            return Err(bad(
                format!("momentum_buffers[{i}][{at}]"),
                value.to_string(),
                "finite numbers".into(),
            ));
        }
    }
    Ok(())
}

fn bad(field: String, value: String, allowed: String) -> OptimError {
    OptimError::BadState {
        field,
        value,
        allowed,
    }
}
