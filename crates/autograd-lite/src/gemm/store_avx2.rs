//! AVX2 tile stores: `store_avx512.rs` for 8-lane vectors. For a row-major `C'` each 8-row
//! chunk of the tile is transposed in registers and every row of `C'` is updated with one
//! vector ([`store_rows`]); for a `C'` with contiguous columns each 8 rows of a tile column are
//! one vector ([`store_columns`]). The element operations are those of `store::write_run`, in
//! the same order, so all paths round alike.
//!
//! A row shorter than 8 (the kernel's `NR = 6`) is read with a masked load, which is cheap,
//! and written in pieces of 4, 2 and 1 lanes: a masked store (`vmaskmovps` to memory) is slow
//! on AMD CPUs.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_castps256_ps128, _mm256_extractf128_ps, _mm256_loadu_ps,
    _mm256_maskload_ps, _mm256_max_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_setzero_ps,
    _mm256_storeu_ps, _mm_castps_pd, _mm_movehl_ps, _mm_store_sd, _mm_store_ss, _mm_storeu_ps,
};

use super::epilogue::{Activation, Bias, RowBias, RowWrite, Step, TileWrite};
use super::pack_avx2::{mask, transpose8};

/// Writes rows `0..mr` and columns `0..nr` of the tile (`tile[j * tile_mr + i]`, column-major
/// with `tile_mr` rows) into `C'` at `c` (row `i` at `c + i * rs`, contiguous along columns).
///
/// # Safety
/// AVX2 must be available; `tile` must hold `nr` columns of `tile_mr >= 8 * ceil(mr / 8)`
/// values; `c + i * rs + j` must be writable for `i < mr`, `j < nr`; `nr <= 8`.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn store_rows(
    tile: &[f32],
    tile_mr: usize,
    c: *mut f32,
    rs: usize,
    mr: usize,
    nr: usize,
    w: RowWrite<'_>,
) {
    assert!(nr <= 8 && tile.len() >= nr * tile_mr && tile_mr >= mr.div_ceil(8) * 8);
    let zero = _mm256_setzero_ps();
    for chunk in 0..mr.div_ceil(8) {
        let cols: [__m256; 8] = std::array::from_fn(|j| {
            if j < nr {
                // SAFETY: column j holds `tile_mr >= 8 * (chunk + 1)` values (asserted).
                unsafe { _mm256_loadu_ps(tile.as_ptr().add(j * tile_mr + 8 * chunk)) }
            } else {
                zero
            }
        });
        for (r, &t) in transpose8(cols).iter().enumerate().take(mr - 8 * chunk) {
            let i = 8 * chunk + r;
            // SAFETY: AVX2 is available; row i < mr, columns < nr of C' are writable
            // (contract); a per-column bias holds nr values, a per-row bias mr > i.
            unsafe { store_row(t, c.add(i * rs), nr, i, w) };
        }
    }
}

/// Writes columns `0..nr` and rows `0..mr` of the tile (`tile[j * tile_mr + i]`) into `C'` at
/// `c`, for a `C'` whose columns are contiguous (column `j` at `c + j * cs`): 8 rows of a column
/// per vector, through [`store_row`].
///
/// # Safety
/// AVX2 must be available; `tile` must hold `nr` columns of `tile_mr >= 8 * ceil(mr / 8)`
/// values; `c + j * cs + i` must be writable for `i < mr`, `j < nr`; a bias in `w` must cover
/// the tile's rows (`i0 + mr`) or columns (`j0 + nr`).
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn store_columns(
    tile: &[f32],
    tile_mr: usize,
    c: *mut f32,
    cs: usize,
    mr: usize,
    nr: usize,
    w: TileWrite<'_>,
) {
    assert!(tile.len() >= nr * tile_mr && tile_mr >= mr.div_ceil(8) * 8);
    if w.is_plain() {
        // `C' = alpha * T`, the most common case: one multiply and one store per vector.
        let alpha = _mm256_set1_ps(w.alpha);
        for j in 0..nr {
            for i in (0..mr).step_by(8) {
                // SAFETY: as below.
                unsafe {
                    let t = _mm256_loadu_ps(tile.as_ptr().add(j * tile_mr + i));
                    store_lanes(c.add(j * cs + i), 8.min(mr - i), _mm256_mul_ps(alpha, t));
                }
            }
        }
        return;
    }
    for j in 0..nr {
        for i in (0..mr).step_by(8) {
            let lanes = 8.min(mr - i);
            // The lanes are rows of C': a per-row bias has a value per lane, a per-column bias
            // one value for the whole run (`store_row`'s per-"row" bias, indexed by `j`).
            let finish = w.finish.map(|f| {
                let bias = match f.bias {
                    Bias::None => RowBias::None,
                    Bias::PerRow(b) => RowBias::PerColumn(&b[w.i0 + i..w.i0 + i + lanes]),
                    Bias::PerColumn(b) => RowBias::PerRow(&b[w.j0..w.j0 + nr]),
                };
                (bias, f.activation)
            });
            let write = RowWrite {
                alpha: w.alpha,
                step: w.step,
                finish,
            };
            // SAFETY: column j < nr holds `tile_mr >= i + 8` values (asserted); rows
            // `i..i + lanes` of column j of C' are writable (contract); the per-lane bias
            // holds `lanes` values, the per-run one `nr > j`.
            unsafe {
                let t = _mm256_loadu_ps(tile.as_ptr().add(j * tile_mr + i));
                store_row(t, c.add(j * cs + i), lanes, j, write);
            }
        }
    }
}

/// The first `lanes` values of one row of `C'` from the vector `t`, with the element operations
/// of `store::write_run` in the same order: `alpha * t`, combined with the old row per `step`,
/// then the bias (per column, or `bias[i]` per row) and the activation.
///
/// # Safety
/// AVX2 must be available; `dst + j` must be writable for `j < lanes <= 8`; a per-column bias
/// must hold `lanes` values, a per-row bias must hold `bias[i]`.
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn store_row(t: __m256, dst: *mut f32, lanes: usize, i: usize, w: RowWrite<'_>) {
    let m = mask(lanes);
    let t = _mm256_mul_ps(_mm256_set1_ps(w.alpha), t);
    // SAFETY (all loads and the store): the mask and `store_lanes` limit every access to the
    // `lanes` values that are readable and writable (contract).
    let mut v = match w.step {
        Step::First { beta: 0.0 } => t,
        Step::First { beta } => {
            let old = unsafe { _mm256_maskload_ps(dst, m) };
            _mm256_add_ps(t, _mm256_mul_ps(_mm256_set1_ps(beta), old))
        }
        Step::Accumulate => _mm256_add_ps(unsafe { _mm256_maskload_ps(dst, m) }, t),
    };
    if let Some((bias, activation)) = w.finish {
        v = match bias {
            RowBias::None => v,
            RowBias::PerColumn(b) => _mm256_add_ps(v, unsafe { _mm256_maskload_ps(b.as_ptr(), m) }),
            RowBias::PerRow(b) => _mm256_add_ps(v, _mm256_set1_ps(b[i])),
        };
        if let Activation::Relu = activation {
            v = _mm256_max_ps(v, _mm256_setzero_ps());
        }
    }
    unsafe { store_lanes(dst, lanes, v) };
}

/// Stores the first `lanes` (at most 8) values of `v` at `dst`: one vector store when all 8,
/// else pieces of 4, 2 and 1.
///
/// # Safety
/// AVX2 must be available; `dst + j` must be writable for `j < lanes`.
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) unsafe fn store_lanes(dst: *mut f32, lanes: usize, v: __m256) {
    // SAFETY (every store): it writes values `at..at + piece` with `at + piece <= lanes`.
    if lanes >= 8 {
        unsafe { _mm256_storeu_ps(dst, v) };
        return;
    }
    let (mut at, mut part) = (0, _mm256_castps256_ps128(v));
    if lanes >= 4 {
        unsafe { _mm_storeu_ps(dst, part) };
        (at, part) = (4, _mm256_extractf128_ps::<1>(v));
    }
    if lanes - at >= 2 {
        unsafe { _mm_store_sd(dst.add(at).cast(), _mm_castps_pd(part)) };
        (at, part) = (at + 2, _mm_movehl_ps(part, part));
    }
    if lanes > at {
        unsafe { _mm_store_ss(dst.add(at), part) };
    }
}
