//! PyTorch parity of a whole training run: the fixture's 40 SGD(Nesterov) + StepLR steps on
//! the real data, from the fixture's initial weights, must give the same lr and loss at every
//! step and the same final weights, to 1e-5.

mod common;

use serde_json::Value;

use common::{fixture, tensors, trainer};

#[test]
fn forty_nesterov_steplr_steps_match_pytorch() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("parity_nesterov_steplr.json")).unwrap(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let status = trainer()
        .args(["train", "--init-weights"])
        .arg(fixture("parity_nesterov_steplr.init.safetensors"))
        .args([
            "--no-shuffle",
            "--max-steps",
            "40",
            "--epochs",
            "1",
            "--batch-size",
            "256",
        ])
        .args(["--lr", "0.1", "--momentum", "0.9", "--nesterov", "true"])
        .args([
            "--scheduler",
            "StepLR",
            "--step-size",
            "10",
            "--gamma",
            "0.5",
            "--interval",
            "step",
        ])
        .args(["--trace", "--quiet", "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());

    let trace = std::fs::read_to_string(out.path().join("trace.csv")).unwrap();
    let mut lines = trace.lines();
    assert!(lines.next().unwrap().starts_with("step,epoch,lr,loss,"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').take(4).map(|v| v.parse().unwrap()).collect())
        .collect();
    let lrs = expected["lr_per_step"].as_array().unwrap();
    let losses = expected["loss_per_step"].as_array().unwrap();
    assert_eq!(rows.len(), 40);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (i + 1) as f64, "steps are numbered from 1");
        let (lr, loss) = (lrs[i].as_f64().unwrap(), losses[i].as_f64().unwrap());
        assert!(
            (row[2] - lr).abs() <= 1e-12 * lr,
            "step {}: lr {} vs PyTorch {lr}",
            i + 1,
            row[2]
        );
        assert!(
            (row[3] - loss).abs() <= 1e-5,
            "step {}: loss {} vs PyTorch {loss}",
            i + 1,
            row[3]
        );
    }

    let ours = tensors(&std::fs::read(out.path().join("model.safetensors")).unwrap());
    let theirs =
        tensors(&std::fs::read(fixture("parity_nesterov_steplr.final.safetensors")).unwrap());
    assert_eq!(ours.len(), 4);
    for ((name, a), (tname, b)) in ours.iter().zip(&theirs) {
        assert_eq!(name, tname);
        assert_eq!(a.len(), b.len(), "{name}");
        let max = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(max <= 1e-5, "{name}: max |ours - PyTorch| = {max}");
    }

    let metrics = std::fs::read_to_string(out.path().join("metrics.csv")).unwrap();
    let last: Vec<f64> = metrics
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    let test_loss = expected["test_loss"].as_f64().unwrap();
    let test_accuracy = 100.0 * expected["test_accuracy"].as_f64().unwrap();
    assert!(
        (last[4] - test_loss).abs() <= 1e-5,
        "test loss {} vs PyTorch {test_loss}",
        last[4]
    );
    assert!(
        (last[5] - test_accuracy).abs() <= 0.011,
        "test accuracy {} vs PyTorch {test_accuracy}",
        last[5]
    );
}
