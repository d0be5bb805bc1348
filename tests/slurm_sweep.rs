//! A sweep on a real Slurm cluster (issue 18): `trainer compare ... --slurm --submit` of 2
//! configs x 2 seeds, into a folder whose name has a space, runs as a job array and then the
//! report job; summary.csv and every run's metrics.csv (every column but the seconds), traces
//! and weights equal those of the same sweep run locally. A task warned of its time limit
//! checkpoints, requeues itself and continues to the same results.
//!
//! Ignored by a plain `cargo test`: it needs a running cluster. `.ci/run` starts a one-node
//! cluster on the machine (`scripts/slurm-local.sh start`), runs
//! `cargo test --test slurm_sweep -- --ignored` and stops it. `SLURM_CONF` defaults to that
//! cluster's config when it exists.

mod sweeps_common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sweeps_common::*;

/// The config of scripts/slurm-local.sh's cluster.
const LOCAL_CONF: &str = "/tmp/slurm-local/etc/slurm.conf";

/// How long the jobs may take (they take seconds on an idle node).
const TIMEOUT: Duration = Duration::from_secs(600);

/// A command that talks to the cluster: `SLURM_CONF` is the local cluster's unless set.
fn slurm(program: &str) -> Command {
    let mut command = Command::new(program);
    if std::env::var_os("SLURM_CONF").is_none() && Path::new(LOCAL_CONF).is_file() {
        command.env("SLURM_CONF", LOCAL_CONF);
    }
    command
}

/// Fails with what to do unless `sinfo` shows a node that can take jobs.
fn require_cluster() {
    let start = "start one with `scripts/slurm-local.sh start` (as root; it installs slurm-wlm and munge) and set SLURM_CONF=/tmp/slurm-local/etc/slurm.conf";
    let output = slurm("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .unwrap_or_else(|e| {
            panic!("this test needs a Slurm cluster, and `sinfo` cannot run ({e}): {start}")
        });
    let states = text(&output.stdout);
    assert!(
        output.status.success() && states.lines().any(|s| s == "idle" || s == "mixed"),
        "this test needs a Slurm cluster with a node free, and `sinfo` says {:?} {}: {start}",
        states.trim(),
        text(&output.stderr).trim()
    );
}

/// Waits until none of `jobs` is in the queue any more.
fn wait_for(jobs: &str) -> Result<(), String> {
    let start = Instant::now();
    loop {
        let output = slurm("squeue")
            .args(["-h", "-j", jobs, "-o", "%i %T"])
            .output()
            .map_err(|e| format!("squeue: {e}"))?;
        let queued = text(&output.stdout);
        if output.status.success() && queued.trim().is_empty() {
            return Ok(());
        }
        if start.elapsed() > TIMEOUT {
            return Err(format!(
                "the jobs {jobs} did not finish within {TIMEOUT:?}; still queued: {queued}"
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// "array N (4 tasks), the report as job M": (N, M).
fn job_ids(stdout: &str) -> (String, String) {
    let number_after = |marker: &str| -> String {
        let at = stdout
            .find(marker)
            .unwrap_or_else(|| panic!("no {marker:?} in {stdout}"));
        stdout[at + marker.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect()
    };
    (
        number_after("job array "),
        number_after("the report as job "),
    )
}

fn sweep(dir: &Path, out: &Path, extra: &[&str]) -> Output {
    let first = write_config(dir);
    let second = write_second_config(dir);
    slurm(env!("CARGO_BIN_EXE_trainer"))
        .current_dir(dir)
        .arg("compare")
        .args([&first, &second])
        .args(["--seeds", "0,1", "--quiet", "--data-dir"])
        .arg(data_dir())
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
#[ignore = "needs a running Slurm cluster: scripts/slurm-local.sh start (.ci/run does)"]
fn a_sweep_submitted_to_slurm_gives_the_local_results() {
    require_cluster();
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("local");
    ok(&sweep(dir.path(), &local, &[]));

    let out = dir.path().join("slurm sweep").join("sw");
    let started = Instant::now();
    let stdout = ok(&sweep(dir.path(), &out, &["--slurm", "--submit"]));
    let (array, report) = job_ids(&stdout);
    assert!(!array.is_empty() && !report.is_empty(), "{stdout}");
    if let Err(e) = wait_for(&format!("{array},{report}")) {
        let _ = slurm("scancel").args([&array, &report]).status();
        panic!("{e}");
    }
    eprintln!(
        "the Slurm sweep took {:.1} s from submission to the report",
        started.elapsed().as_secs_f64()
    );
    // Each task's output says what it did; the report job's, that every run finished.
    for task in 0..4 {
        let file = out.join("slurm").join(format!("sweep-{array}_{task}.out"));
        let log =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            log.contains(&format!("shard {task}/4: 1 of 1 run finished")),
            "{log}"
        );
    }
    let file = out.join("slurm").join(format!("report-{report}.out"));
    let log = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(
        log.contains("4 of 4 runs finished, 0 failed, 0 missing"),
        "{log}"
    );
    assert_eq!(run_folders(&out).len(), 4);
    same_results(&local, &out);
}

/// Waits until `path` exists and contains `what`.
fn wait_for_text(path: &Path, what: &str) -> Result<String, String> {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(what) {
            return Ok(text);
        }
        if start.elapsed() > TIMEOUT {
            return Err(format!(
                "{} does not say {what:?} within {TIMEOUT:?}: {text}",
                path.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What Slurm does before a task's time limit (`--signal=B:USR1@60`), sent at once with
/// `scancel --batch --signal=USR1`: the trainer checkpoints, the script requeues the task, and
/// the task, started again, continues the run from its checkpoint to the local run's results.
#[test]
#[ignore = "needs a running Slurm cluster: scripts/slurm-local.sh start (.ci/run does)"]
fn a_task_warned_of_its_time_limit_checkpoints_requeues_itself_and_continues_exactly() {
    require_cluster();
    let dir = tempfile::tempdir().unwrap();
    // One run long enough to be caught mid-way: the full-size net, batches of 256, 5 epochs.
    let config = dir.path().join("long.toml");
    std::fs::write(
        &config,
        "epochs = 5\nseed = 3\n[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentum = 0.9\n[scheduler]\nname = \"StepLR\"\nstep_size = 1\ngamma = 0.7\n",
    )
    .unwrap();
    let sweep = |out: &Path, extra: &[&str]| {
        slurm(env!("CARGO_BIN_EXE_trainer"))
            .current_dir(dir.path())
            .arg("compare")
            .arg(&config)
            .args(["--quiet", "--data-dir"])
            .arg(data_dir())
            .arg("--out")
            .arg(out)
            .args(extra)
            .output()
            .unwrap()
    };
    let local = dir.path().join("local");
    ok(&sweep(&local, &[]));

    let out = dir.path().join("requeued");
    let (array, report) = job_ids(&ok(&sweep(&out, &["--slurm", "--submit"])));
    let task = format!("{array}_0");
    let log = out.join("slurm").join(format!("sweep-{task}.out"));
    let run = out.join("long-seed=3");
    let cancel = || {
        let _ = slurm("scancel").args([&array, &report]).status();
    };
    let checkpoint = run.join("checkpoint.safetensors");
    let start = Instant::now();
    while !checkpoint.exists() && start.elapsed() < TIMEOUT {
        std::thread::sleep(Duration::from_millis(5));
    }
    let first_epoch = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let sent = slurm("scancel")
        .args(["--batch", "--signal=USR1", &task])
        .status()
        .unwrap();
    assert!(sent.success());
    if let Err(e) = wait_for_text(&log, &format!("requeueing {task}")) {
        cancel();
        panic!("{e}");
    }
    // Slurm holds a requeued job for a while (pending, reason BeginTime); let it start now.
    let mut released = false;
    for _ in 0..100 {
        let reason = slurm("squeue")
            .args(["-h", "-j", &task, "-o", "%r"])
            .output()
            .unwrap();
        if text(&reason.stdout).trim() != "BeginTime" {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        let status = slurm("scontrol")
            .args(["update", &format!("JobId={task}"), "StartTime=now"])
            .output()
            .unwrap();
        if status.status.success() {
            released = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        released,
        "scontrol update JobId={task} StartTime=now failed"
    );
    if let Err(e) = wait_for(&format!("{array},{report}")) {
        cancel();
        panic!("{e}");
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("stopped after step") && text.contains("with a checkpoint"),
        "{text}"
    );
    assert!(
        text.contains("shard 0/1: 1 of 1 run finished (0 kept, 1 trained now)"),
        "{text}"
    );
    // Continued, not started again: the epochs written before the signal are kept as they were
    // (their seconds too).
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert!(
        metrics.starts_with(first_epoch.as_str()),
        "{first_epoch}\n{metrics}"
    );
    same_results(&local, &out);
}
