//! Reusable packing buffers, one pair per thread, so a GEMM allocates nothing in steady state.
//!
//! A buffer is taken out of its thread-local slot for the duration of a use and put back after,
//! so a nested GEMM on the same thread (possible when rayon steals work while waiting) gets a
//! fresh buffer instead of a `RefCell` panic. Buffers only grow.

use std::cell::Cell;

thread_local! {
    static A_PANELS: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    static B_PANELS: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Which buffer of this thread to use.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slot {
    /// The per-thread block of packed A panels.
    A,
    /// The block of packed B panels shared by all threads of one GEMM (those not read in
    /// place).
    B,
}

/// Runs `f` with this thread's `slot` buffer, at least `len` long.
pub(crate) fn with_buffer<R>(slot: Slot, len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let key = match slot {
        Slot::A => &A_PANELS,
        Slot::B => &B_PANELS,
    };
    let mut buf = key.with(Cell::take);
    if buf.len() < len {
        // The contents are scratch: a fresh zeroed block replaces the old one. Zeroed memory
        // comes from the OS untouched, so a buffer reserved for the largest shape costs
        // resident memory only where a GEMM actually packs.
        buf = vec![0.0; len];
    }
    let out = f(&mut buf[..len]);
    key.with(|cell| {
        let other = cell.take();
        cell.set(if other.len() > buf.len() { other } else { buf });
    });
    out
}

/// Grows this thread's `slot` buffer to at least `len` values now, so later uses of up to that
/// size allocate nothing.
pub(crate) fn reserve(slot: Slot, len: usize) {
    with_buffer(slot, len, |_| ());
}
