//! Softmax cross-entropy, PyTorch's `nn.CrossEntropyLoss()` (mean over the batch), forward and
//! backward side by side, plus the arg-max used for accuracy.
//!
//! For one row `z` of logits with label `y`, using log-sum-exp so that no `exp` overflows:
//! `m = max_j z_j`, `s = sum_j exp(z_j - m)`, `loss = m + ln s - z_y`, `p_j = exp(z_j - m) / s`.
//! The batch loss is the mean over the `N` rows, and its gradient is fused:
//! `dL/dz[i, j] = (p[i, j] - [j == y_i]) / N`.
//!
//! Deviation from PyTorch (rounding only): `ln s` and the sum over rows are taken in f64, so the
//! loss is the f32 rounding of a more accurate value than PyTorch's all-f32 reduction; and `exp`
//! and `ln` are this crate's own ([`exp_log`](crate::exp_log)), not the platform's, so that the
//! loss has the same bits on every CPU.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2};

use crate::exp_log::{exp_in_place, ln};

/// Rows whose maxima a contiguous shard keeps on the stack while `exp` runs over them at once.
const SHARD_ROWS_ON_STACK: usize = 64;

/// Checks `labels` against a logits matrix `[N, C]`; panics (a caller's bug) if they disagree.
fn check_labels(logits: ArrayView2<'_, f32>, labels: &[u8]) {
    let (n, classes) = logits.dim();
    assert_eq!(
        labels.len(),
        n,
        "cross-entropy: {n} rows of logits but {} labels",
        labels.len()
    );
    if let Some(bad) = labels.iter().find(|&&y| usize::from(y) >= classes) {
        panic!("cross-entropy: label {bad} is not below the number of classes {classes}");
    }
}

/// The row's largest logit `m`, written `v > m ? v : m` so that its bits (a zero's sign
/// included) are the same on every CPU; NaN is never chosen.
fn row_max(z: ArrayView1<'_, f32>) -> f32 {
    z.iter()
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m })
}

/// One row: writes `e_j = exp(z_j - m)` into `e` and returns `(m, s)` with `s = sum_j e_j`,
/// summed in the order of `j`.
fn shifted_exp(z: ArrayView1<'_, f32>, e: &mut [f32]) -> (f32, f32) {
    let m = row_max(z);
    for (e, &v) in e.iter_mut().zip(z.iter()) {
        *e = v - m;
    }
    exp_in_place(e);
    (m, row_sum(e))
}

/// `sum_j e_j` in the order of `j`.
fn row_sum(e: &[f32]) -> f32 {
    e.iter().fold(0.0f32, |s, &v| s + v)
}

/// One row's loss `m + ln s - z_y`, in f64.
fn row_loss(m: f32, s: f32, z_y: f32) -> f64 {
    f64::from(m) + ln(f64::from(s)) - f64::from(z_y)
}

/// Forward: `loss = (1/N) sum_i (logsumexp(z_i) - z[i, y_i])` for logits `z[N, C]`; also stores
/// the softmax `p[N, C]`, which is all the backward needs. Panics if a label is `>= C`.
pub fn cross_entropy_forward(
    logits: ArrayView2<'_, f32>,
    labels: &[u8],
    probs: ArrayViewMut2<'_, f32>,
) -> f32 {
    cross_entropy_share_forward(logits, labels, labels.len(), probs)
}

/// Backward (fused with the softmax): `dz[N, C] = beta dz + dloss * (p - onehot(y)) / N`, where
/// `p` is the softmax stored by [`cross_entropy_forward`] and `dloss` the gradient of the loss
/// (1 when the loss is the final scalar).
pub fn cross_entropy_backward(
    probs: ArrayView2<'_, f32>,
    labels: &[u8],
    dloss: f32,
    beta: f32,
    dlogits: ArrayViewMut2<'_, f32>,
) {
    cross_entropy_share_backward(probs, labels, labels.len(), dloss, beta, dlogits);
}

/// Forward of one shard's share of a batch mean: `loss = (1/B) sum_i (logsumexp(z_i) -
/// z[i, y_i])` over the shard's rows `z[n, C]`, where `B = batch` is the size of the whole
/// batch, so the shares of a batch cut into shards add up to its mean. Stores the softmax like
/// [`cross_entropy_forward`] (which is the share of a batch of one shard). NaN for `batch = 0`,
/// like PyTorch's mean over an empty batch.
pub fn cross_entropy_share_forward(
    logits: ArrayView2<'_, f32>,
    labels: &[u8],
    batch: usize,
    mut probs: ArrayViewMut2<'_, f32>,
) -> f32 {
    check_labels(logits, labels);
    assert_eq!(
        probs.dim(),
        logits.dim(),
        "cross-entropy: probabilities must be shaped like the logits"
    );
    let mut total = 0.0f64;
    if let Some(all) = probs.as_slice_mut() {
        // The whole shard at once, so that `exp` runs over one long slice (it vectorises) rather
        // than ten values at a time: first every row's `z - m`, then `exp`, then each row's sum.
        let classes = logits.ncols().max(1);
        let mut maxima = [0.0f32; SHARD_ROWS_ON_STACK];
        for (start, rows) in (0..logits.nrows())
            .step_by(SHARD_ROWS_ON_STACK)
            .map(|start| (start, SHARD_ROWS_ON_STACK.min(logits.nrows() - start)))
        {
            let block = &mut all[start * classes..(start + rows) * classes];
            let z_rows = logits.slice(ndarray::s![start..start + rows, ..]);
            for ((z, p), m) in z_rows
                .rows()
                .into_iter()
                .zip(block.chunks_mut(classes))
                .zip(&mut maxima)
            {
                *m = row_max(z);
                for (p, &v) in p.iter_mut().zip(z.iter()) {
                    *p = v - *m;
                }
            }
            exp_in_place(block);
            for (((z, p), &m), &y) in z_rows
                .rows()
                .into_iter()
                .zip(block.chunks_mut(classes))
                .zip(&maxima)
                .zip(&labels[start..start + rows])
            {
                let s = row_sum(p);
                p.iter_mut().for_each(|p| *p /= s);
                total += row_loss(m, s, z[usize::from(y)]);
            }
        }
    } else {
        for ((z, mut p), &y) in logits.rows().into_iter().zip(probs.rows_mut()).zip(labels) {
            let p = p.as_slice_mut().expect("probability rows are contiguous");
            let (m, s) = shifted_exp(z, p);
            p.iter_mut().for_each(|p| *p /= s);
            total += row_loss(m, s, z[usize::from(y)]);
        }
    }
    if batch == 0 {
        return f32::NAN;
    }
    (total / batch as f64) as f32
}

/// Backward of [`cross_entropy_share_forward`]: `dz[n, C] = beta dz + dloss * (p - onehot(y)) /
/// B` with `B = batch`, the same scale `dloss / B` for every shard of the batch, so each row's
/// gradient is the one the whole batch would give it.
pub fn cross_entropy_share_backward(
    probs: ArrayView2<'_, f32>,
    labels: &[u8],
    batch: usize,
    dloss: f32,
    beta: f32,
    mut dlogits: ArrayViewMut2<'_, f32>,
) {
    check_labels(probs, labels);
    let scale = dloss / batch as f32;
    for ((p, mut d), &y) in probs.rows().into_iter().zip(dlogits.rows_mut()).zip(labels) {
        for (j, (d, &p)) in d.iter_mut().zip(p.iter()).enumerate() {
            let onehot = if j == usize::from(y) { 1.0 } else { 0.0 };
            let g = (p - onehot) * scale;
            *d = if beta == 0.0 { g } else { beta * *d + g };
        }
    }
}

/// `sum_i (logsumexp(z_i) - z[i, y_i])` in f64, without storing the softmax (for evaluation).
pub fn cross_entropy_sum(logits: ArrayView2<'_, f32>, labels: &[u8]) -> f64 {
    check_labels(logits, labels);
    let mut e = vec![0.0f32; logits.ncols()];
    logits
        .rows()
        .into_iter()
        .zip(labels)
        .map(|(z, &y)| {
            let (m, s) = shifted_exp(z, &mut e);
            row_loss(m, s, z[usize::from(y)])
        })
        .sum()
}

/// The predicted class of one row: the index of its largest logit (the first on a tie, as
/// `torch.argmax`; a NaN logit is never chosen unless the row is all NaN, then 0).
pub fn argmax(z: ArrayView1<'_, f32>) -> usize {
    let mut best = 0;
    for (j, &v) in z.iter().enumerate() {
        if v > z[best] || (z[best].is_nan() && !v.is_nan()) {
            best = j;
        }
    }
    best
}

/// How many rows of `logits[N, C]` have their arg-max equal to the label.
pub fn count_correct(logits: ArrayView2<'_, f32>, labels: &[u8]) -> usize {
    check_labels(logits, labels);
    logits
        .rows()
        .into_iter()
        .zip(labels)
        .filter(|(z, &y)| argmax(z.view()) == usize::from(y))
        .count()
}
