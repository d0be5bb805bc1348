//! Cache blocking: the block sizes and how a problem is cut into blocks.
//!
//! This machine (AMD EPYC, Zen 4): L1d 32 KiB 8-way and L2 1 MiB 8-way per core, L3 32 MiB
//! shared (from `/sys/devices/system/cpu/cpu0/cache`). The sizes below follow the BLIS
//! analysis: a `KC x NR` micro-panel of B stays in L1 while `MR x KC` micro-panels of A stream
//! past it from L2, an `MC x KC` block of packed A stays in L2, and the `KC x NC` block of
//! packed B lives in L2/L3.

pub(crate) mod loops;

/// Largest reduction block. A `KC x NR` B micro-panel (10 floats per step on AVX-512) is
/// 20 KiB at 512 steps, leaving room in the 32 KiB L1 for the A columns streaming past.
/// The reduction `k` is cut into equal blocks of at most this size (784 -> 2 x 392).
pub(crate) const KC_MAX: usize = 512;

/// Rows of A packed at a time per thread: `MC x KC` floats = 256 x 512 x 4 B = 512 KiB, half
/// the 1 MiB L2, so the block stays resident while every B micro-panel sweeps over it.
pub(crate) const MC: usize = 256;

/// Budget of the packed B block (`k x NC` floats): 1 Mi floats = 4 MiB, well inside the L3.
/// `NC` is this divided by `k` (at least one micro-panel), so all of `k` is packed at once.
pub(crate) const B_BLOCK_FLOATS: usize = 1 << 20;

/// Below this many flops (`2 m n k`) one thread does everything: waking a second thread costs
/// a few microseconds, about what 2 MFLOP take on one core at ~100 GFLOP/s.
pub(crate) const PAR_MIN_FLOPS: usize = 2_000_000;

/// The reduction blocks `(start, len)`: `k` cut into equal parts of at most `KC_MAX`. They
/// depend on `k` alone, never on the thread count, so every element of `C` sums its products
/// in the same order whatever the parallel split.
pub(crate) fn kc_blocks(k: usize) -> impl Iterator<Item = (usize, usize)> {
    let count = k.div_ceil(KC_MAX).max(1);
    let kc = k.div_ceil(count);
    (0..k)
        .step_by(kc.max(1))
        .map(move |start| (start, kc.min(k - start)))
}

/// Columns of `C'` per B block: the largest multiple of `nr` with `k x NC` within budget.
pub(crate) fn nc_block(k: usize, nr: usize) -> usize {
    let by_budget = B_BLOCK_FLOATS / k.max(1);
    (by_budget / nr).max(1) * nr
}
