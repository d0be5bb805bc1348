//! Cache blocking: the block sizes and how a problem is cut into blocks.
//!
//! This machine (AMD EPYC, Zen 4): L1d 32 KiB 8-way and L2 1 MiB 8-way per core, L3 32 MiB
//! shared (from `/sys/devices/system/cpu/cpu0/cache`). The sizes below start from the BLIS
//! analysis (a `KC x NR` micro-panel of B stays in L1 while `MR x KC` micro-panels of A stream
//! past it from L2, an `MC x KC` block of packed A stays in L2, and the `KC x NC` block of
//! packed B lives in L2/L3), with `KC` then raised by measurement, see [`KC_MAX`].

pub(crate) mod loops;

/// Largest reduction block. By the BLIS rule a `KC x NR` micro-panel of B (10 floats per step)
/// would fill at most half the 32 KiB L1, so `KC` about 400, and `k = 784` was cut into two
/// blocks of 392. But every reduction block stores each tile once more (the second one reads
/// the tile back and adds), and streaming the micro-panel from L2 instead needs 40 bytes per
/// 20-cycle step, a fraction of what L2 delivers. One block for `k` up to 1024 measured faster:
/// the forward `x W1^T` (k = 784) 2.7% on a half batch of 128 rows, the test pass 1-2%,
/// 1024^3 unchanged. The reduction `k` is cut into equal blocks of at most this size.
pub(crate) const KC_MAX: usize = 1024;

/// Rows of A packed at a time per thread: `MC x KC` floats = 128 x 1024 x 4 B = 512 KiB, half
/// the 1 MiB L2, so the block stays resident while every B micro-panel sweeps over it.
pub(crate) const MC: usize = 128;

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
