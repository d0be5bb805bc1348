//! SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014;
//! the generator Java's `SplittableRandom` uses), the one random generator of the project:
//! `fashion` shuffles each epoch with it and `autograd-lite` draws the initial weights with it.
//! It is its own crate so that both use the same code without depending on each other.
//!
//! ```text
//! state += 0x9E3779B97F4A7C15
//! z = state;  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;  z = (z ^ (z >> 27)) * 0x94D049BB133111EB
//! return z ^ (z >> 31)
//! ```
//! Only u64 arithmetic (and, for the floats, exact or correctly rounded IEEE operations), so a
//! stream is a pure function of its seed, identical on every machine, word size and thread
//! count.
//!
//! ```
//! use splitmix64::SplitMix64;
//!
//! let mut rng = SplitMix64::new(0);
//! assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF); // the published first value for seed 0
//! let die = rng.below(6); // 0..6, without modulo bias
//! assert!(die < 6);
//! let w = rng.uniform_symmetric(0.5); // [-0.5, 0.5)
//! assert!((-0.5..0.5).contains(&w));
//! ```

/// The generator: one u64 of state.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose stream is fully determined by `seed`.
    #[inline]
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..bound` (`bound > 0`), without modulo bias: Lemire's
    /// multiply-shift, rejecting the few low products that would bias the result.
    #[inline]
    pub fn below(&mut self, bound: u64) -> u64 {
        let threshold = bound.wrapping_neg() % bound; // (2^64 - bound) mod bound
        loop {
            let m = u128::from(self.next_u64()) * u128::from(bound);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// A uniform f32 in `[0, 1)`: the top 24 bits of `next_u64` times `2^-24` (exact in f32).
    #[inline]
    pub fn next_unit_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / 16_777_216.0)
    }

    /// A uniform f32 in `[-bound, bound)`: `bound * (2u - 1)` with `u = next_unit_f32()`.
    /// Both steps are exact or correctly rounded IEEE operations, hence machine independent.
    #[inline]
    pub fn uniform_symmetric(&mut self, bound: f32) -> f32 {
        bound * (2.0 * self.next_unit_f32() - 1.0)
    }
}
