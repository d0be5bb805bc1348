//! The kernel contract, at the bottom of the module's import tree: what a microkernel is
//! (`KernelFn`, `ToColumnsFn`), how it reads a panel of `B'` (`BPanel`) and writes columns of
//! `C'` (`ColumnsOut`), and the set of kernels of one instruction set (`Kernels`). The
//! kernels, the packers and the blocked loops import it; it imports nothing of theirs.

use super::kernel_choice::Kernel;

/// A microkernel: `tile <- A panel * B panel^T` over the `b.kc` steps of the B panel; step `p`
/// of the A panel is the `MR` floats at `a + p * a_step`.
pub(crate) type KernelFn<const MR: usize, const NR: usize> =
    unsafe fn(*const f32, usize, BPanel, &mut [[f32; MR]; NR]);

/// A micro-panel of `B'` as the kernel reads it: `kc` steps of `NR` values, value `j` of step
/// `p` at `ptr + p * step + j * col`. A packed panel has `step = NR` and `col = 1`; a panel read
/// in place has the operand's own strides (see `pack::InPlaceB`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BPanel {
    pub(crate) ptr: *const f32,
    pub(crate) kc: usize,
    pub(crate) step: usize,
    pub(crate) col: usize,
}

/// A microkernel that writes `alpha * A panel * B panel^T` straight into a full tile of a `C'`
/// with contiguous columns.
pub(crate) type ToColumnsFn = unsafe fn(*const f32, usize, BPanel, ColumnsOut);

/// Where [`ToColumnsFn`] writes: column `j` of the tile at `ptr + j * cs`, its rows contiguous.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ColumnsOut {
    pub(crate) ptr: *mut f32,
    pub(crate) cs: usize,
    pub(crate) alpha: f32,
}

/// The microkernels of one instruction set: `full` for any panel, `top_half` for a panel
/// whose rows `MR / 2..MR` are all padding (the same products on the top rows only; kernels
/// without such a variant pass `full` again), and `to_columns`, when the set has one, for a
/// full tile of a `C'` with contiguous columns that takes `alpha * T` and nothing else.
/// `kernel` names the set, and the packers and stores use its instructions and no others, so
/// that `Kernel::Portable` runs plain Rust on every CPU.
#[derive(Clone, Copy)]
pub(crate) struct Kernels<const MR: usize, const NR: usize> {
    pub(crate) kernel: Kernel,
    pub(crate) full: KernelFn<MR, NR>,
    pub(crate) top_half: KernelFn<MR, NR>,
    pub(crate) to_columns: Option<ToColumnsFn>,
}

impl<const MR: usize, const NR: usize> Kernels<MR, NR> {
    /// A single microkernel `full` of the set `kernel` for every panel, its tiles stored by
    /// `store_tile`.
    pub(crate) fn only(kernel: Kernel, full: KernelFn<MR, NR>) -> Kernels<MR, NR> {
        Kernels {
            kernel,
            full,
            top_half: full,
            to_columns: None,
        }
    }
}
