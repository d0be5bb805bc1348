//! `small_k.rs`'s unpacked path for short reductions with AVX2: the same blocks of rows, the
//! same sums from zero in order of `p`, with 8-lane vectors. Six rows of two vectors are 12
//! accumulators, two more registers hold the row of `B` and one the broadcast of `A`: 15 of
//! the 16 ymm registers. The rows of `B` are read with masked loads (columns past the end are
//! neither read nor written), and `C` is written by `store_avx2`, whose element operations are
//! those of the blocked path's stores.
//!
//! The masked loads stay for full vectors too: plain loads of B (a separate instantiation for
//! blocks whose columns all exist) measured 60 GFLOP/s on `grad h` (256 x 10 x 100, one
//! thread) against 80 with masked ones, alternated, and so did a run-time choice between the
//! two inside the loop (the cause was not found; look before changing the loads).

use ndarray::ArrayViewMut2;
use std::arch::x86_64::{
    _mm256_fmadd_ps, _mm256_maskload_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_setzero_ps,
    _mm256_storeu_ps,
};

use super::epilogue::{Activation, RowBias, RowWrite, Step};
use super::pack_avx2::mask;
use super::small_k_job::{Job, ROWS, SMALL_K, TAIL_ROWS};
use super::store_avx2::{store_lanes, store_row};

/// Columns of `C` per vector (a block is one or two vectors wide).
const LANES: usize = 8;

/// Every block of this share: full blocks of `ROWS` rows, then a block of `TAIL_ROWS` if that
/// many are left, then the last rows one at a time (as `small_k::rows_avx512`).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn rows_avx2(job: Job<'_>, mut c: ArrayViewMut2<'_, f32>) {
    let m = c.nrows();
    let mut full = m / ROWS * ROWS;
    for i0 in (0..full).step_by(ROWS) {
        // SAFETY: AVX2 and FMA are available (contract); rows i0..i0 + ROWS exist.
        unsafe {
            let a = rows_of_a::<ROWS>(&job, i0);
            blocks_of_row(&job, &a, &mut c, i0)
        };
    }
    if m - full >= TAIL_ROWS {
        // SAFETY: as above, for rows full..full + TAIL_ROWS.
        unsafe {
            let a = rows_of_a::<TAIL_ROWS>(&job, full);
            blocks_of_row(&job, &a, &mut c, full)
        };
        full += TAIL_ROWS;
    }
    for i0 in full..m {
        // SAFETY: as above, for row i0.
        unsafe {
            let a = rows_of_a::<1>(&job, i0);
            blocks_of_row(&job, &a, &mut c, i0)
        };
    }
}

/// All column blocks of rows `i0..i0 + R`: two vectors (16 columns) at a time while more than
/// one vector's worth is left, then one.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `i0 + R <= c.nrows()`.
#[target_feature(enable = "avx2,fma")]
unsafe fn blocks_of_row<const R: usize>(
    job: &Job<'_>,
    a: &[[f32; SMALL_K]; R],
    c: &mut ArrayViewMut2<'_, f32>,
    i0: usize,
) {
    let n = c.ncols();
    let mut j0 = 0;
    while j0 < n {
        if n - j0 > LANES {
            // SAFETY: AVX2 and FMA are available; j0 < n and the rows exist (contract).
            unsafe { block::<R, 2>(job, a, c, i0, j0) };
            j0 += 2 * LANES;
        } else {
            // SAFETY: as above.
            unsafe { block::<R, 1>(job, a, c, i0, j0) };
            j0 += LANES;
        }
    }
}

/// Rows `i0..i0 + R` of this share's A as plain arrays (A may have any strides); a row with
/// unit stride is read with two masked vector loads.
///
/// # Safety
/// The CPU must support AVX2; `i0 + R <= job.a.nrows()`.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn rows_of_a<const R: usize>(job: &Job<'_>, i0: usize) -> [[f32; SMALL_K]; R] {
    let mut a = [[0.0f32; SMALL_K]; R];
    let k = job.a.ncols();
    let (rs, cs) = (job.a.strides()[0], job.a.strides()[1]);
    let (low, high) = (mask(k), mask(k.saturating_sub(LANES)));
    for (r, a_row) in a.iter_mut().enumerate() {
        if cs == 1 || k <= 1 {
            let start = job.a.as_ptr().wrapping_offset((i0 + r) as isize * rs);
            // SAFETY: row i0 + r exists (contract) and holds `k <= 16` contiguous values; the
            // masks read exactly those, and `a_row` holds 16 floats.
            unsafe {
                _mm256_storeu_ps(a_row.as_mut_ptr(), _mm256_maskload_ps(start, low));
                let rest = _mm256_maskload_ps(start.wrapping_add(LANES), high);
                _mm256_storeu_ps(a_row.as_mut_ptr().add(LANES), rest);
            }
        } else {
            for (x, &v) in a_row.iter_mut().zip(job.a.row(i0 + r)) {
                *x = v;
            }
        }
    }
    a
}

/// The block of rows `i0..i0 + R` and columns `j0..j0 + V * LANES` (those that exist) of `c`:
/// `acc[r] = sum over p of a[r][p] * B[p, j0..]`, from zero, in order of `p`, one fused
/// multiply-add per step, then each row stored as the blocked path stores a tile row.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `i0 + R <= c.nrows()` and `j0 < c.ncols()`; the rows of
/// `c` are contiguous (checked by `small_k::applies`).
#[target_feature(enable = "avx2,fma")]
unsafe fn block<const R: usize, const V: usize>(
    job: &Job<'_>,
    a: &[[f32; SMALL_K]; R],
    c: &mut ArrayViewMut2<'_, f32>,
    i0: usize,
    j0: usize,
) {
    // Vector v covers columns j0 + 8 v ..; `widths[v]` of them exist (possibly none).
    let widths: [usize; V] = std::array::from_fn(|v| {
        let start = (j0 + v * LANES).min(c.ncols());
        LANES.min(c.ncols() - start)
    });
    let masks = widths.map(|w| mask(w));
    let mut acc = [[_mm256_setzero_ps(); V]; R];
    for (p, b_row) in job.b_rows[..job.a.ncols()].iter().enumerate() {
        let b: [_; V] = std::array::from_fn(|v| {
            let start = (j0 + v * LANES).min(b_row.len());
            // SAFETY: the mask reads only the `widths[v]` columns that exist in the row of B.
            unsafe { _mm256_maskload_ps(b_row[start..].as_ptr(), masks[v]) }
        });
        for (acc_r, a_row) in acc.iter_mut().zip(a) {
            let x = _mm256_set1_ps(a_row[p]);
            for v in 0..V {
                acc_r[v] = _mm256_fmadd_ps(x, b[v], acc_r[v]);
            }
        }
    }
    let rs = c.strides()[0];
    let row0 = c.as_mut_ptr().wrapping_offset(i0 as isize * rs);
    if job.beta == 0.0 && job.bias.is_none() && matches!(job.activation, Activation::Identity) {
        // `C = alpha * acc` and nothing else, as `dh = dz W2`: no multiply when `alpha` is 1
        // (`1 * x` is `x` exactly, so the bits are `store_row`'s).
        let alpha = _mm256_set1_ps(job.alpha);
        for v in 0..V {
            let j = j0 + v * LANES;
            for (r, acc_r) in acc.iter().enumerate() {
                let t = if job.alpha == 1.0 {
                    acc_r[v]
                } else {
                    _mm256_mul_ps(alpha, acc_r[v])
                };
                let dst = row0.wrapping_offset(r as isize * rs + j as isize);
                // SAFETY: row i0 + r is inside `c` (contract), which has unit column stride;
                // `store_lanes` writes exactly the `widths[v]` columns from j that exist.
                unsafe { store_lanes(dst, widths[v], t) };
            }
        }
        return;
    }
    for v in 0..V {
        if widths[v] == 0 {
            continue;
        }
        let j = j0 + v * LANES;
        let write = RowWrite {
            alpha: job.alpha,
            step: Step::First { beta: job.beta },
            finish: Some((
                job.bias
                    .map_or(RowBias::None, |b| RowBias::PerColumn(&b[j..j + widths[v]])),
                job.activation,
            )),
        };
        for (r, acc_r) in acc.iter().enumerate() {
            let dst = row0.wrapping_offset(r as isize * rs + j as isize);
            // SAFETY: row i0 + r and columns j..j + widths[v] are inside `c` (contract),
            // which has unit column stride; the bias slice holds `widths[v]` values.
            unsafe { store_row(acc_r[v], dst, widths[v], r, write) };
        }
    }
}
