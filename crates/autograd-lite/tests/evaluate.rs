//! `evaluate`: the test pass agrees with the training step's forward and with an f64 reference,
//! fills the predictions, and handles more rows than one evaluation chunk.

use autograd_lite::step::EVAL_CHUNK;
use autograd_lite::{evaluate, Mlp, SplitMix64, TrainStep, PIXEL_SCALE};
use ndarray::Array2;

fn data(seed: u64, n: usize, inputs: usize, classes: usize) -> (Vec<u8>, Vec<u8>) {
    let mut rng = SplitMix64::new(seed);
    let images = (0..n * inputs)
        .map(|_| (rng.next_u64() >> 56) as u8)
        .collect();
    let labels = (0..n)
        .map(|_| (rng.next_u64() % classes as u64) as u8)
        .collect();
    (images, labels)
}

/// Logits in f64: `relu(x W1^T + b1) W2^T + b2` with `x = pixels / 255`.
fn logits64(mlp: &Mlp, images: &[u8], n: usize) -> Array2<f64> {
    let x = Array2::from_shape_fn((n, mlp.inputs()), |(i, j)| {
        f64::from(images[i * mlp.inputs() + j]) * f64::from(PIXEL_SCALE)
    });
    let w1 = mlp.fc1.weight.mapv(f64::from);
    let w2 = mlp.fc2.weight.mapv(f64::from);
    let h = (x.dot(&w1.t()) + mlp.fc1.bias.mapv(f64::from)).mapv(|v| v.max(0.0));
    h.dot(&w2.t()) + mlp.fc2.bias.mapv(f64::from)
}

#[test]
fn evaluation_matches_the_training_forward_and_an_f64_reference() {
    let mlp = Mlp::new(784, 100, 10, 21);
    let n = 300;
    let (images, labels) = data(1, n, 784, 10);
    let mut predictions = vec![99; 3]; // stale contents must be replaced
    let eval = evaluate(&mlp, &images, &labels, &mut predictions);
    assert_eq!((eval.total, predictions.len()), (n, n));

    let out = TrainStep::new(&mlp, n).forward_backward(&mlp, &images, &labels);
    assert_eq!(eval.correct, out.correct);
    assert!(
        (eval.loss - f64::from(out.loss)).abs() < 1e-6,
        "{} vs {}",
        eval.loss,
        out.loss
    );

    let z = logits64(&mlp, &images, n);
    let mut loss = 0.0;
    for (i, row) in z.rows().into_iter().enumerate() {
        let m = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        loss += m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - row[labels[i] as usize];
        let best = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let second = row
            .iter()
            .cloned()
            .filter(|&v| v < best)
            .fold(f64::NEG_INFINITY, f64::max);
        if best - second > 1e-4 {
            let class = row.iter().position(|&v| v == best).unwrap();
            assert_eq!(
                usize::from(predictions[i]),
                class,
                "prediction of sample {i}"
            );
        }
    }
    assert!((eval.loss - loss / n as f64).abs() < 1e-6);
    let correct = predictions
        .iter()
        .zip(&labels)
        .filter(|(p, y)| p == y)
        .count();
    assert_eq!(correct, eval.correct);
    assert!((eval.accuracy() - correct as f64 / n as f64).abs() < 1e-15);
}

#[test]
fn more_rows_than_one_chunk_give_the_same_as_evaluating_the_parts() {
    let mlp = Mlp::new(5, 4, 3, 8);
    let n = EVAL_CHUNK + 37;
    let (images, labels) = data(2, n, 5, 3);
    let mut all = Vec::new();
    let whole = evaluate(&mlp, &images, &labels, &mut all);
    let (mut head, mut tail) = (Vec::new(), Vec::new());
    let split = 5000;
    let a = evaluate(&mlp, &images[..split * 5], &labels[..split], &mut head);
    let b = evaluate(&mlp, &images[split * 5..], &labels[split..], &mut tail);
    assert_eq!(whole.total, n);
    assert_eq!(whole.correct, a.correct + b.correct);
    let parts = (a.loss * split as f64 + b.loss * (n - split) as f64) / n as f64;
    assert!(
        (whole.loss - parts).abs() < 1e-9,
        "{} vs {parts}",
        whole.loss
    );
    head.extend_from_slice(&tail);
    assert_eq!(all, head);
}
