//! Writing a finished microkernel tile back into `C`, with the fused epilogue.
//!
//! For reduction block `pc = 0` the tile becomes `alpha * T + beta * C` (with `beta = 0` the old
//! `C` is not read, so NaN there is ignored as BLAS does); for later blocks `C + alpha * T`.
//! After the last block the epilogue adds the bias and applies ReLU, while the tile is still in
//! L1. Every element goes through the same operations in the same order whatever the thread
//! count or the block boundaries of M and N, which keeps results bit-identical.

use super::epilogue::{Activation, Bias, RowBias, RowWrite, Step, TileWrite};
use super::kernel_choice::Kernel;
#[cfg(target_arch = "x86_64")]
use super::{store_avx2, store_avx512};

/// An `mr x nr` block of `C'` as a pointer and strides (element `(i, j)` at `ptr + i*rs + j*cs`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TileDst {
    pub(crate) ptr: *mut f32,
    pub(crate) rs: isize,
    pub(crate) cs: isize,
    pub(crate) mr: usize,
    pub(crate) nr: usize,
}

/// Writes the top-left `mr x nr` corner of `tile` (column `j` of the tile is `tile[j]`) into
/// `dst`, the matching block of `C'`, with the vector instructions of `kernel`'s set (plain
/// Rust for `Kernel::Portable`).
///
/// # Safety
/// `dst` must describe a block of `C'` that this thread may write and no one else accesses
/// meanwhile, with `mr <= MR` and `nr <= NR`.
pub(crate) unsafe fn store_tile<const MR: usize, const NR: usize>(
    kernel: Kernel,
    tile: &[[f32; MR]; NR],
    dst: TileDst,
    w: TileWrite<'_>,
) {
    let TileDst {
        ptr,
        rs,
        cs,
        mr,
        nr,
    } = dst;
    assert!(mr <= MR && nr <= NR);
    let finish_bias = w.finish.map_or(Bias::None, |f| f.bias);
    if rs == 1 || mr == 1 {
        // Columns of C' are contiguous (C' = C^T of a row-major C): one run per tile column.
        #[cfg(target_arch = "x86_64")]
        if rs == 1 && cs > 0 {
            let (tile, cs) = (tile.as_flattened(), cs as usize);
            // SAFETY (both arms): the instruction set was detected; the tile holds NR >= nr
            // columns of MR values (MR a multiple of the vector width); the block has unit row
            // stride and positive column stride, so rows `i < mr` of columns `j < nr` are
            // writable (contract); a bias covers the rows and columns of C' it is indexed by.
            match kernel {
                Kernel::Avx512 if MR.is_multiple_of(16) && kernel.runs_here() => {
                    unsafe { store_avx512::store_columns(tile, MR, ptr, cs, mr, nr, w) };
                    return;
                }
                Kernel::Avx2 if MR.is_multiple_of(8) && kernel.runs_here() => {
                    unsafe { store_avx2::store_columns(tile, MR, ptr, cs, mr, nr, w) };
                    return;
                }
                _ => {}
            }
        }
        for (j, t) in tile.iter().enumerate().take(nr) {
            let bias = match finish_bias {
                Bias::None => RunBias::None,
                Bias::PerColumn(b) => RunBias::Scalar(b[w.j0 + j]),
                Bias::PerRow(b) => RunBias::Slice(&b[w.i0..w.i0 + mr]),
            };
            // SAFETY: column j < nr holds `mr` contiguous elements of the block (contract).
            let run = unsafe { std::slice::from_raw_parts_mut(ptr.offset(j as isize * cs), mr) };
            write_run(run, &t[..mr], bias, w);
        }
    } else if cs == 1 {
        // Rows of C' are contiguous (C' = C, row-major): transpose the tile, one run per row.
        #[cfg(target_arch = "x86_64")]
        if rs > 0 {
            let write = RowWrite {
                alpha: w.alpha,
                step: w.step,
                finish: w.finish.map(|f| {
                    let bias = match f.bias {
                        Bias::None => RowBias::None,
                        Bias::PerColumn(b) => RowBias::PerColumn(&b[w.j0..w.j0 + nr]),
                        Bias::PerRow(b) => RowBias::PerRow(&b[w.i0..w.i0 + mr]),
                    };
                    (bias, f.activation)
                }),
            };
            let (tile, rs) = (tile.as_flattened(), rs as usize);
            // SAFETY (both arms): the instruction set was detected; the tile holds NR >= nr
            // columns of MR values (MR a multiple of the vector width, NR at most one vector);
            // the block has unit column stride and positive row stride, so rows `i < mr` and
            // columns `j < nr` are writable (contract).
            match kernel {
                Kernel::Avx512 if MR.is_multiple_of(16) && NR <= 16 && kernel.runs_here() => {
                    unsafe { store_avx512::store_rows(tile, MR, ptr, rs, mr, nr, write) };
                    return;
                }
                Kernel::Avx2 if MR.is_multiple_of(8) && NR <= 8 && kernel.runs_here() => {
                    unsafe { store_avx2::store_rows(tile, MR, ptr, rs, mr, nr, write) };
                    return;
                }
                _ => {}
            }
        }
        let mut row_vals = [0.0f32; NR];
        for i in 0..mr {
            for (v, t) in row_vals.iter_mut().zip(tile.iter()) {
                *v = t[i];
            }
            let bias = match finish_bias {
                Bias::None => RunBias::None,
                Bias::PerColumn(b) => RunBias::Slice(&b[w.j0..w.j0 + nr]),
                Bias::PerRow(b) => RunBias::Scalar(b[w.i0 + i]),
            };
            // SAFETY: row i < mr holds `nr` contiguous elements of the block (contract).
            let run = unsafe { std::slice::from_raw_parts_mut(ptr.offset(i as isize * rs), nr) };
            write_run(run, &row_vals[..nr], bias, w);
        }
    } else {
        // Any other strides: gather each column into a run, update it, scatter it back.
        let mut run = [0.0f32; MR];
        for (j, t) in tile.iter().enumerate().take(nr) {
            let run = &mut run[..mr];
            let at = |i: usize| ptr.wrapping_offset(i as isize * rs + j as isize * cs);
            for (i, r) in run.iter_mut().enumerate() {
                // SAFETY: (i, j) is inside the block (contract).
                *r = unsafe { *at(i) };
            }
            let bias = match finish_bias {
                Bias::None => RunBias::None,
                Bias::PerColumn(b) => RunBias::Scalar(b[w.j0 + j]),
                Bias::PerRow(b) => RunBias::Slice(&b[w.i0..w.i0 + mr]),
            };
            write_run(run, &t[..mr], bias, w);
            for (i, &r) in run.iter().enumerate() {
                // SAFETY: (i, j) is inside the block (contract).
                unsafe { *at(i) = r };
            }
        }
    }
}

/// The bias of one contiguous run.
#[derive(Clone, Copy)]
enum RunBias<'a> {
    None,
    Scalar(f32),
    Slice(&'a [f32]),
}

/// The element operations on one contiguous run, each a separate vectorisable loop. With
/// `beta = 0` on the first block the old values are not read.
fn write_run(dst: &mut [f32], t: &[f32], bias: RunBias<'_>, w: TileWrite<'_>) {
    let alpha = w.alpha;
    match w.step {
        Step::First { beta: 0.0 } => {
            for (d, &x) in dst.iter_mut().zip(t) {
                *d = alpha * x;
            }
        }
        Step::First { beta } => {
            for (d, &x) in dst.iter_mut().zip(t) {
                *d = alpha * x + beta * *d;
            }
        }
        Step::Accumulate => {
            for (d, &x) in dst.iter_mut().zip(t) {
                *d += alpha * x;
            }
        }
    }
    let Some(finish) = w.finish else { return };
    match bias {
        RunBias::None => {}
        RunBias::Scalar(b) => {
            for d in dst.iter_mut() {
                *d += b;
            }
        }
        RunBias::Slice(bias) => {
            for (d, &b) in dst.iter_mut().zip(bias) {
                *d += b;
            }
        }
    }
    if let Activation::Relu = finish.activation {
        for d in dst.iter_mut() {
            *d = super::naive::relu(*d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gemm::epilogue::Finish;

    /// Deterministic values in [-1, 1), some negative so ReLU has work.
    fn values(len: usize, seed: u64) -> Vec<f32> {
        let mut rng = crate::SplitMix64::new(seed);
        (0..len).map(|_| rng.uniform_symmetric(1.0)).collect()
    }

    /// `store_tile` (the vector stores of each kernel's instruction set this CPU runs, and the
    /// scalar ones) equals `write_run` applied to each element alone, bit for bit, into a `C'`
    /// with contiguous columns and into a row-major one, for every step, bias and activation,
    /// full and partial tiles of the AVX-512 (32 x 10) and AVX2 (16 x 6) shapes; elements
    /// outside the tile stay untouched.
    #[test]
    fn vector_stores_equal_write_run_bit_for_bit() {
        for kernel in Kernel::supported() {
            for row_major in [false, true] {
                let shapes = [(32, 10), (17, 10), (16, 3), (7, 1), (1, 10), (9, 2)];
                check_store::<32, 10>(kernel, row_major, &shapes);
                let shapes = [(16, 6), (9, 6), (8, 5), (15, 3), (3, 1), (1, 6)];
                check_store::<16, 6>(kernel, row_major, &shapes);
            }
        }
    }

    fn check_store<const MR: usize, const NR: usize>(
        kernel: Kernel,
        row_major: bool,
        shapes: &[(usize, usize)],
    ) {
        const LD: usize = 40; // C' stride, longer than a row or column of any tile
        let flat = values(MR * NR, 1);
        let mut tile = [[0.0f32; MR]; NR];
        for (col, chunk) in tile.iter_mut().zip(flat.chunks(MR)) {
            col.copy_from_slice(chunk);
        }
        let bias = values(64, 2);
        let c0 = values(LD * LD, 3);
        let steps = [
            Step::First { beta: 0.0 },
            Step::First { beta: 0.5 },
            Step::Accumulate,
        ];
        let finishes = [
            None,
            Some(Finish {
                bias: Bias::None,
                activation: Activation::Identity,
            }),
            Some(Finish {
                bias: Bias::PerRow(&bias),
                activation: Activation::Relu,
            }),
            Some(Finish {
                bias: Bias::PerColumn(&bias),
                activation: Activation::Identity,
            }),
        ];
        let (rs, cs) = if row_major { (LD, 1) } else { (1, LD) };
        for &(mr, nr) in shapes {
            for step in steps {
                for finish in finishes {
                    for alpha in [1.5, 1.0] {
                        let w = TileWrite {
                            i0: 5,
                            j0: 3,
                            alpha,
                            step,
                            finish,
                        };
                        let mut got = c0.clone();
                        let dst = TileDst {
                            ptr: got.as_mut_ptr(),
                            rs: rs as isize,
                            cs: cs as isize,
                            mr,
                            nr,
                        };
                        // SAFETY: `got` holds LD x LD values, more than the tile covers; no
                        // one else uses it.
                        unsafe { store_tile(kernel, &tile, dst, w) };
                        let mut want = c0.clone();
                        for (j, t) in tile.iter().enumerate().take(nr) {
                            for (i, &x) in t.iter().enumerate().take(mr) {
                                let run_bias = match finish.map_or(Bias::None, |f| f.bias) {
                                    Bias::None => RunBias::None,
                                    Bias::PerColumn(b) => RunBias::Scalar(b[w.j0 + j]),
                                    Bias::PerRow(b) => RunBias::Scalar(b[w.i0 + i]),
                                };
                                let at = i * rs + j * cs;
                                write_run(&mut want[at..at + 1], &[x], run_bias, w);
                            }
                        }
                        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                        assert_eq!(
                            bits(&got),
                            bits(&want),
                            "{kernel} row-major {row_major} {MR}x{NR} tile, mr {mr} nr {nr} \
                             alpha {alpha} {step:?} {finish:?}"
                        );
                    }
                }
            }
        }
    }
}
