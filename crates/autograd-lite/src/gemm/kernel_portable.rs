//! The portable microkernel: an 8 x 4 tile, for CPUs without AVX2 and for other architectures.
//!
//! 8 x 4 = 32 accumulators fit the 16 SSE registers of baseline x86-64 as 8 vectors of 4 lanes
//! and the 32 NEON registers of aarch64 with room to spare. Each step is `f32::mul_add`, one
//! rounding, exactly as the AVX2 and AVX-512 kernels' `vfmadd`: so every kernel gives the same
//! bits. `mul_add` is one instruction on aarch64 and on x86-64 built with FMA (this workspace
//! builds with `-C target-cpu=native`); only an x86-64 CPU without FMA (before 2013) pays a
//! correctly rounded library call per product, slow but still the same bits.

use super::contract::BPanel;

/// Rows of the tile (the vectorised direction).
pub(crate) const MR: usize = 8;
/// Columns of the tile (the broadcast direction).
pub(crate) const NR: usize = 4;

/// `tile <- sum_p a[p] (outer) b[p]` over the `b.kc` steps of the B panel, with the A and B
/// layouts of `kernel_avx512::kernel`.
///
/// # Safety
/// The `MR` floats at `a + p * a_step` and the `NR` values of step `p` of `b` must be readable
/// for every step `p < b.kc`.
pub(crate) unsafe fn kernel(a: *const f32, a_step: usize, b: BPanel, tile: &mut [[f32; MR]; NR]) {
    let mut acc = [[0.0f32; MR]; NR];
    for p in 0..b.kc {
        // SAFETY: this step's MR floats are readable (contract).
        let av = unsafe { std::slice::from_raw_parts(a.add(p * a_step), MR) };
        for (j, acc_j) in acc.iter_mut().enumerate() {
            // SAFETY: value j of step p of the B panel is readable (contract).
            let bj = unsafe { *b.ptr.add(p * b.step + j * b.col) };
            for (c, &x) in acc_j.iter_mut().zip(av) {
                *c = x.mul_add(bj, *c);
            }
        }
    }
    *tile = acc;
}
