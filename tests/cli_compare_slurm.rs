//! `trainer compare ... --slurm` (issue 18) without a cluster: the plan and the two scripts are
//! written and nothing trained; the scripts, run by hand as Slurm would run them (one task per
//! `SLURM_ARRAY_TASK_ID`, in a folder whose name has a space), give the local sweep's results;
//! USR1 before the time limit checkpoints the task and requeues it (a fake `scontrol` records
//! the call); `--submit` calls `sbatch --parsable` for the array, then for the report with
//! `--dependency=afterany:<array id>` (a fake `sbatch`); a missing `sbatch` and bad Slurm flags
//! are clear errors that leave nothing behind. tests/slurm_sweep.rs runs it on a real Slurm.

mod sweeps_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sweeps_common::*;

/// A folder of fake Slurm commands, each a shell script that appends its arguments to
/// `calls.log` in the folder and then runs `body`.
fn fake_commands(dir: &Path, commands: &[(&str, &str)]) -> PathBuf {
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for (name, body) in commands {
        let path = bin.join(name);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"{name} $*\" >> '{}'\n{body}\n",
                bin.join("calls.log").display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

fn with_path(bin: &Path) -> String {
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap())
}

/// `trainer compare` of the small sweep with `extra` flags, in `dir` (its working folder).
fn plan(dir: &Path, out: &Path, extra: &[&str]) -> Command {
    let config = write_config(dir);
    let mut command = trainer();
    command
        .current_dir(dir)
        .args(sweep_args(&config))
        .arg("--out")
        .arg(out)
        .args(extra);
    command
}

/// Runs task `task` of the array as Slurm would: `bash sweep.sbatch` with the array's
/// variables.
fn task(out: &Path, task: usize, bin: &Path) -> Command {
    let mut command = Command::new("bash");
    command
        .arg(out.join("sweep.sbatch"))
        .env("SLURM_ARRAY_TASK_ID", task.to_string())
        .env("SLURM_ARRAY_JOB_ID", "77")
        .env("PATH", with_path(bin))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn done(output: Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {:?}\n{}\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[test]
fn the_scripts_run_as_slurm_would_give_the_local_sweep_and_a_time_limit_requeues() {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference(dir.path());
    let out = dir.path().join("my sweeps").join("sw");
    let stdout = ok(&plan(dir.path(), &out, &["--slurm", "--shards", "3"])
        .output()
        .unwrap());
    // The plan and the scripts, no run.
    for file in ["sweep.toml", "sweep.sbatch", "report.sbatch", "slurm"] {
        assert!(out.join(file).exists(), "{file}");
    }
    assert!(RUNS.iter().all(|r| !out.join(r).exists()));
    let abs = std::fs::canonicalize(&out).unwrap();
    let sweep = abs.join("sweep.sbatch").display().to_string();
    let report = abs.join("report.sbatch").display().to_string();
    assert!(
        stdout.contains(&format!(
            "array=$(sbatch --parsable '{sweep}') && sbatch --dependency=afterany:\"${{array%%;*}}\" '{report}'"
        )),
        "{stdout}"
    );
    let script = std::fs::read_to_string(out.join("sweep.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-2\n".to_string(),
        format!(
            "#SBATCH --output=\"{}/slurm/sweep-%A_%a.out\"\n",
            abs.display()
        ),
        "#SBATCH --signal=B:USR1@60\n".into(),
        format!("trainer='{}'\n", env!("CARGO_BIN_EXE_trainer")),
        "--shard \"$SLURM_ARRAY_TASK_ID/3\" --threads \"${SLURM_CPUS_PER_TASK:-1}\"".into(),
    ] {
        assert!(script.contains(&line), "{line}\n{script}");
    }

    let bin = fake_commands(dir.path(), &[("scontrol", "exit 0")]);
    // Task 0 (runs 0 and 3) gets USR1 once its first run has a checkpoint: the trainer
    // checkpoints, the script requeues the task and ends with the trainer's 130.
    let child = task(&out, 0, &bin).spawn().unwrap();
    let checkpoint = out.join(RUNS[0]).join("checkpoint.safetensors");
    let output = signal_once_exists(child, &checkpoint, "-USR1");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    assert_eq!(
        std::fs::read_to_string(bin.join("calls.log")).unwrap(),
        "scontrol requeue 77_0\n"
    );
    assert!(out.join(RUNS[0]).join("interrupted.txt").is_file());
    // The requeued task and the others run to their end; then the report.
    for k in [0, 1, 2] {
        done(task(&out, k, &bin).output().unwrap(), &format!("task {k}"));
    }
    let mut report = Command::new("bash");
    report.arg(out.join("report.sbatch"));
    done(report.output().unwrap(), "report.sbatch");
    same_results(&reference, &out);
    // Only the time limit requeues.
    assert_eq!(
        std::fs::read_to_string(bin.join("calls.log"))
            .unwrap()
            .lines()
            .count(),
        1
    );
}

#[test]
fn submit_sends_the_array_then_the_report_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let bin = fake_commands(
        dir.path(),
        &[(
            "sbatch",
            "case \"$*\" in *sweep.sbatch) echo '41;local' ;; *) echo 42 ;; esac",
        )],
    );
    let out = dir.path().join("sw");
    let stdout = ok(&plan(dir.path(), &out, &["--slurm", "--submit"])
        .env("PATH", with_path(&bin))
        .output()
        .unwrap());
    assert!(
        stdout.contains("the sweep as job array 41 (4 tasks), the report as job 42 after it"),
        "{stdout}"
    );
    let abs = std::fs::canonicalize(&out).unwrap();
    assert_eq!(
        std::fs::read_to_string(bin.join("calls.log")).unwrap(),
        format!(
            "sbatch --parsable {0}/sweep.sbatch\nsbatch --parsable --dependency=afterany:41 {0}/report.sbatch\n",
            abs.display()
        )
    );
    // sbatch refusing the job is an error with its message.
    let refusing = fake_commands(
        dir.path(),
        &[(
            "sbatch",
            "echo 'sbatch: error: invalid partition specified: gpu' >&2; exit 1",
        )],
    );
    let out = dir.path().join("sw2");
    let output = plan(dir.path(), &out, &["--slurm", "--submit"])
        .env("PATH", with_path(&refusing))
        .output()
        .unwrap();
    let stderr = status(&output, 1);
    assert!(stderr.contains("invalid partition specified"), "{stderr}");
}

#[test]
fn no_sbatch_and_bad_slurm_flags_are_clear_errors_that_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sw");
    let empty = dir.path().join("empty-bin");
    std::fs::create_dir(&empty).unwrap();
    let output = plan(dir.path(), &out, &["--slurm", "--submit"])
        .env("PATH", &empty)
        .output()
        .unwrap();
    let stderr = status(&output, 1);
    assert!(
        stderr.contains("--submit needs Slurm's `sbatch`, which is not on PATH"),
        "{stderr}"
    );
    assert!(!out.exists());
    for (flags, says) in [
        (vec!["--slurm", "--shards", "5"], "at most 4"),
        (vec!["--slurm", "--shards", "0"], "--shards 0"),
        (
            vec!["--slurm", "--slurm-option", "partition=short"],
            "is not one sbatch option",
        ),
        (
            vec!["--slurm", "--slurm-option", "--partition=a\n#SBATCH --b"],
            "is not one sbatch option",
        ),
        (
            vec!["--slurm", "--slurm-option=--array=0-9"],
            "set its size with --shards N",
        ),
        (
            vec!["--slurm", "--time", "1 hour"],
            "is not a Slurm time limit",
        ),
        (vec!["--slurm", "--threads", "4"], "--cpus-per-task=N"),
        (vec!["--submit"], "--submit goes with --slurm"),
        (vec!["--shards", "2"], "--shards goes with --slurm"),
    ] {
        let output = plan(dir.path(), &out, &flags).output().unwrap();
        let stderr = status(&output, 1);
        assert!(stderr.contains(says), "{flags:?}: {stderr}");
        assert!(!out.exists(), "{flags:?} wrote {}", out.display());
    }
    // --slurm needs the folder the nodes share.
    let config = write_config(dir.path());
    let output = trainer()
        .current_dir(dir.path())
        .args(sweep_args(&config))
        .arg("--slurm")
        .output()
        .unwrap();
    let stderr = status(&output, 1);
    assert!(stderr.contains("--slurm needs --out DIR"), "{stderr}");
    assert!(!dir.path().join("runs").exists());
}
