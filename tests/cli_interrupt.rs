//! Interruptions: Ctrl-C or SIGTERM finishes the step, checkpoints and says how to resume;
//! `kill -9` at any moment leaves complete files; either way `--resume` ends bit-identical to an
//! uninterrupted run.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RUN: [&str; 6] = ["train", "--epochs", "3", "--batch-size", "128", "--trace"];

/// Starts the run in the background; `output` is where its stdout and stderr go.
fn start(dir: &Path, output: fn() -> Stdio) -> Child {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(RUN)
        .arg("--out")
        .arg(dir)
        .stdout(output())
        .stderr(output())
        .spawn()
        .unwrap()
}

fn uninterrupted(dir: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(RUN)
        .arg("--out")
        .arg(dir)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

fn resume(dir: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(["train", "--resume"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn same_files(a: &Path, b: &Path) {
    for name in ["model.safetensors", "trace.csv"] {
        assert!(
            std::fs::read(a.join(name)).unwrap() == std::fs::read(b.join(name)).unwrap(),
            "{name} differs"
        );
    }
    let strip = |d: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(d.join("metrics.csv")).unwrap();
        text.lines()
            .map(|l| l.split(',').take(6).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(strip(a), strip(b));
}

/// Sends `signal` once training is under way; the run must checkpoint mid-epoch, exit 130 with
/// the command that continues it, and end bit-identical to an uninterrupted run once resumed.
fn signal_checkpoints_mid_epoch_and_resume_is_exact(signal: &str) {
    let reference = tempfile::tempdir().unwrap();
    uninterrupted(reference.path());

    let dir = tempfile::tempdir().unwrap();
    let mut child = start(dir.path(), Stdio::piped);
    // The header is printed once the signal handler is in place and training starts.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 && !line.starts_with("epoch") {
        line.clear();
    }
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        // The whole run finished before the signal arrived: nothing to resume, still exact.
        same_files(reference.path(), dir.path());
        return;
    }
    assert_eq!(output.status.code(), Some(130), "{signal}: {stderr}");
    assert!(stderr.contains("trainer train --resume"), "{stderr}");
    assert!(dir.path().join("checkpoint.safetensors").is_file());
    resume(dir.path());
    same_files(reference.path(), dir.path());
}

#[test]
fn ctrl_c_checkpoints_mid_epoch_and_resume_is_exact() {
    signal_checkpoints_mid_epoch_and_resume_is_exact("-INT");
}

/// SIGTERM is what `kill`, Slurm and container runtimes send first: handled like Ctrl-C.
#[test]
fn sigterm_checkpoints_mid_epoch_and_resume_is_exact() {
    signal_checkpoints_mid_epoch_and_resume_is_exact("-TERM");
}

#[test]
fn kill_9_leaves_complete_files_and_resume_continues_from_the_last_checkpoint() {
    let reference = tempfile::tempdir().unwrap();
    uninterrupted(reference.path());

    let dir = tempfile::tempdir().unwrap();
    let mut child = start(dir.path(), Stdio::null);
    let checkpoint = dir.path().join("checkpoint.safetensors");
    let start = Instant::now();
    while !checkpoint.exists() && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Only complete files: no temporary left behind is ever read, and each file parses.
    let metrics = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    assert!(metrics.starts_with("epoch,lr,train_loss"));
    assert!(metrics.ends_with('\n'));
    resume(dir.path());
    same_files(reference.path(), dir.path());
}
