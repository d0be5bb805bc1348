//! `trainer train` and `trainer lr-find` with Adam and AdamW: the optimizer flags, their
//! conflicts with SGD's, config errors that name the file and line, and trace.csv's columns of
//! Adam's moments.

mod common;

use std::path::Path;

use common::{failed, ok, trainer};

fn train(args: &[&str], out: &Path) -> std::process::Output {
    trainer()
        .args(["train", "--quiet"])
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn flags_of_the_other_optimizer_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    for (args, needles) in [
        (
            &["--optimizer", "adam", "--momentum", "0.9"][..],
            &["--momentum", "SGD", "Adam", "--betas"][..],
        ),
        (
            &["--optimizer", "adamw", "--nesterov", "true"],
            &["--nesterov", "AdamW"],
        ),
        (
            &["--betas", "0.9,0.99"],
            &["--betas", "SGD", "--optimizer adam"],
        ),
        (&["--amsgrad"], &["--amsgrad", "SGD"]),
        (&["--optimizer", "sgd", "--eps", "1e-6"], &["--eps", "SGD"]),
        (
            &["--optimizer", "adam", "--betas", "0.9"],
            &["--betas", "two numbers"],
        ),
        (
            &["--optimizer", "adamw", "--betas", "1,0.999"],
            &["betas[0]", "[0, 1)"],
        ),
        (
            &["--optimizer", "adam", "--betas", "0.9,-0.1"],
            &["betas[1]"],
        ),
        (&["--optimizer", "adam", "--eps=-1e-8"], &["`eps`", ">= 0"]),
        (&["--optimizer", "adamw", "--lr", "-0.001"], &["`lr`"]),
        (
            &["--optimizer", "adamw", "--weight-decay", "-1"],
            &["`weight_decay`"],
        ),
        (&["--optimizer", "rmsprop"], &["rmsprop", "adamw"]),
    ] {
        let err = failed(&train(args, &out));
        for needle in needles {
            assert!(err.contains(needle), "{args:?}: {needle} not in {err}");
        }
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}

#[test]
fn config_errors_of_adam_name_the_file_the_line_and_the_keys_it_takes() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("adam.toml");
    std::fs::write(
        &config,
        "[optimizer]\nname = \"Adam\"\nlr = 0.001\nnesterov = true\n",
    )
    .unwrap();
    let out = dir.path().join("run");
    let err = failed(&train(&["--config", config.to_str().unwrap()], &out));
    for needle in ["adam.toml", "line 4", "nesterov", "betas", "amsgrad"] {
        assert!(err.contains(needle), "{needle} not in {err}");
    }
    std::fs::write(
        &config,
        "[optimizer]\nname = \"AdamW\"\nbetas = [0.9, 1.5]\n",
    )
    .unwrap();
    let err = failed(&train(&["--config", config.to_str().unwrap()], &out));
    for needle in ["adam.toml", "line 3", "betas[1]", "1.5"] {
        assert!(err.contains(needle), "{needle} not in {err}");
    }
    assert!(!out.exists());
}

#[test]
fn an_adam_run_traces_its_moments_and_says_what_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let printed = trainer()
        .args([
            "train",
            "--optimizer",
            "adam",
            "--betas",
            "0.8,0.99",
            "--trace",
        ])
        .args(["--hidden", "8", "--batch-size", "2000", "--epochs", "1"])
        .args(["--max-steps", "5", "--scheduler", "none", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let printed = ok(&printed);
    // PyTorch's defaults for what was not given; the betas as given.
    assert!(
        printed.contains("optimizer: Adam(lr=0.001, betas=[0.8, 0.99])"),
        "{printed}"
    );
    let trace = std::fs::read_to_string(out.join("trace.csv")).unwrap();
    let mut lines = trace.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<f64> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert!(
        !header.iter().any(|h| h.ends_with("buffer_norm")),
        "{header:?}"
    );
    assert_eq!(col("lr"), 1e-3, "Adam's default lr");
    for p in ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"] {
        let g = col(&format!("{p}.grad_norm"));
        // First step: m = (1 - β1)·g, v = (1 - β2)·g², and the step is lr·g/|g| per value.
        let m = col(&format!("{p}.exp_avg_norm"));
        assert!(
            (m - 0.2 * g).abs() <= 1e-6 * g,
            "{p}: ‖m‖ {m} vs 0.2·‖g‖ {g}"
        );
        assert!(col(&format!("{p}.exp_avg_sq_norm")) > 0.0);
        let step = col(&format!("{p}.step_norm"));
        let update = col(&format!("{p}.update_norm"));
        assert!(
            (step - update).abs() <= 1e-6 * update,
            "{p}: {step} vs {update}"
        );
    }
}

#[test]
fn lr_find_takes_the_optimizer_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lr");
    let printed = ok(&trainer()
        .args([
            "lr-find",
            "--optimizer",
            "adamw",
            "--betas",
            "0.9,0.99",
            "--steps",
            "20",
        ])
        .args(["--start-lr", "1e-5", "--end-lr", "1", "--out"])
        .arg(&out)
        .output()
        .unwrap());
    assert!(printed.contains("20 steps"), "{printed}");
    let csv = std::fs::read_to_string(out.join("lr_find.csv")).unwrap();
    assert_eq!(csv.lines().count(), 21, "{csv}");
    let err = failed(
        &trainer()
            .args(["lr-find", "--amsgrad", "--out"])
            .arg(dir.path().join("other"))
            .output()
            .unwrap(),
    );
    assert!(err.contains("--amsgrad") && err.contains("SGD"), "{err}");
}
