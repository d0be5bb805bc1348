//! Every invalid setting is an error that names the key, the value and what is allowed, before
//! any work starts: nothing is written, nothing panics.

use std::path::Path;
use std::process::Command;

struct Case {
    /// Flags after `trainer train`.
    flags: &'static [&'static str],
    /// A config file's text (`--config` is added when not empty).
    config: &'static str,
    /// Every one of these must appear in the error.
    says: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        flags: &["--lr", "-0.1"],
        config: "",
        says: &["lr", "-0.1", ">= 0"],
    },
    Case {
        flags: &["--lr", "NaN"],
        config: "",
        says: &["lr", "NaN", "finite"],
    },
    Case {
        flags: &["--momentum", "-0.5"],
        config: "",
        says: &["momentum", "-0.5", ">= 0"],
    },
    Case {
        flags: &["--weight-decay", "-1"],
        config: "",
        says: &["weight_decay", "-1", ">= 0"],
    },
    Case {
        flags: &["--gamma", "-0.5"],
        config: "",
        says: &["gamma", "-0.5", "> 0"],
    },
    Case {
        flags: &["--scheduler", "plateau", "--factor", "1.5"],
        config: "",
        says: &["factor", "1.5", "[0, 1)"],
    },
    Case {
        flags: &["--dampening", "0.5"],
        config: "",
        says: &["nesterov", "dampening", "0.5"],
    },
    Case {
        flags: &["--momentum", "0"],
        config: "",
        says: &["nesterov", "momentum"],
    },
    Case {
        flags: &["--step-size", "0"],
        config: "",
        says: &["step_size", "0", ">= 1"],
    },
    Case {
        flags: &["--scheduler", "plateau", "--patience", "-1"],
        config: "",
        says: &["patience", "-1", ">= 0"],
    },
    Case {
        flags: &["--batch-size", "0"],
        config: "",
        says: &["batch_size", "0", "at least 1"],
    },
    Case {
        flags: &["--hidden", "0"],
        config: "",
        says: &["hidden", "0", "at least 1"],
    },
    Case {
        flags: &["--epochs", "0"],
        config: "",
        says: &["epochs", "0", "at least 1"],
    },
    Case {
        flags: &["--scheduler", "CosineLR"],
        config: "",
        says: &["CosineLR", "CosineAnnealingLR", "StepLR"],
    },
    Case {
        flags: &["--scheduler", "plateau", "--monitor", "val_acc"],
        config: "",
        says: &["monitor", "val_acc", "test_accuracy"],
    },
    Case {
        flags: &["--interval", "hourly"],
        config: "",
        says: &["interval", "hourly", "epoch"],
    },
    Case {
        flags: &["--scheduler", "plateau", "--mode", "sideways"],
        config: "",
        says: &["mode", "sideways", "max"],
    },
    Case {
        flags: &["--threads", "0"],
        config: "",
        says: &["threads", "0", "at least 1"],
    },
    Case {
        flags: &[],
        config: "[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentun = 0.9\n",
        says: &["momentun", "momentum"],
    },
    Case {
        flags: &[],
        config: "epochs = 2\n[modle]\nhidden = 10\n",
        says: &["modle", "model"],
    },
    Case {
        flags: &[],
        config: "epochs = \"five\"\n",
        says: &["epochs", "five", "line 1", "whole number"],
    },
    Case {
        flags: &[],
        config: "[data]\nbatch_size = -3\n",
        says: &["batch_size", "-3", "line 2"],
    },
    Case {
        flags: &[],
        config: "[scheduler]\nname = \"StepLR\"\nstep_sise = 4\n",
        says: &["step_sise", "step_size"],
    },
    Case {
        flags: &[],
        config: "[optimizer]\nname = \"Adagrad\"\nlr = 0.1\n",
        says: &["Adagrad", "SGD", "AdamW"],
    },
];

fn check(case: &Case, dir: &Path) {
    let out = dir.join("run");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trainer"));
    cmd.arg("train").args(case.flags).arg("--out").arg(&out);
    if !case.config.is_empty() {
        let path = dir.join("config.toml");
        std::fs::write(&path, case.config).unwrap();
        cmd.arg("--config").arg(path);
    }
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let what = format!("{:?} {:?}", case.flags, case.config);
    assert!(!output.status.success(), "{what} should fail");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    for needle in case.says {
        assert!(
            stderr.contains(needle),
            "{what}: the error should mention {needle:?}: {stderr}"
        );
    }
    assert!(
        !out.exists(),
        "{what}: nothing may be written before the settings are checked"
    );
}

#[test]
fn every_invalid_setting_is_named_before_any_work() {
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        check(case, dir.path());
    }
}

#[test]
fn resuming_a_run_whose_model_shape_was_changed_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let status = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args([
            "train",
            "--epochs",
            "2",
            "--max-steps",
            "5",
            "--quiet",
            "--out",
        ])
        .arg(&run)
        .status()
        .unwrap();
    assert!(status.success());
    // Someone edits the run's config.toml to a different hidden width, then resumes.
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    std::fs::write(
        run.join("config.toml"),
        config.replace("hidden = 100", "hidden = 32"),
    )
    .unwrap();
    let before = std::fs::read(run.join("checkpoint.safetensors")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(["train", "--resume"])
        .arg(&run)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("100") && stderr.contains("32") && stderr.contains("hidden"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(run.join("checkpoint.safetensors")).unwrap(),
        before,
        "the checkpoint is untouched"
    );
}

#[test]
fn resume_refuses_flags_that_would_change_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(["train", "--resume"])
        .arg(dir.path())
        .args(["--lr", "0.5"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("--resume"), "{stderr}");
}

#[test]
fn init_weights_with_a_hundred_way_head_is_refused() {
    // The tutorial's bug: 100 outputs for 10 classes. PyTorch trains it silently; we refuse it.
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("tutorial.safetensors");
    std::fs::write(
        &weights,
        autograd_lite::Mlp::new(784, 100, 100, 0).to_safetensors(),
    )
    .unwrap();
    let out = dir.path().join("run");
    let output = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(["train", "--init-weights"])
        .arg(&weights)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("784-100-100") && stderr.contains("10 outputs"),
        "{stderr}"
    );
    assert!(!out.join("model.safetensors").exists());
}
