//! The run's TensorBoard event file, read by TensorBoard's own reader (`EventAccumulator`, from
//! `pip install tensorboard`): every step's loss, lr, momentum and update ratios and every
//! epoch's metrics, equal (as f32) to what `trace.csv` and `metrics.csv` hold, each step once,
//! also after an interrupted run is resumed.
//!
//! It needs Python's `tensorboard` package, so it is ignored by a plain `cargo test`; `.ci/run`
//! installs the package and runs it with `cargo test --test tensorboard_reader -- --ignored`.

use std::path::Path;
use std::process::{Command, Output};

fn trainer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("trainer runs")
}

fn ok(output: Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Reads `dir` with TensorBoard's EventAccumulator and checks it against the run's CSV files;
/// prints "ok" and the number of scalars, or fails with what differs.
const CHECK: &str = r#"
import csv, math, os, sys
import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

run = sys.argv[1]
acc = EventAccumulator(run, size_guidance={"scalars": 0})
acc.Reload()
tags = set(acc.Tags()["scalars"])
params = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
want = {"train/loss", "lr/group0", "momentum/group0", "epoch/train_loss",
        "epoch/train_accuracy", "epoch/test_loss", "epoch/test_accuracy"}
want |= {"update_ratio/" + p for p in params}
assert tags == want, sorted(tags ^ want)

def series(tag):
    events = acc.Scalars(tag)
    steps = [e.step for e in events]
    assert len(steps) == len(set(steps)), (tag, "a step is there twice")
    return {e.step: e.value for e in events}

def f32(x):
    return float(np.float32(x))

trace = list(csv.DictReader(open(os.path.join(run, "trace.csv"))))
loss, lr, ratio = series("train/loss"), series("lr/group0"), series("update_ratio/fc1.weight")
assert sorted(loss) == [int(r["step"]) for r in trace], "train/loss steps"
for r in trace:
    s = int(r["step"])
    assert loss[s] == f32(r["loss"]), (s, loss[s], r["loss"])
    assert lr[s] == f32(r["lr"]), (s, lr[s], r["lr"])
    want_ratio = float(r["fc1.weight.update_norm"]) / float(r["fc1.weight.param_norm"])
    assert abs(ratio[s] - want_ratio) <= 1e-6 * want_ratio, (s, ratio[s], want_ratio)
assert set(series("momentum/group0").values()) == {f32(0.9)}

metrics = list(csv.DictReader(open(os.path.join(run, "metrics.csv"))))
acc_test = series("epoch/test_accuracy")
assert sorted(acc_test) == [int(m["epoch"]) for m in metrics], "epochs"
for m in metrics:
    e = int(m["epoch"])
    assert acc_test[e] == f32(m["test_accuracy"]), (e, acc_test[e], m["test_accuracy"])
    assert series("epoch/train_loss")[e] == f32(m["train_loss"])
print("ok", sum(len(acc.Scalars(t)) for t in tags))
"#;

fn check_with_tensorboard(run: &Path) -> String {
    let output = Command::new("python3")
        .args(["-c", CHECK, run.to_str().expect("utf-8 path")])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "TensorBoard's reader disagrees (or is missing: pip install tensorboard):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
#[ignore = "needs Python's tensorboard package (pip install tensorboard); .ci/run runs it"]
fn tensorboard_reads_every_step_and_epoch_of_a_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = dir.path().join("run");
    let run_s = run.to_str().expect("utf-8");
    ok(trainer(&[
        "train", "--epochs", "2", "--trace", "--quiet", "--out", run_s,
    ]));
    // 470 steps x 7 per-step tags + 2 epochs x 4 epoch tags.
    assert_eq!(check_with_tensorboard(&run).trim(), "ok 3298");
}

#[test]
#[ignore = "needs Python's tensorboard package (pip install tensorboard); .ci/run runs it"]
fn a_resumed_run_has_each_step_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = dir.path().join("run");
    let run_s = run.to_str().expect("utf-8");
    ok(trainer(&[
        "train", "--epochs", "1", "--trace", "--quiet", "--out", run_s,
    ]));
    ok(trainer(&[
        "train", "--resume", run_s, "--epochs", "2", "--quiet",
    ]));
    // The same 3298 scalars as the uninterrupted two-epoch run: the resumed process read the
    // first epoch's events back and appended the second's.
    assert_eq!(check_with_tensorboard(&run).trim(), "ok 3298");
}
