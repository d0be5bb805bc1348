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

/// The same against PyTorch for AdamW with a per-step CosineAnnealingLR: 30 steps of batch 128
/// on a 784-32-10 MLP from the fixture's initial weights (made by
/// `tests/fixtures/make_parity_adamw_cosine.py`). Every step's lr matches to 1e-12, every loss
/// and every final weight to float32 rounding (PyTorch's own float32 run is 2e-7 / 4e-7 from
/// its float64 one).
#[test]
fn thirty_adamw_cosine_steps_match_pytorch() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("parity_adamw_cosine.json")).unwrap(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let config = out.path().join("adamw.toml");
    std::fs::write(
        &config,
        "epochs = 1\nmax_steps = 30\ntrace = true\n\
         [data]\nbatch_size = 128\nshuffle = false\n[model]\nhidden = 32\n\
         [optimizer]\nname = \"AdamW\"\nlr = 0.003\nbetas = [0.9, 0.999]\neps = 1e-8\nweight_decay = 0.01\n\
         [scheduler]\nname = \"CosineAnnealingLR\"\nT_max = 30\neta_min = 0.0\ninterval = \"step\"\n",
    )
    .unwrap();
    let run = out.path().join("run");
    let status = trainer()
        .args(["train", "--quiet", "--config"])
        .arg(&config)
        .arg("--init-weights")
        .arg(fixture("parity_adamw_cosine.init.safetensors"))
        .arg("--out")
        .arg(&run)
        .status()
        .unwrap();
    assert!(status.success());

    let trace = std::fs::read_to_string(run.join("trace.csv")).unwrap();
    let rows: Vec<Vec<f64>> = trace
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(4).map(|v| v.parse().unwrap()).collect())
        .collect();
    let lrs = expected["lr_per_step"].as_array().unwrap();
    let losses = expected["loss_per_step"].as_array().unwrap();
    assert_eq!(rows.len(), 30);
    let mut worst_loss = 0.0f64;
    for (i, row) in rows.iter().enumerate() {
        let (lr, loss) = (lrs[i].as_f64().unwrap(), losses[i].as_f64().unwrap());
        assert!(
            (row[2] - lr).abs() <= 1e-12 * lr,
            "step {}: lr {} vs PyTorch {lr}",
            i + 1,
            row[2]
        );
        worst_loss = worst_loss.max((row[3] - loss).abs());
        assert!(
            (row[3] - loss).abs() <= 2e-6,
            "step {}: loss {} vs PyTorch {loss}",
            i + 1,
            row[3]
        );
    }

    let ours = tensors(&std::fs::read(run.join("model.safetensors")).unwrap());
    let theirs = tensors(&std::fs::read(fixture("parity_adamw_cosine.final.safetensors")).unwrap());
    assert_eq!(ours.len(), 4);
    let mut worst_weight = 0.0f32;
    for ((name, a), (tname, b)) in ours.iter().zip(&theirs) {
        assert_eq!(name, tname);
        assert_eq!(a.len(), b.len(), "{name}");
        let max = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        worst_weight = worst_weight.max(max);
        assert!(max <= 2e-6, "{name}: max |ours - PyTorch| = {max}");
    }
    eprintln!("max |loss - PyTorch| = {worst_loss:e}, max |weight - PyTorch| = {worst_weight:e}");

    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let row: Vec<f64> = metrics
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    let test_loss = expected["test_loss"].as_f64().unwrap();
    assert!(
        (row[4] - test_loss).abs() <= 1e-5,
        "test loss {} vs PyTorch {test_loss}",
        row[4]
    );
}
