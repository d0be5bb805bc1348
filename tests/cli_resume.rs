//! `--resume` continues exactly the run the folder describes, or refuses and says why: an edited
//! `config.toml` is refused naming the key and both values, `--epochs` may only go up and is
//! written back, and `trace` is part of the config.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn trainer() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "trainer failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn failed(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

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
