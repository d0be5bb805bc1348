//! Shared by the layer and tape tests: random inputs, the f64 cross-entropy, central finite
//! differences, and the mixed absolute/relative comparison against an f64 reference.

#![allow(dead_code)]

use autograd_lite::SplitMix64;
use ndarray::{Array2, ArrayView2};

/// A `rows x cols` matrix of values uniform in `[-scale, scale)`.
pub fn random(rng: &mut SplitMix64, rows: usize, cols: usize, scale: f32) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || rng.uniform_symmetric(scale))
}

/// Mean softmax cross-entropy of the logits `z` (one row per sample) in f64, via log-sum-exp.
pub fn ce64(z: &Array2<f64>, labels: &[u8]) -> f64 {
    let total: f64 = z
        .rows()
        .into_iter()
        .zip(labels)
        .map(|(r, &y)| {
            let m = r.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            m + r.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - r[usize::from(y)]
        })
        .sum();
    total / labels.len() as f64
}

/// Central differences of `f` at `x`, one coordinate at a time.
pub fn fd(x: &Array2<f64>, eps: f64, f: impl Fn(&Array2<f64>) -> f64) -> Array2<f64> {
    let mut g = Array2::zeros(x.dim());
    let mut xp = x.clone();
    for (idx, &v) in x.indexed_iter() {
        xp[idx] = v + eps;
        let plus = f(&xp);
        xp[idx] = v - eps;
        let minus = f(&xp);
        xp[idx] = v;
        g[idx] = (plus - minus) / (2.0 * eps);
    }
    g
}

/// Every element of `ours` within `atol + rtol * |reference|` of the f64 reference.
pub fn assert_close(
    what: &str,
    ours: ArrayView2<'_, f32>,
    reference: &Array2<f64>,
    rtol: f64,
    atol: f64,
) {
    assert_eq!(ours.dim(), reference.dim(), "{what}: shape");
    for ((idx, &a), &r) in ours.indexed_iter().zip(reference.iter()) {
        let err = (f64::from(a) - r).abs();
        assert!(
            err <= atol + rtol * r.abs(),
            "{what}{idx:?}: ours {a}, reference {r}, error {err}"
        );
    }
}
