//! The portable microkernel: an 8 x 4 tile, for CPUs without AVX2 and for other architectures.
//!
//! 8 x 4 = 32 accumulators fit the 16 SSE registers of baseline x86-64 as 8 vectors of 4 lanes
//! and the 32 NEON registers of aarch64 with room to spare. It uses a separate multiply and add
//! (no `mul_add`), because without a guaranteed FMA instruction `mul_add` becomes a slow library
//! call.

/// Rows of the tile (the vectorised direction).
pub(crate) const MR: usize = 8;
/// Columns of the tile (the broadcast direction).
pub(crate) const NR: usize = 4;

/// `tile <- sum_p a[p] (outer) b[p]` over the steps of the packed B panel, step `p` of A the
/// `MR` floats at `a + p * a_step` (see `kernel_avx512::kernel`).
///
/// # Safety
/// The `MR` floats at `a + p * a_step` must be readable for every step `p < b.len() / NR`.
pub(crate) unsafe fn kernel(a: *const f32, a_step: usize, b: &[f32], tile: &mut [[f32; MR]; NR]) {
    let mut acc = [[0.0f32; MR]; NR];
    for (p, bv) in b.chunks_exact(NR).enumerate() {
        // SAFETY: this step's MR floats are readable (contract).
        let av = unsafe { std::slice::from_raw_parts(a.add(p * a_step), MR) };
        for j in 0..NR {
            for i in 0..MR {
                acc[j][i] += av[i] * bv[j];
            }
        }
    }
    *tile = acc;
}
