//! The AVX2 + FMA microkernel: a 16 x 6 tile of `C` in 12 ymm registers.
//!
//! With 16 ymm registers the classic choice is two 8-lane vectors of A by six broadcast
//! columns of B: 12 accumulators, 2 for the A column, 1 for the broadcast, leaving one spare.
//! 12 independent FMA chains cover the 4-5 cycle FMA latency on two FMA ports.

/// Rows of the tile (the vectorised direction).
pub(crate) const MR: usize = 16;
/// Columns of the tile (the broadcast direction).
pub(crate) const NR: usize = 6;

/// `tile <- sum_p a[p] (outer) b[p]` over `kc` packed steps (see `kernel_avx512::kernel`).
///
/// # Safety
/// The CPU must support AVX2 and FMA (the dispatcher checks with `is_x86_feature_detected!`).
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn kernel(a: &[f32], b: &[f32], tile: &mut [[f32; MR]; NR]) {
    let mut acc = [[0.0f32; MR]; NR];
    for (av, bv) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for j in 0..NR {
            for i in 0..MR {
                acc[j][i] = av[i].mul_add(bv[j], acc[j][i]);
            }
        }
    }
    *tile = acc;
}
