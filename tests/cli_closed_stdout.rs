//! A closed standard output (or error) never panics: `trainer schedule ... | head -2` stops
//! quietly with exit 0, and `train` and `compare` carry on and write their run folders, since
//! the console is not the product.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn trainer() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trainer"));
    c.stdin(Stdio::null());
    c
}

#[test]
fn schedule_into_a_reader_that_stops_after_two_lines_exits_quietly() {
    // A million steps: about 40 MB of table, far more than a pipe holds, so the writes are
    // still going when the reader goes away.
    let mut child = trainer()
        .args([
            "schedule",
            "--config",
            "configs/cosine.toml",
            "--steps",
            "1000000",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert_eq!(first, "step,lr,momentum\n");
    let mut second = String::new();
    reader.read_line(&mut second).unwrap();
    assert!(second.starts_with("0,"), "{second}");
    drop(reader); // like `head -2`
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
}

/// Spawns `command` with its stdout a pipe whose reading end is closed at once.
fn run_with_closed_stdout(command: &mut Command) -> std::process::Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn train_with_a_closed_stdout_still_writes_its_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("run");
    let out = run_with_closed_stdout(trainer().args([
        "train",
        "--max-steps",
        "3",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        out_dir.to_str().unwrap(),
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let metrics = std::fs::read_to_string(out_dir.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 2, "{metrics}");
    assert!(out_dir.join("model.safetensors").is_file());
    assert!(out_dir.join("checkpoint.safetensors").is_file());
}

#[test]
fn compare_with_a_closed_stdout_still_writes_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("short.toml");
    std::fs::write(
        &config,
        "epochs = 1\nmax_steps = 3\n[optimizer]\nname = \"SGD\"\nlr = 0.1\n[scheduler]\nname = \"none\"\n",
    )
    .unwrap();
    let out_dir = dir.path().join("cmp");
    let out = run_with_closed_stdout(trainer().args([
        "compare",
        config.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for file in ["summary.csv", "report.html"] {
        assert!(Path::new(&out_dir.join(file)).is_file(), "{file}: {err}");
    }
}

#[test]
fn a_closed_stderr_does_not_turn_an_error_into_a_panic() {
    let mut child = trainer()
        .args(["train", "--threads", "100000"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "an error exit, not a panic (101) or abort (134)"
    );
}
