//! Seeded initialisation: a small documented PRNG and PyTorch's `nn.Linear` initialisation.
//!
//! PyTorch's `nn.Linear.reset_parameters` calls `kaiming_uniform_(weight, a=sqrt(5))`, whose bound
//! is `gain * sqrt(3 / fan_in)` with `gain = sqrt(2 / (1 + a^2)) = sqrt(1/3)`, that is
//! `1 / sqrt(fan_in)`; the bias is drawn from the same interval. So every parameter of a layer is
//! `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`. The distribution is PyTorch's; the random stream is ours
//! (SplitMix64), so a seed here does not reproduce a `torch.manual_seed` run. To start from
//! PyTorch's exact weights, load its safetensors file instead.

use ndarray::{Array1, Array2};

use crate::linear::Linear;

pub use splitmix64::SplitMix64;

/// The bound of PyTorch's `nn.Linear` initialisation: `1 / sqrt(fan_in)`.
pub fn linear_init_bound(fan_in: usize) -> f32 {
    1.0 / (fan_in as f32).sqrt()
}

/// A `Linear` layer `[outputs, inputs]` initialised as PyTorch's `nn.Linear`: the weight
/// (row-major), then the bias, drawn from `U(-1/sqrt(inputs), 1/sqrt(inputs))` in that order.
pub fn linear_init(inputs: usize, outputs: usize, rng: &mut SplitMix64) -> Linear {
    let bound = linear_init_bound(inputs);
    let weight = Array2::from_shape_simple_fn((outputs, inputs), || rng.uniform_symmetric(bound));
    let bias = Array1::from_shape_simple_fn(outputs, || rng.uniform_symmetric(bound));
    Linear { weight, bias }
}
