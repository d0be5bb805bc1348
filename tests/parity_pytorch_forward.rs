//! Parity with PyTorch on the real data: the forward pass (loss of the first training batch), the
//! gradients (through the loss after one Nesterov SGD step), and the evaluation pass (test loss and
//! accuracy of the fixture's final weights). The fixtures were produced by PyTorch 2.15, see
//! `tests/fixtures/README.md`; the full 40-step trace is `tests/parity_training.rs`.

use std::path::{Path, PathBuf};

use autograd_lite::{evaluate, Mlp, TrainStep};
use fashion::{Dataset, Split};

const BATCH: usize = 256;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

fn trace() -> serde_json::Value {
    let path = fixture("parity_nesterov_steplr.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn number(v: &serde_json::Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, found {v}"))
}

fn data(split: Split) -> Dataset {
    let dir = root().join("data/fashion-mnist");
    Dataset::load(Path::new(&dir), split).unwrap_or_else(|e| panic!("{e}"))
}

/// Batch `i` in file order: samples `[i*256, (i+1)*256)`.
fn batch(train: &Dataset, i: usize) -> (&[u8], &[u8]) {
    let pixels = train.rows * train.cols;
    let samples = i * BATCH..(i + 1) * BATCH;
    (
        &train.images[samples.start * pixels..samples.end * pixels],
        &train.labels[samples],
    )
}

#[test]
fn first_batch_loss_and_gradients_match_pytorch() {
    let expected = trace();
    let losses = &expected["loss_per_step"];
    let (lr, momentum) = (0.1f32, 0.9f32);
    assert_eq!(number(&expected["lr_per_step"][0]) as f32, lr);
    assert_eq!(
        number(&expected["config"]["optimizer"]["momentum"]) as f32,
        momentum
    );

    let mut mlp = Mlp::load(&fixture("parity_nesterov_steplr.init.safetensors"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((mlp.inputs(), mlp.hidden(), mlp.classes()), (784, 100, 10));
    let train = data(Split::Train);
    let mut step = TrainStep::new(&mlp, BATCH);

    let (images, labels) = batch(&train, 0);
    let out = step.forward_backward(&mlp, images, labels);
    let loss0 = number(&losses[0]);
    assert!(
        (f64::from(out.loss) - loss0).abs() < 1e-5,
        "batch 0 loss {} vs PyTorch {loss0}",
        out.loss
    );

    // The gradients, seen through PyTorch's next loss: SGD's first Nesterov step sets the
    // momentum buffer to g, so the update is p -= lr * (g + momentum * g).
    let grads: Vec<Vec<f32>> = step.grads().iter().map(|g| g.to_vec()).collect();
    for (p, g) in mlp.params_mut().into_iter().zip(&grads) {
        assert_eq!(p.len(), g.len());
        for (p, &g) in p.iter_mut().zip(g) {
            let d = g + momentum * g;
            *p -= lr * d;
        }
    }
    let (images, labels) = batch(&train, 1);
    let out = step.forward_backward(&mlp, images, labels);
    let loss1 = number(&losses[1]);
    assert!(
        (f64::from(out.loss) - loss1).abs() < 1e-5,
        "batch 1 loss after one step {} vs PyTorch {loss1}",
        out.loss
    );
}

#[test]
fn final_weights_evaluate_to_pytorch_test_loss_and_accuracy() {
    let expected = trace();
    let mlp = Mlp::load(&fixture("parity_nesterov_steplr.final.safetensors"))
        .unwrap_or_else(|e| panic!("{e}"));
    let test = data(Split::Test);
    let mut predictions = Vec::new();
    let eval = evaluate(&mlp, &test.images, &test.labels, &mut predictions);
    assert_eq!(eval.total, 10_000);
    assert_eq!(predictions.len(), 10_000);
    let expected_loss = number(&expected["test_loss"]);
    assert!(
        (eval.loss - expected_loss).abs() < 1e-5,
        "test loss {} vs PyTorch {expected_loss}",
        eval.loss
    );
    let expected_correct = (number(&expected["test_accuracy"]) * 10_000.0).round() as usize;
    assert_eq!(eval.correct, expected_correct, "correct test predictions");
    let agreeing = predictions
        .iter()
        .zip(&test.labels)
        .filter(|(p, y)| p == y)
        .count();
    assert_eq!(
        agreeing, eval.correct,
        "predictions agree with the correct count"
    );
}
