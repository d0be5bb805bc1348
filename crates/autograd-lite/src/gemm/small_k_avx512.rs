//! `small_k.rs`'s unpacked path for short reductions with AVX-512F: blocks of `ROWS` rows by
//! one or two 16-lane vectors of columns, summed in registers straight from the operands.

use ndarray::ArrayViewMut2;

use super::small_k_job::{Job, ROWS, SMALL_K, TAIL_ROWS};

/// Columns of `C` per vector (a block is one or two vectors wide).
const LANES: usize = 16;

/// Every block of this share: full blocks of `ROWS` rows, then a block of [`TAIL_ROWS`] if
/// that many are left (256 = 42 x 6 + 4), then the last rows one at a time (a single row has
/// only one or two multiply-add chains, so it waits on their latency).
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn rows_avx512(job: Job<'_>, mut c: ArrayViewMut2<'_, f32>) {
    let m = c.nrows();
    let mut full = m / ROWS * ROWS;
    for i0 in (0..full).step_by(ROWS) {
        // SAFETY: AVX-512F is available (this function's contract); rows i0..i0 + ROWS exist.
        unsafe {
            let a = rows_of_a::<ROWS>(&job, i0);
            blocks_of_row_avx512(&job, &a, &mut c, i0)
        };
    }
    if m - full >= TAIL_ROWS {
        // SAFETY: as above, for rows full..full + TAIL_ROWS.
        unsafe {
            let a = rows_of_a::<TAIL_ROWS>(&job, full);
            blocks_of_row_avx512(&job, &a, &mut c, full)
        };
        full += TAIL_ROWS;
    }
    for i0 in full..m {
        // SAFETY: as above, for row i0.
        unsafe {
            let a = rows_of_a::<1>(&job, i0);
            blocks_of_row_avx512(&job, &a, &mut c, i0)
        };
    }
}

/// All column blocks of rows `i0..i0 + R`: two vectors (32 columns) at a time while more than
/// one vector's worth is left, then one.
///
/// # Safety
/// The CPU must support AVX-512F; `i0 + R <= c.nrows()`.
#[target_feature(enable = "avx512f")]
unsafe fn blocks_of_row_avx512<const R: usize>(
    job: &Job<'_>,
    a: &[[f32; SMALL_K]; R],
    c: &mut ArrayViewMut2<'_, f32>,
    i0: usize,
) {
    let n = c.ncols();
    let mut j0 = 0;
    while j0 < n {
        if n - j0 > LANES {
            // SAFETY: AVX-512F is available; j0 < n and the rows exist (contract).
            unsafe { block_avx512::<R, 2>(job, a, c, i0, j0) };
            j0 += 2 * LANES;
        } else {
            // SAFETY: as above.
            unsafe { block_avx512::<R, 1>(job, a, c, i0, j0) };
            j0 += LANES;
        }
    }
}

/// Rows `i0..i0 + R` of this share's A as plain arrays (A may have any strides). A row with
/// unit stride is read with one masked vector load (a `copy_from_slice` of its `k` values
/// would be a call to `memcpy` per row, a twentieth of this path's time at `k = 10`).
///
/// # Safety
/// The CPU must support AVX-512F; `i0 + R <= job.a.nrows()`.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn rows_of_a<const R: usize>(job: &Job<'_>, i0: usize) -> [[f32; SMALL_K]; R] {
    use std::arch::x86_64::{_mm512_maskz_loadu_ps, _mm512_storeu_ps};

    let mut a = [[0.0f32; SMALL_K]; R];
    let k = job.a.ncols();
    let (rs, cs) = (job.a.strides()[0], job.a.strides()[1]);
    let mask = ((1u32 << k) - 1) as u16;
    for (r, a_row) in a.iter_mut().enumerate() {
        if cs == 1 || k <= 1 {
            let start = job.a.as_ptr().wrapping_offset((i0 + r) as isize * rs);
            // SAFETY: row i0 + r exists (contract) and holds `k <= 16` contiguous values; the
            // mask reads exactly those, and `a_row` holds 16 floats.
            unsafe { _mm512_storeu_ps(a_row.as_mut_ptr(), _mm512_maskz_loadu_ps(mask, start)) };
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
/// multiply-add per step, then each row stored as the blocked path stores a tile row (a plain
/// `alpha * acc` with one masked store per vector).
///
/// # Safety
/// The CPU must support AVX-512F; `i0 + R <= c.nrows()` and `j0 < c.ncols()`; the rows of `c`
/// are contiguous (checked by `applies`).
#[target_feature(enable = "avx512f")]
unsafe fn block_avx512<const R: usize, const V: usize>(
    job: &Job<'_>,
    a: &[[f32; SMALL_K]; R],
    c: &mut ArrayViewMut2<'_, f32>,
    i0: usize,
    j0: usize,
) {
    use super::epilogue::{Activation, RowBias, RowWrite, Step};
    use super::store_avx512::store_row;
    use std::arch::x86_64::{
        _mm512_fmadd_ps, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps, _mm512_mul_ps,
        _mm512_set1_ps, _mm512_setzero_ps,
    };

    // Vector v covers columns j0 + 16 v ..; `widths[v]` of them exist (possibly none).
    let widths: [usize; V] = std::array::from_fn(|v| {
        let start = (j0 + v * LANES).min(c.ncols());
        LANES.min(c.ncols() - start)
    });
    let masks = widths.map(|w| ((1u32 << w) - 1) as u16);
    let mut acc = [[_mm512_setzero_ps(); V]; R];
    for (p, b_row) in job.b_rows[..job.a.ncols()].iter().enumerate() {
        let b: [_; V] = std::array::from_fn(|v| {
            let start = (j0 + v * LANES).min(b_row.len());
            // SAFETY: the mask reads only the `widths[v]` columns that exist in the row of B.
            unsafe { _mm512_maskz_loadu_ps(masks[v], b_row[start..].as_ptr()) }
        });
        for (acc_r, a_row) in acc.iter_mut().zip(a) {
            let x = _mm512_set1_ps(a_row[p]);
            for v in 0..V {
                acc_r[v] = _mm512_fmadd_ps(x, b[v], acc_r[v]);
            }
        }
    }
    let rs = c.strides()[0];
    let row0 = c.as_mut_ptr().wrapping_offset(i0 as isize * rs);
    if job.beta == 0.0 && job.bias.is_none() && matches!(job.activation, Activation::Identity) {
        // `C = alpha * acc` and nothing else, as `dh = dz W2`: one masked store per vector,
        // without `store_row`'s cases, and no multiply when `alpha` is 1 (`1 * x` is `x`
        // exactly, so the bits are `store_row`'s). Measured on `grad h` (256 x 10 x 100, one
        // thread): 81-82 GFLOP/s through `store_row`, 83-84 with this loop, 88-90 without the
        // multiply. The test is spelled out on purpose: written as a method of `Job`, this
        // function measured 67 (the cause was not found; look before tidying it).
        let alpha = _mm512_set1_ps(job.alpha);
        for v in 0..V {
            let j = j0 + v * LANES;
            for (r, acc_r) in acc.iter().enumerate() {
                let t = if job.alpha == 1.0 {
                    acc_r[v]
                } else {
                    _mm512_mul_ps(alpha, acc_r[v])
                };
                let dst = row0.wrapping_offset(r as isize * rs + j as isize);
                // SAFETY: row i0 + r is inside `c` (contract), which has unit column stride;
                // the mask covers exactly the `widths[v]` columns from j that exist (none
                // when it is zero, and a masked-off lane is neither written nor checked).
                unsafe { _mm512_mask_storeu_ps(dst, masks[v], t) };
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
            unsafe { store_row(acc_r[v], dst, masks[v], r, write) };
        }
    }
}
