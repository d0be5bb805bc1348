//! Counts in printed messages agree with their number: "1 step in 1 epoch", "1 run", never
//! "1 steps" (and still "2 runs").

use std::path::Path;
use std::process::{Command, Output};

fn trainer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_one_step_one_epoch_run_says_so_in_the_singular() {
    let dir = tempfile::tempdir().unwrap();
    let out = trainer(&[
        "train",
        "--epochs",
        "1",
        "--max-steps",
        "1",
        "--threads",
        "1",
        "--quiet",
        "--out",
        path(dir.path()),
    ]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("done: 1 step in 1 epoch ("), "{shown}");
    assert!(
        shown.contains("batch 256, 1 epoch, seed 0; 1 thread, "),
        "{shown}"
    );
}

#[test]
fn a_comparison_of_one_run_says_1_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = trainer(&[
        "compare",
        "configs/tutorial-steplr.toml",
        "--epochs",
        "1",
        "--seeds",
        "0",
        "--quiet",
        "--out",
        path(&dir.path().join("cmp")),
    ]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("\n1 run (0 failed); wrote "), "{shown}");
}

#[test]
fn one_metric_for_two_steps_says_1_value() {
    let out = trainer(&[
        "schedule",
        "--config",
        "examples/schedules/plateau.toml",
        "--steps",
        "2",
        "--metrics",
        "88",
    ]);
    let shown = text(&out);
    assert!(!out.status.success());
    assert!(
        shown.contains("--metrics has 1 value but --steps is 2"),
        "{shown}"
    );
}
