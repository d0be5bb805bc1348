//! Shared helpers for the GEMM tests: deterministic random matrices and the error bound.

#![allow(dead_code)]

use ndarray::{Array2, ArrayView2};

/// A deterministic xorshift generator, so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    pub fn matrix(&mut self, rows: usize, cols: usize) -> Array2<f32> {
        Array2::from_shape_fn((rows, cols), |_| self.uniform())
    }
    pub fn pixels(&mut self, rows: usize, cols: usize) -> Array2<u8> {
        Array2::from_shape_fn((rows, cols), |_| (self.next_u64() >> 56) as u8)
    }
}

/// Per-element bound on `|ours - reference|` for `alpha * A B + beta * C0`.
///
/// Each of the two results is a k-term f32 dot product (in any summation order, with or
/// without FMA) followed by at most three roundings (alpha, beta, the final add), so each is
/// within `(k + 3) u (|alpha| sum_p |a_ip b_pj| + |beta c_ij|)` of the exact value, with
/// `u = 2^-24` (Higham, Accuracy and Stability, 3.1). Their difference is within twice that; an
/// epilogue (bias add and ReLU) adds one rounding of at most `u |result|`, covered by the +1
/// slack term below.
pub fn bound(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c0: ArrayView2<'_, f32>,
) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    let u = f64::from(f32::EPSILON) / 2.0;
    Array2::from_shape_fn((m, n), |(i, j)| {
        let mut s = 0.0f64;
        for p in 0..k {
            s += f64::from(a[[i, p]]).abs() * f64::from(b[[p, j]]).abs();
        }
        let old = if beta == 0.0 {
            0.0
        } else {
            f64::from(beta * c0[[i, j]]).abs()
        };
        2.0 * (k as f64 + 4.0) * u * (f64::from(alpha).abs() * s + old + 1.0)
    })
}

/// Asserts `|got - want| <= tol` everywhere (NaN anywhere fails), naming the first bad element.
pub fn assert_close(
    got: ArrayView2<'_, f32>,
    want: ArrayView2<'_, f32>,
    tol: &Array2<f64>,
    what: &str,
) {
    assert_eq!(got.dim(), want.dim(), "{what}: shapes");
    for ((idx, &g), &w) in got.indexed_iter().zip(want.iter()) {
        let d = (f64::from(g) - f64::from(w)).abs();
        assert!(
            d <= tol[idx],
            "{what}: at {idx:?} got {g}, want {w} (diff {d:e} > {:e})",
            tol[idx]
        );
    }
}

/// `x` as `rows x cols` stored either row-major or transposed (then viewed with `.t()`), so
/// tests cover both memory orders with one call.
pub fn stored(x: &Array2<f32>, transposed: bool) -> Array2<f32> {
    if transposed {
        x.t().to_owned()
    } else {
        x.clone()
    }
}
