//! The AVX-512F microkernel: a 32 x 10 tile of `C` held in 20 zmm registers.
//!
//! Shape choice (this CPU: AMD EPYC Zen 4, 32 zmm registers, one 512-bit FMA per cycle with a
//! 4-cycle latency): the tile is `MR = 32` rows (two zmm vectors of 16 lanes) by `NR = 10`
//! columns, so 20 accumulators, 2 registers for the A column and broadcasts straight from
//! memory. 20 independent FMA chains hide the latency five times over, and per `k` step the
//! kernel issues 20 FMAs against 2 vector loads and 10 broadcast loads (well within three
//! loads per cycle). `NR = 10` divides the MLP's widths exactly (100 hidden units, 10 classes),
//! and `MR = 32` divides the batch (256) and 784 nearly so; wider tiles such as 16 x 28 or
//! 48 x 8 would waste 10-30 % of the work on zero padding for those shapes.

/// Rows of the tile (the vectorised direction).
pub(crate) const MR: usize = 32;
/// Columns of the tile (the broadcast direction).
pub(crate) const NR: usize = 10;

/// `tile <- sum_p a[p] (outer) b[p]`, where `a` holds `kc` packed columns of `MR` values and `b`
/// holds `kc` packed rows of `NR` values. Plain Rust on fixed-size arrays: the compiler keeps
/// `acc` in 20 zmm registers and emits one `vfmadd231ps` per (vector, column) pair.
///
/// # Safety
/// The CPU must support AVX-512F (the dispatcher checks with `is_x86_feature_detected!`).
#[target_feature(enable = "avx512f,avx2,fma")]
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
