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

/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014):
/// `state += 0x9E3779B97F4A7C15`, then three xor-shift-multiply rounds of the state give the
/// output. Only integer arithmetic, so the stream is the same on every machine.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose stream is fully determined by `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform f32 in `[0, 1)`: the top 24 bits of `next_u64` times `2^-24` (exact in f32).
    pub fn next_unit_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / 16_777_216.0)
    }

    /// A uniform f32 in `[-bound, bound)`: `bound * (2u - 1)` with `u = next_unit_f32()`.
    /// Both steps are exact or correctly rounded IEEE operations, hence machine independent.
    pub fn uniform_symmetric(&mut self, bound: f32) -> f32 {
        bound * (2.0 * self.next_unit_f32() - 1.0)
    }
}

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
