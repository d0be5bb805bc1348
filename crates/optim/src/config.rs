//! The serde description of the optimizer, keyed exactly as PyTorch's keyword arguments, with
//! `name` choosing the class. (The schedulers' descriptions are in `scheduler/`, one file per
//! class, named by [`crate::SchedulerConfig`].)

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::adam::{Adam, AdamConfig};
use crate::error::OptimError;
use crate::optimizer::Optimizer;
use crate::scheduler::arguments::Call;
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

/// The chosen class with the arguments that differ from PyTorch's defaults, as Python writes the
/// call: `SGD(lr=0.1, momentum=0.9, nesterov=true)`, `AdamW(lr=0.01)` (the lr always shown).
impl fmt::Display for OptimizerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptimizerConfig::Sgd(c) => {
                let default = SgdConfig::default();
                Call::new(f, self.name())?
                    .arg("lr", &c.lr)?
                    .arg_unless_default("momentum", &c.momentum, &default.momentum)?
                    .arg_unless_default("dampening", &c.dampening, &default.dampening)?
                    .arg_unless_default("weight_decay", &c.weight_decay, &default.weight_decay)?
                    .arg_unless_default("nesterov", &c.nesterov, &default.nesterov)?
                    .arg_unless_default("maximize", &c.maximize, &default.maximize)?
                    .end()
            }
            OptimizerConfig::Adam(c) => write_adam(f, self.name(), c, &AdamConfig::default()),
            OptimizerConfig::AdamW(c) => {
                write_adam(f, self.name(), c, &AdamConfig::adamw_default())
            }
        }
    }
}

/// Adam's or AdamW's call, against that class's defaults.
fn write_adam(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    c: &AdamConfig,
    default: &AdamConfig,
) -> fmt::Result {
    Call::new(f, name)?
        .arg("lr", &c.lr)?
        .arg_unless_default("betas", &c.betas, &default.betas)?
        .arg_unless_default("eps", &c.eps, &default.eps)?
        .arg_unless_default("weight_decay", &c.weight_decay, &default.weight_decay)?
        .arg_unless_default("amsgrad", &c.amsgrad, &default.amsgrad)?
        .arg_unless_default("maximize", &c.maximize, &default.maximize)?
        .end()
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
