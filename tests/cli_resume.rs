//! `--resume` continues exactly the run the folder describes, or refuses and says why: an edited
//! `config.toml` is refused naming the key and both values, `--epochs` may only go up and is
//! written back, and `trace` is part of the config.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{failed, ok, trainer};

fn resume(dir: &Path, extra: &[&str]) -> Output {
    trainer()
        .args(["train", "--quiet", "--resume"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

/// A small fast run: a hidden layer of 8 and batches of 2000 (30 steps an epoch).
fn tiny_run(dir: &Path, epochs: &str) {
    ok(&trainer()
        .args([
            "train",
            "--quiet",
            "--hidden",
            "8",
            "--batch-size",
            "2000",
            "--epochs",
            epochs,
            "--out",
        ])
        .arg(dir)
        .output()
        .unwrap());
}

fn metric_rows(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("metrics.csv"))
        .unwrap()
        .lines()
        .count()
        - 1
}

#[test]
fn an_edited_config_is_refused_naming_the_key_and_both_values() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    tiny_run(&run, "2");
    let original = std::fs::read_to_string(run.join("config.toml")).unwrap();
    let checkpoint = std::fs::read(run.join("checkpoint.safetensors")).unwrap();
    for (from, to, key) in [
        ("momentum = 0.9", "momentum = 0.5", "optimizer.momentum"),
        ("step_size = 4", "step_size = 1", "scheduler.step_size"),
        ("gamma = 0.96", "gamma = 0.5", "scheduler.gamma"),
        ("batch_size = 2000", "batch_size = 128", "data.batch_size"),
        ("seed = 0", "seed = 1", "seed"),
    ] {
        assert!(original.contains(from), "{original}");
        std::fs::write(run.join("config.toml"), original.replace(from, to)).unwrap();
        let stderr = failed(&resume(&run, &["--epochs", "3"]));
        let (new, old) = (
            to.rsplit(' ').next().unwrap(),
            from.rsplit(' ').next().unwrap(),
        );
        assert!(
            stderr.contains(&format!(
                "{key} is {new} in config.toml but {old} in the checkpoint"
            )),
            "{key}: {stderr}"
        );
        assert_eq!(
            std::fs::read(run.join("checkpoint.safetensors")).unwrap(),
            checkpoint
        );
        assert_eq!(metric_rows(&run), 2);
    }
    // Put back, the run continues.
    std::fs::write(run.join("config.toml"), &original).unwrap();
    ok(&resume(&run, &["--epochs", "3"]));
    assert_eq!(metric_rows(&run), 3);
    // The checkpoint (weights plus optimizer.* tensors) still serves as weights for eval.
    let eval = ok(&trainer()
        .args(["eval", "--weights"])
        .arg(run.join("checkpoint.safetensors"))
        .output()
        .unwrap());
    assert!(eval.contains("accuracy"), "{eval}");
}

#[test]
fn epochs_may_only_go_up_and_are_written_back() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    tiny_run(&run, "6");
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    let stderr = failed(&resume(&run, &["--epochs", "3"]));
    assert!(
        stderr.contains("epochs = 3") && stderr.contains("done 6 epochs"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(run.join("config.toml")).unwrap(),
        config
    );
    assert_eq!(metric_rows(&run), 6);

    ok(&resume(&run, &["--epochs", "7"]));
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("epochs = 7"), "{config}");
    assert_eq!(metric_rows(&run), 7);
    // The same holds for an edit of config.toml itself.
    std::fs::write(
        run.join("config.toml"),
        config.replace("epochs = 7", "epochs = 2"),
    )
    .unwrap();
    let stderr = failed(&resume(&run, &[]));
    assert!(stderr.contains("done 7 epochs"), "{stderr}");
    // --max-steps below the steps taken is refused the same way.
    std::fs::write(run.join("config.toml"), &config).unwrap();
    let stderr = failed(&resume(&run, &["--max-steps", "5"]));
    assert!(
        stderr.contains("max_steps = 5") && stderr.contains("210 steps"),
        "{stderr}"
    );
}

#[test]
fn trace_survives_a_kill_before_the_first_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let args = [
        "train",
        "--quiet",
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--trace",
    ];
    let mut child = trainer()
        .args(args)
        .arg("--out")
        .arg(&run)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !run.join("config.toml").is_file() {
        assert!(start.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!run.join("checkpoint.safetensors").exists());
    // The resumed run (shortened: --max-steps may be given) keeps the trace the run asked for.
    ok(&resume(&run, &["--max-steps", "20"]));
    let trace = std::fs::read_to_string(run.join("trace.csv")).unwrap();
    assert_eq!(trace.lines().count(), 21, "{trace}");
    // ... the same trace as a run that was never killed.
    let whole = dir.path().join("whole");
    ok(&trainer()
        .args(args)
        .args(["--max-steps", "20", "--out"])
        .arg(&whole)
        .output()
        .unwrap());
    assert_eq!(
        std::fs::read_to_string(whole.join("trace.csv")).unwrap(),
        trace
    );
    // Adding --trace once steps are taken is refused: the trace would miss them.
    let plain = dir.path().join("plain");
    tiny_run(&plain, "1");
    let stderr = failed(&resume(&plain, &["--trace", "--epochs", "2"]));
    assert!(
        stderr.contains("--trace") && stderr.contains("steps 1 to 30"),
        "{stderr}"
    );
}

/// Rewrites the training state JSON inside `dir`'s checkpoint with `edit`.
fn edit_checkpoint(dir: &Path, edit: impl Fn(&mut serde_json::Value)) {
    use safetensors::tensor::{Dtype, TensorView};
    let path = dir.join("checkpoint.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = file
        .tensors()
        .into_iter()
        .map(|(n, t)| (n, t.shape().to_vec(), t.data().to_vec()))
        .collect();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let json = &meta.metadata().as_ref().unwrap()["trainer_state"];
    let mut state: serde_json::Value = serde_json::from_str(json).unwrap();
    edit(&mut state);
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, s, d)| {
            (
                n.clone(),
                TensorView::new(Dtype::F32, s.clone(), d).unwrap(),
            )
        })
        .collect();
    let meta = std::collections::HashMap::from([("trainer_state".to_string(), state.to_string())]);
    std::fs::write(&path, safetensors::serialize(views, Some(meta)).unwrap()).unwrap();
}

/// Hand-edited checkpoints: each bad optimizer, scheduler or progress value is an error that
/// names the file and the field, never a panic, and the folder is left as it was.
#[test]
fn a_checkpoint_with_impossible_state_is_refused_naming_the_file_and_field() {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    tiny_run(&good, "1");
    type Edit = fn(&mut serde_json::Value);
    let cases: [(Edit, &str); 11] = [
        (
            |s| s["sgd"]["groups"][0]["momentum"] = json!(0.5),
            "param_groups[0].momentum = 0.5 but the run's config gives 0.9",
        ),
        (
            |s| s["sgd"]["groups"][0]["lr"] = json!(0.05),
            "the optimizer's lr [0.05] is not the lr StepLR set last ([0.1])",
        ),
        (
            |s| s["sgd"]["groups"][0]["lr"] = json!(-0.1),
            "param_groups[0].lr` = -0.1",
        ),
        (
            |s| s["sgd"]["groups"][0]["momentum"] = json!(50.0),
            "param_groups[0].momentum` = 50",
        ),
        (
            |s| s["sgd"]["groups"][0]["weight_decay"] = json!(0.5),
            "param_groups[0].weight_decay` = 0.5",
        ),
        (
            |s| s["scheduler"]["node"]["Formula"]["rule"]["Step"]["step_size"] = json!(0),
            "StepLR.step_size` = 0",
        ),
        (
            |s| s["scheduler"]["node"]["Formula"]["base"]["base_lrs"] = json!([0.1, 0.2]),
            "StepLR.base_lrs` = [0.1, 0.2]",
        ),
        (
            |s| s["progress"]["batches_done"] = json!(999),
            "progress.batches_done = 999",
        ),
        (
            |s| s["progress"]["correct"] = json!(5),
            "progress.correct = 5",
        ),
        (|s| s["step"] = json!(1000), "step = 1000"),
        (|s| s["metrics"] = json!([]), "metrics = 0 rows"),
    ];
    for (i, (edit, field)) in cases.into_iter().enumerate() {
        let run = dir.path().join(format!("run{i}"));
        std::fs::create_dir(&run).unwrap();
        for name in ["config.toml", "metrics.csv", "checkpoint.safetensors"] {
            std::fs::copy(good.join(name), run.join(name)).unwrap();
        }
        edit_checkpoint(&run, edit);
        let before = std::fs::read(run.join("checkpoint.safetensors")).unwrap();
        let stderr = failed(&resume(&run, &["--epochs", "2"]));
        assert!(
            stderr.contains(&format!("{}", run.join("checkpoint.safetensors").display()))
                && stderr.contains(field),
            "{field}: {stderr}"
        );
        assert_eq!(
            std::fs::read(run.join("checkpoint.safetensors")).unwrap(),
            before
        );
    }
    // A cosine with T_max = 0 and a SequentialLR whose milestones do not match its children.
    let cosine = "[scheduler]\nname = \"CosineAnnealingLR\"\nT_max = 3\n";
    let sequential = "[scheduler]\nname = \"SequentialLR\"\nmilestones = [2]\n[[scheduler.schedulers]]\nname = \"ConstantLR\"\nfactor = 0.5\ntotal_iters = 2\n[[scheduler.schedulers]]\nname = \"ExponentialLR\"\ngamma = 0.9\n";
    let cases: [(&str, Edit, &str); 2] = [
        (
            cosine,
            |s| s["scheduler"]["node"]["Formula"]["rule"]["Cosine"]["t_max"] = json!(0),
            "CosineAnnealingLR.T_max` = 0",
        ),
        (
            sequential,
            |s| s["scheduler"]["node"]["Sequential"]["milestones"] = json!([1, 2, 3]),
            "SequentialLR.milestones` = [1, 2, 3]",
        ),
    ];
    for (i, (scheduler, edit, field)) in cases.into_iter().enumerate() {
        let config = dir.path().join(format!("scheduler{i}.toml"));
        std::fs::write(&config, scheduler).unwrap();
        let run = dir.path().join(format!("scheduler-run{i}"));
        ok(&trainer()
            .args([
                "train",
                "--quiet",
                "--hidden",
                "8",
                "--batch-size",
                "2000",
                "--epochs",
                "1",
            ])
            .arg("--config")
            .arg(&config)
            .arg("--out")
            .arg(&run)
            .output()
            .unwrap());
        edit_checkpoint(&run, edit);
        let stderr = failed(&resume(&run, &["--epochs", "2"]));
        assert!(
            stderr.contains("checkpoint.safetensors") && stderr.contains(field),
            "{field}: {stderr}"
        );
    }
}
