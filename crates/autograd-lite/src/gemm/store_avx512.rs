//! AVX-512 tile stores. For a row-major `C'` (the orientation `C' = C` with `C` row-major, as in
//! `x W^T`) the tile arrives column by column (`tile[j]` holds `MR` rows of column `j`), but
//! each row of `C` wants its `nr` values side by side: each 16-row half of the tile is
//! transposed in registers, then every row is updated with one masked load/store
//! ([`store_rows`]). For a `C'` with contiguous columns (`C' = C^T`, as in `grad W1`) each
//! 16 rows of a tile column are one masked store ([`store_columns`]). The element operations
//! are those of `store::write_run`, in the same order, so all paths round alike.
//!
//! AVX-512 intrinsics and target features are stable since Rust 1.89 (see `mod.rs`).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m512, _mm512_add_ps, _mm512_loadu_ps, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps,
    _mm512_max_ps, _mm512_mul_ps, _mm512_set1_ps, _mm512_setzero_ps,
};

use super::epilogue::{Activation, Bias, RowBias, RowWrite, Step, TileWrite};
use super::pack_avx512::transpose16;

/// Writes rows `0..mr` and columns `0..nr` of the tile (`tile[j * tile_mr + i]`, column-major
/// with `tile_mr` rows) into `C'` at `c` (row `i` at `c + i * rs`, contiguous along columns).
///
/// # Safety
/// AVX-512F must be available; `tile` must hold `nr` columns of `tile_mr >= 16 * ceil(mr / 16)`
/// values; `c + i * rs + j` must be writable for `i < mr`, `j < nr`; `nr <= 16`.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn store_rows(
    tile: &[f32],
    tile_mr: usize,
    c: *mut f32,
    rs: usize,
    mr: usize,
    nr: usize,
    w: RowWrite<'_>,
) {
    assert!(nr <= 16 && tile.len() >= nr * tile_mr && tile_mr >= mr.div_ceil(16) * 16);
    let mask: u16 = ((1u32 << nr) - 1) as u16;
    let zero = _mm512_setzero_ps();
    for half in 0..mr.div_ceil(16) {
        let cols: [__m512; 16] = std::array::from_fn(|j| {
            if j < nr {
                // SAFETY: column j holds `tile_mr >= 16 * (half + 1)` values (asserted).
                unsafe { _mm512_loadu_ps(tile.as_ptr().add(j * tile_mr + 16 * half)) }
            } else {
                zero
            }
        });
        let rows = transpose16(cols);
        for (r, &t) in rows.iter().enumerate().take(mr - 16 * half) {
            let i = 16 * half + r;
            // SAFETY: AVX-512F is available; row i < mr, columns < nr of C' are writable
            // (contract) and `mask` covers exactly the first nr columns; a per-column bias
            // holds nr values, a per-row bias mr > i.
            unsafe { store_row(t, c.add(i * rs), mask, i, w) };
        }
    }
}

/// Writes columns `0..nr` and rows `0..mr` of the tile (`tile[j * tile_mr + i]`) into `C'` at
/// `c`, for a `C'` whose columns are contiguous (column `j` at `c + j * cs`: `C' = C^T` of a
/// row-major `C`, as in `grad W1`): 16 rows of a column per masked vector store, through
/// [`store_row`], so the element operations are those of `store::write_run`, in the same order.
///
/// # Safety
/// AVX-512F must be available; `tile` must hold `nr` columns of `tile_mr >= 16 * ceil(mr / 16)`
/// values; `c + j * cs + i` must be writable for `i < mr`, `j < nr`; a bias in `w` must cover
/// the tile's rows (`i0 + mr`) or columns (`j0 + nr`).
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn store_columns(
    tile: &[f32],
    tile_mr: usize,
    c: *mut f32,
    cs: usize,
    mr: usize,
    nr: usize,
    w: TileWrite<'_>,
) {
    assert!(tile.len() >= nr * tile_mr && tile_mr >= mr.div_ceil(16) * 16);
    if w.is_plain() {
        // `C' = alpha * T`, the most common case (a product into a fresh `C`, as every
        // gradient is): one multiply and one store per vector, without the per-vector cases.
        let alpha = _mm512_set1_ps(w.alpha);
        for j in 0..nr {
            for i in (0..mr).step_by(16) {
                let mask = ((1u32 << 16.min(mr - i)) - 1) as u16;
                // SAFETY: as below.
                unsafe {
                    let t = _mm512_loadu_ps(tile.as_ptr().add(j * tile_mr + i));
                    _mm512_mask_storeu_ps(c.add(j * cs + i), mask, _mm512_mul_ps(alpha, t));
                }
            }
        }
        return;
    }
    for j in 0..nr {
        for half in 0..mr.div_ceil(16) {
            let i = 16 * half;
            let lanes = 16.min(mr - i);
            let mask = ((1u32 << lanes) - 1) as u16;
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
            // SAFETY: column j < nr holds `tile_mr >= i + 16` values (asserted); rows
            // `i..i + lanes` of column j of C' are writable (contract) and `mask` covers
            // exactly those lanes; the per-lane bias holds `lanes` values, the per-run one
            // `nr > j`.
            unsafe {
                let t = _mm512_loadu_ps(tile.as_ptr().add(j * tile_mr + i));
                store_row(t, c.add(j * cs + i), mask, j, write);
            }
        }
    }
}

/// One row of `C'` from the vector `t` (lanes where `mask` is set), with the element operations
/// of `store::write_run` in the same order: `alpha * t`, combined with the old row per `step`,
/// then the bias (per column, or `bias[i]` per row) and the activation.
///
/// # Safety
/// AVX-512F must be available; `dst + j` must be writable for every lane `j` set in `mask`; a
/// per-column bias must hold a value for every such lane, a per-row bias must hold `bias[i]`.
#[target_feature(enable = "avx512f")]
#[inline]
pub(crate) unsafe fn store_row(t: __m512, dst: *mut f32, mask: u16, i: usize, w: RowWrite<'_>) {
    let zero = _mm512_setzero_ps();
    let t = _mm512_mul_ps(_mm512_set1_ps(w.alpha), t);
    // SAFETY (all loads and the store): the mask limits every access to lanes that are
    // writable and readable (contract).
    let mut v = match w.step {
        Step::First { beta: 0.0 } => t,
        Step::First { beta } => {
            let old = unsafe { _mm512_maskz_loadu_ps(mask, dst) };
            _mm512_add_ps(t, _mm512_mul_ps(_mm512_set1_ps(beta), old))
        }
        Step::Accumulate => _mm512_add_ps(unsafe { _mm512_maskz_loadu_ps(mask, dst) }, t),
    };
    if let Some((bias, activation)) = w.finish {
        v = match bias {
            RowBias::None => v,
            RowBias::PerColumn(b) => {
                _mm512_add_ps(v, unsafe { _mm512_maskz_loadu_ps(mask, b.as_ptr()) })
            }
            RowBias::PerRow(b) => _mm512_add_ps(v, _mm512_set1_ps(b[i])),
        };
        if let Activation::Relu = activation {
            v = _mm512_max_ps(v, zero);
        }
    }
    unsafe { _mm512_mask_storeu_ps(dst, mask, v) };
}
