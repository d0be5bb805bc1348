//! The five BLIS loops around the microkernel, with rayon over disjoint row blocks of `C'`.
//!
//! In the kernel's orientation the problem is `C' <- alpha * A' * B'^T + beta * C'` with `A'`
//! `m x k` (packed into `MR`-row panels), `B'` `n x k` (packed into `NR`-row panels) and `C'`
//! `m x n`; `mod.rs` chooses whether `C' = C` or `C' = C^T`.
//!
//! ```text
//! Loop 5 (jc): NC-column blocks of C'            sequential
//!   pack B'[jc block, all k] into NR panels,      parallel over panels (disjoint)
//!     or read its full panels in place (`pack::InPlaceB`)
//!   split the MR panels of rows among threads     parallel over rows of C' (disjoint)
//!   Loop 3 (ic): MC-row blocks of that share
//!     Loop 4 (pc): KC reduction blocks, in order
//!       pack A'[ic block, pc block] into MR panels (this thread's buffer),
//!         or read its full panels in place (`pack::InPlace`)
//!       Loop 2 (jr): NR panels of the B block
//!         Loop 1 (ir): MR panels of the A block
//!           microkernel -> MR x NR tile -> store into C' (+ epilogue after the last pc),
//!             or, for a full tile of a C' with contiguous columns that takes alpha * T
//!             alone, the kernel stores it itself (`Kernels::to_columns`)
//! ```
//! The reduction loop is never split across threads and its blocks depend on `k` only, so
//! each element of `C` is summed in the same order for any thread count.

use std::ops::Range;

use ndarray::{s, ArrayViewMut2, Axis};
use rayon::prelude::*;

use super::{kc_blocks, nc_block, MC, PAR_MIN_FLOPS};
use crate::gemm::buffers::{with_buffer, Slot};
use crate::gemm::contract::{BPanel, ColumnsOut, Kernels};
use crate::gemm::epilogue::{Finish, Step, TileWrite};
use crate::gemm::pack::{pack_panels, InPlace, InPlaceB, Source};
use crate::gemm::store::{store_tile, TileDst};
use crate::gemm::KC_MAX;

/// One GEMM in the kernel's orientation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Problem<'a> {
    /// `A'`, `m x k`.
    pub(crate) a: Source<'a>,
    /// `B'`, `n x k`.
    pub(crate) b: Source<'a>,
    /// Multiplies `A' B'^T` when it is stored (1 when a `u8` operand already carries it).
    pub(crate) alpha: f32,
    /// Multiplies the old `C'`.
    pub(crate) beta: f32,
    /// Bias and activation applied after the last reduction block.
    pub(crate) finish: Finish<'a>,
}

/// Runs the blocked GEMM with `kernels`.
///
/// # Safety
/// `kernels` must be callable on this CPU (their target features detected).
pub(crate) unsafe fn gemm_blocked<const MR: usize, const NR: usize>(
    kernels: Kernels<MR, NR>,
    prob: &Problem<'_>,
    mut c: ArrayViewMut2<'_, f32>,
) {
    let (m, k) = prob.a.dim();
    let n = prob.b.dim().0;
    let threads = rayon::current_num_threads();
    let parallel = threads > 1 && 2 * m * n * k >= PAR_MIN_FLOPS;
    // Equal column blocks within the budget (no thin last block that repacks all of A).
    let nc_max = n.div_ceil(n.div_ceil(nc_block(k, NR))).div_ceil(NR) * NR;
    // Loop 5 (jc): NC-column blocks of C'.
    for jc in (0..n).step_by(nc_max) {
        let nc = nc_max.min(n - jc);
        // B' in place when the kernel can read it there: only a partial last panel is packed.
        let packed_from = jc + BBlock::unpacked::<NR>(prob.b, jc..jc + nc) * NR;
        let b_panels = (jc + nc - packed_from).div_ceil(NR);
        let panel_len = k * NR;
        with_buffer(Slot::B, b_panels * panel_len, |b_pack| {
            // Pack all of k for this column block, panels in parallel when it pays.
            let per_task = if parallel {
                b_panels.div_ceil(threads)
            } else {
                b_panels
            }
            .max(1);
            let pack_group = |(g, dst): (usize, &mut [f32])| {
                let r0 = packed_from + g * per_task * NR;
                let r1 = (r0 + per_task * NR).min(jc + nc);
                pack_panels::<NR>(kernels.kernel, prob.b, r0..r1, 0..k, dst);
            };
            if parallel && b_panels > 1 {
                b_pack
                    .par_chunks_mut(per_task * panel_len)
                    .enumerate()
                    .for_each(pack_group);
            } else {
                b_pack
                    .chunks_mut(per_task * panel_len)
                    .enumerate()
                    .for_each(pack_group);
            }
            let b_pack: &[f32] = b_pack;
            let c_block = c.slice_mut(s![.., jc..jc + nc]);
            let m_panels = m.div_ceil(MR);
            let chunks = if parallel { threads.min(m_panels) } else { 1 };
            let rows = |panels: Range<usize>, c_rows: ArrayViewMut2<'_, f32>| {
                // SAFETY: the caller guarantees `kernels` run on this CPU.
                unsafe { compute_rows(kernels, prob, b_pack, jc, panels, c_rows) }
            };
            split_rows::<MR>(c_block, 0..m_panels, chunks, &rows);
        });
    }
}

/// The `NR` panels of one column block of `B'`: the first `unpacked` read in place, the rest
/// packed (all of `k`, panel after panel). Each thread makes its own from the packed block.
struct BBlock<'a> {
    in_place: Option<InPlaceB>,
    unpacked: usize,
    packed: &'a [f32],
    /// Steps of every packed panel.
    k: usize,
}

impl<'a> BBlock<'a> {
    /// The column block `cols` of `C'` (rows of `B'`), whose packed panels are `packed`.
    fn new<const NR: usize>(b: Source<'_>, cols: Range<usize>, packed: &'a [f32]) -> BBlock<'a> {
        let in_place = InPlaceB::of::<NR>(b, cols.clone());
        BBlock {
            in_place,
            unpacked: if in_place.is_some() {
                cols.len() / NR
            } else {
                0
            },
            packed,
            k: b.dim().1,
        }
    }

    /// How many leading panels of the column block `cols` are read in place, not packed.
    fn unpacked<const NR: usize>(b: Source<'_>, cols: Range<usize>) -> usize {
        BBlock::new::<NR>(b, cols, &[]).unpacked
    }

    /// Panel `q`, reduction steps `pc..pc + kc`.
    fn panel<const NR: usize>(&self, q: usize, pc: usize, kc: usize) -> BPanel {
        match self.in_place {
            Some(block) if q < self.unpacked => block.panel::<NR>(q, pc, kc),
            _ => {
                let start = (q - self.unpacked) * self.k * NR + pc * NR;
                BPanel {
                    ptr: self.packed[start..start + kc * NR].as_ptr(),
                    kc,
                    step: NR,
                    col: 1,
                }
            }
        }
    }
}

/// Hands disjoint row blocks of `c` (whole `MR` panels `panels`) to `chunks` rayon tasks.
pub(crate) fn split_rows<const MR: usize>(
    c: ArrayViewMut2<'_, f32>,
    panels: Range<usize>,
    chunks: usize,
    f: &(impl Fn(Range<usize>, ArrayViewMut2<'_, f32>) + Sync),
) {
    if chunks <= 1 || panels.len() <= 1 {
        f(panels, c);
        return;
    }
    let left = chunks / 2;
    let mid = panels.start + panels.len() * left / chunks;
    let split = ((mid - panels.start) * MR).min(c.nrows());
    let (top, bottom) = c.split_at(Axis(0), split);
    rayon::join(
        || split_rows::<MR>(top, panels.start..mid, left, f),
        || split_rows::<MR>(bottom, mid..panels.end, chunks - left, f),
    );
}

/// Loops 3, 4, 2, 1 for the rows `panels` of `C'` (held by `c`, whose row 0 is row
/// `panels.start * MR` of `C'`) and the column block starting at `jc`.
///
/// # Safety
/// `kernels` must be callable on this CPU.
unsafe fn compute_rows<const MR: usize, const NR: usize>(
    kernels: Kernels<MR, NR>,
    prob: &Problem<'_>,
    b_pack: &[f32],
    jc: usize,
    panels: Range<usize>,
    mut c: ArrayViewMut2<'_, f32>,
) {
    let (m, k) = prob.a.dim();
    let (rows, nc) = c.dim();
    let b_block = BBlock::new::<NR>(prob.b, jc..jc + nc, b_pack);
    let r0 = panels.start * MR;
    let r_end = (r0 + rows).min(m);
    let mc_max = (MC / MR).max(1) * MR;
    let mut tile = [[0.0f32; MR]; NR];
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    let c_ptr = c.as_mut_ptr();
    // Loop 3 (ic): MC-row blocks.
    for ic in (r0..r_end).step_by(mc_max) {
        let mc = mc_max.min(r_end - ic);
        let a_panels = mc.div_ceil(MR);
        // Loop 4 (pc): reduction blocks, always in the same order.
        for (pc, kc) in kc_blocks(k) {
            let step = if pc == 0 {
                Step::First { beta: prob.beta }
            } else {
                Step::Accumulate
            };
            let finish = (pc + kc == k).then_some(prob.finish);
            // A' in place when the kernel can read it there: its full panels are not packed.
            let in_place = InPlace::of::<MR>(prob.a, ic..ic + mc, pc..pc + kc);
            let unpacked = if in_place.is_some() { mc / MR } else { 0 };
            with_buffer(Slot::A, mc_max * KC_MAX, |a_pack| {
                pack_panels::<MR>(
                    kernels.kernel,
                    prob.a,
                    ic + unpacked * MR..ic + mc,
                    pc..pc + kc,
                    a_pack,
                );
                // Loop 2 (jr): NR panels of B.
                for jr in 0..nc.div_ceil(NR) {
                    let j0 = jr * NR;
                    let nr = NR.min(nc - j0);
                    let b_panel = b_block.panel::<NR>(jr, pc, kc);
                    // Loop 1 (ir): MR panels of A.
                    for ir in 0..a_panels {
                        let i0 = ic + ir * MR;
                        let mr = MR.min(ic + mc - i0);
                        let kernel = if mr <= MR / 2 {
                            kernels.top_half
                        } else {
                            kernels.full
                        };
                        let (a_panel, a_step) = match in_place {
                            Some(block) if ir < unpacked => (block.panel::<MR>(ir), block.step),
                            _ => {
                                let q = ir - unpacked;
                                (a_pack[q * MR * kc..(q + 1) * MR * kc].as_ptr(), MR)
                            }
                        };
                        let write = TileWrite {
                            i0,
                            j0: jc + j0,
                            alpha: prob.alpha,
                            step,
                            finish,
                        };
                        let dst = TileDst {
                            ptr: c_ptr
                                .wrapping_offset((i0 - r0) as isize * c_rs + j0 as isize * c_cs),
                            rs: c_rs,
                            cs: c_cs,
                            mr,
                            nr,
                        };
                        // SAFETY (both kernel calls): the caller guarantees the kernels'
                        // target features; each of the `kc` steps of both panels holds MR (A)
                        // and NR (B) readable values: a packed panel holds exactly `kc * MR` or
                        // `kc * NR`, and an in-place panel is `MR` or `NR` whole rows of the
                        // operand's view (`InPlace::of`, `InPlaceB::of`), which `prob` borrows.
                        match kernels.to_columns {
                            Some(to_columns)
                                if write.is_plain()
                                    && c_rs == 1
                                    && c_cs > 0
                                    && (mr, nr) == (MR, NR) =>
                            {
                                let out = ColumnsOut {
                                    ptr: dst.ptr,
                                    cs: c_cs as usize,
                                    alpha: prob.alpha,
                                };
                                // SAFETY: as above; the full tile's MR rows of each of its NR
                                // columns lie inside `c` (borrowed mutably and alone), column
                                // `j` at `dst.ptr + j * cs` with its rows contiguous.
                                unsafe { to_columns(a_panel, a_step, b_panel, out) };
                                continue;
                            }
                            // SAFETY: as above.
                            _ => unsafe { kernel(a_panel, a_step, b_panel, &mut tile) },
                        }
                        // SAFETY: rows `i0 - r0..+mr` and columns `j0..+nr` lie inside `c`,
                        // which this call borrows mutably and alone.
                        unsafe { store_tile(kernels.kernel, &tile, dst, write) };
                    }
                }
            });
        }
    }
}
