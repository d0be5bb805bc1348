//! The oracle: a plain triple loop, summing over `k` in order, used by the tests and the
//! benchmarks as the reference every fast path is compared against.

use ndarray::{ArrayView2, ArrayViewMut2};

use super::Epilogue;

/// `C <- epilogue(alpha * A * B + beta * C)` with `A[i, p]` read through `a_at`, in the plain
/// `i, j, p` order. `beta == 0` overwrites `C` without reading it (so NaN in `C` is ignored), as
/// BLAS does.
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
            let mut acc = 0.0f32;
            for p in 0..k {
                acc += a_at(i, p) * b[[p, j]];
            }
            let old = if beta == 0.0 { 0.0 } else { beta * c[[i, j]] };
            let mut v = alpha * acc + old;
            match epilogue {
                Epilogue::None => {}
                Epilogue::AddBias(bias) => v += bias[j],
                Epilogue::AddBiasRelu(bias) => v = (v + bias[j]).max(0.0),
            }
            c[[i, j]] = v;
        }
    }
}
