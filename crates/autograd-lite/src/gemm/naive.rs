//! The oracle: a plain triple loop, used by the tests and the benchmarks as the reference every
//! fast path is compared against, to the bit.
//!
//! It spells out the arithmetic that defines every element of `C`, which each kernel and each
//! path (packed, read in place, `small_k`, the register stores) repeats exactly:
//!
//! ```text
//! for each reduction block (start, len) of k (k cut into equal parts of at most KC_MAX):
//!     acc = 0;  for p in block: acc = fma(A[i, p], B[p, j], acc)       (one rounding each)
//!     C[i, j] = alpha * acc + beta * C[i, j]    on the first block (beta = 0: alpha * acc)
//!     C[i, j] = C[i, j] + alpha * acc            on every later block
//! then C[i, j] = C[i, j] + bias[j], then ReLU: C[i, j] > 0 ? C[i, j] : 0
//! ```

use ndarray::{ArrayView2, ArrayViewMut2};

use super::blocking::kc_blocks;
use super::Epilogue;

/// `C <- epilogue(alpha * A * B + beta * C)` with `A[i, p]` read through `a_at`, in the plain
/// `i, j, p` order, with the module doc's arithmetic. `beta == 0` overwrites `C` without reading
/// it (so NaN in `C` is ignored), as BLAS does; so does `alpha == 0` or `k == 0` with the
/// product, which is then not computed.
pub(crate) fn naive_with(
    a_at: impl Fn(usize, usize) -> f32,
    (m, k): (usize, usize),
    alpha: f32,
    b: ArrayView2<'_, f32>,
    beta: f32,
    mut c: ArrayViewMut2<'_, f32>,
    epilogue: Epilogue<'_>,
) {
    let (kb, n) = b.dim();
    assert_eq!(k, kb, "gemm: A is {m}x{k} but B is {kb}x{n}");
    assert_eq!(c.dim(), (m, n), "gemm: C must be {m}x{n}");
    for i in 0..m {
        for j in 0..n {
            let old = if beta == 0.0 { 0.0 } else { beta * c[[i, j]] };
            let mut v = old;
            if k > 0 && alpha != 0.0 {
                for (block, (start, len)) in kc_blocks(k).enumerate() {
                    let mut acc = 0.0f32;
                    for p in start..start + len {
                        acc = a_at(i, p).mul_add(b[[p, j]], acc);
                    }
                    v = match (block, beta == 0.0) {
                        (0, true) => alpha * acc,
                        (0, false) => alpha * acc + old,
                        _ => v + alpha * acc,
                    };
                }
            }
            match epilogue {
                Epilogue::None => {}
                Epilogue::AddBias(bias) => v += bias[j],
                Epilogue::AddBiasRelu(bias) => v = relu(v + bias[j]),
            }
            c[[i, j]] = v;
        }
    }
}

/// ReLU as every path computes it: `x` where `x > 0`, else `+0` (so `-0` and NaN give `+0`,
/// which is what the x86 `maxps(x, 0)` instruction gives; `f32::max` leaves the sign of a zero
/// to the platform).
pub(crate) fn relu(x: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}
