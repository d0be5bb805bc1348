//! The serde description of the optimizer, keyed exactly as PyTorch's keyword arguments, with
//! `name` choosing the class. (The schedulers' descriptions are in `scheduler/`, one file per
//! class, named by [`crate::SchedulerConfig`].)

use serde::{Deserialize, Deserializer};

use crate::error::OptimError;
use crate::sgd::{Sgd, SgdConfig};

/// The `[optimizer]` table of a run config: `name = "SGD"` plus [`SgdConfig`]'s keys.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerConfig {
    /// The SGD keyword arguments (the only optimizer this crate has).
    pub sgd: SgdConfig,
}

#[derive(Deserialize)]
#[serde(tag = "name")]
enum RawOptimizer {
    #[serde(rename = "SGD")]
    Sgd(SgdConfig),
}

impl<'de> Deserialize<'de> for OptimizerConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match RawOptimizer::deserialize(deserializer)? {
            RawOptimizer::Sgd(sgd) => Ok(OptimizerConfig { sgd }),
        }
    }
}

impl OptimizerConfig {
    /// Build the optimizer with one parameter group holding tensors of these lengths.
    pub fn build(&self, param_lens: &[usize]) -> Result<Sgd, OptimError> {
        Sgd::new(&self.sgd, param_lens)
    }
}
