//! [`LrLambda`]: the function of the step that `LambdaLR` and `MultiplicativeLR` take.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::formula::Formula;
use crate::math::pow;

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

/// As the config wrote it: the formula quoted (`"0.95 ^ t"`), a named lambda as its call
/// (`exponential(gamma=0.95)`).
impl fmt::Debug for LrLambda {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LrLambda::Constant { factor } => write!(f, "constant(factor={factor:?})"),
            LrLambda::Exponential { gamma } => write!(f, "exponential(gamma={gamma:?})"),
            LrLambda::Step { step_size, gamma } => {
                write!(f, "step(step_size={step_size}, gamma={gamma:?})")
            }
            LrLambda::LinearWarmup { warmup } => write!(f, "linear_warmup(warmup={warmup})"),
            // The formula as a config writes it, quoted.
            LrLambda::Formula(formula) => write!(f, "{:?}", formula.to_string()),
            LrLambda::Custom(_) => f.write_str("<function>"),
        }
    }
}
