//! `trainer compare --resume DIR` (issue 18): a sweep interrupted by Ctrl-C or SIGTERM
//! continues from its plan alone and ends with the results of an uninterrupted sweep (every
//! run's metrics but the seconds, traces, weights, and summary.csv); finished runs are kept
//! as they are and the interrupted one continues from its checkpoint; a `--resume` stopped by
//! SIGTERM resumes again exactly; failed runs stay failed; a run another live process holds is
//! skipped and left alone, a stale lock is taken over, two resumes at once share the runs;
//! `--shard K/N` processes at once cover the sweep and `trainer report` then gives its summary;
//! a missing or damaged plan, a folder that is not a sweep, a run that no longer matches the
//! plan, and flags that contradict the plan are clear errors.

mod sweeps_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sweeps_common::*;

/// Starts the sweep into `dir/int` and sends `signal` once the second run has written its
/// first checkpoint (it has two epochs to go, so the signal stops it mid-run). Returns the
/// folder; asserts the exit status 130 and the command that continues the sweep.
fn interrupted_sweep(dir: &Path, signal: &str) -> PathBuf {
    let config = write_config(dir);
    let out = dir.join("int");
    let child = trainer()
        .args(sweep_args(&config))
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let checkpoint = out.join(RUNS[1]).join("checkpoint.safetensors");
    let output = signal_once_exists(child, &checkpoint, signal);
    let stderr = status(&output, 130);
    assert!(
        stderr.contains(&format!("trainer compare --resume {}", out.display())),
        "{stderr}"
    );
    out
}

/// Interrupt, resume, compare with the uninterrupted sweep: the finished run is kept byte for
/// byte (its seconds too), the interrupted one continues from its checkpoint (its first epoch's
/// row, seconds included, is the one written before the signal), the rest start.
fn resume_after(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference(dir.path());
    let out = interrupted_sweep(dir.path(), signal);
    let first_run = std::fs::read(out.join(RUNS[0]).join("metrics.csv")).unwrap();
    let interrupted = std::fs::read_to_string(out.join(RUNS[1]).join("metrics.csv")).unwrap();
    let first_epoch = interrupted.lines().nth(1).unwrap().to_string();
    assert!(out.join(RUNS[1]).join("interrupted.txt").is_file());
    assert!(!out.join(RUNS[3]).exists());

    let stdout = ok(&trainer()
        .args(["compare", "--quiet", "--resume"])
        .arg(&out)
        .output()
        .unwrap());
    assert!(
        stdout.contains("4 runs (1 kept, 3 trained now, 0 failed)"),
        "{stdout}"
    );
    same_results(&reference, &out);
    assert_eq!(
        std::fs::read(out.join(RUNS[0]).join("metrics.csv")).unwrap(),
        first_run,
        "the finished run was trained again"
    );
    let resumed = std::fs::read_to_string(out.join(RUNS[1]).join("metrics.csv")).unwrap();
    assert_eq!(resumed.lines().nth(1).unwrap(), first_epoch);
    assert!(!out.join(RUNS[1]).join("interrupted.txt").exists());
    // report.html and the charts are rewritten as at the end of `compare`.
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!report.contains("interrupted"), "{report}");

    // Resuming a finished sweep trains nothing and keeps every run.
    let stdout = ok(&trainer()
        .args(["compare", "--quiet", "--resume"])
        .arg(&out)
        .output()
        .unwrap());
    assert!(
        stdout.contains("4 runs (4 kept, 0 trained now, 0 failed)"),
        "{stdout}"
    );
    same_results(&reference, &out);
}

#[test]
fn a_sweep_stopped_by_ctrl_c_resumes_to_the_uninterrupted_results() {
    resume_after("-INT");
}

#[test]
fn a_sweep_stopped_by_sigterm_resumes_to_the_uninterrupted_results() {
    resume_after("-TERM");
}

/// Holds a run folder's lock as another process would (the lock is `flock` on `.lock`).
fn hold_lock(run: &Path) -> std::fs::File {
    std::fs::create_dir_all(run).unwrap();
    let file = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(run.join(".lock"))
        .unwrap();
    file.lock().unwrap();
    std::fs::write(run.join(".lock"), format!("{}\n", std::process::id())).unwrap();
    file
}

#[test]
fn a_run_held_by_a_live_process_is_skipped_untouched_and_a_stale_lock_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let out = interrupted_sweep(dir.path(), "-INT");
    // Run 2 is held by a live process (this test); run 3's lock names a process that has
    // ended (the kernel released its lock).
    let held = hold_lock(&out.join(RUNS[2]));
    let mut dead = Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    std::fs::create_dir_all(out.join(RUNS[3])).unwrap();
    std::fs::write(out.join(RUNS[3]).join(".lock"), format!("{dead_pid}\n")).unwrap();

    let output = trainer()
        .args(["compare", "--quiet", "--resume"])
        .arg(&out)
        .output()
        .unwrap();
    // Not finished (4): run 2 is missing; the others are done.
    let stderr = status(&output, 4);
    let me = std::process::id();
    assert!(
        stderr.contains(&format!("skipped {}: process {me} is running it", RUNS[2])),
        "{stderr}"
    );
    let names: Vec<String> = std::fs::read_dir(out.join(RUNS[2]))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [".lock"], "the held run was written");
    for run in [RUNS[0], RUNS[1], RUNS[3]] {
        assert!(out.join(run).join("model.safetensors").is_file(), "{run}");
    }

    // The whole sweep is refused while a `trainer compare` holds its folder.
    let top = hold_lock(&out);
    let output = trainer()
        .args(["compare", "--quiet", "--resume"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = status(&output, 1);
    assert!(
        stderr.contains(&format!("is being run by `trainer compare` (process {me})")),
        "{stderr}"
    );
    drop(top);
    drop(held);
    let reference = reference(dir.path());
    ok(&trainer()
        .args(["compare", "--quiet", "--resume"])
        .arg(&out)
        .output()
        .unwrap());
    same_results(&reference, &out);
}

#[test]
fn a_missing_or_damaged_plan_and_a_folder_that_is_not_a_sweep_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let resume = |d: &Path| {
        trainer()
            .args(["compare", "--resume"])
            .arg(d)
            .output()
            .unwrap()
    };
    // No such folder.
    let stderr = status(&resume(&dir.path().join("nowhere")), 1);
    assert!(stderr.contains("is not a folder"), "{stderr}");
    // A folder that is not a sweep (a single run's folder, say): nothing is written into it.
    let single = dir.path().join("single");
    std::fs::create_dir(&single).unwrap();
    std::fs::write(single.join("config.toml"), "epochs = 1\n").unwrap();
    let stderr = status(&resume(&single), 1);
    assert!(
        stderr.contains("is not a comparison folder: it has no sweep.toml"),
        "{stderr}"
    );
    let names: Vec<_> = std::fs::read_dir(&single).unwrap().flatten().collect();
    assert_eq!(names.len(), 1);
    // A damaged plan: not TOML, cut short, a run pointing outside the folder.
    let out = interrupted_sweep(dir.path(), "-INT");
    let plan = std::fs::read_to_string(out.join("sweep.toml")).unwrap();
    for (damage, says) in [
        ("\u{0}\u{1}garbage [[[".to_string(), "is damaged"),
        (plan[..plan.len() / 2].to_string(), "is damaged"),
        (
            plan.replace(
                &format!("name = \"{}\"", RUNS[3]),
                "name = \"../elsewhere\"",
            ),
            "a path, or given twice",
        ),
    ] {
        std::fs::write(out.join("sweep.toml"), &damage).unwrap();
        let stderr = status(&resume(&out), 1);
        assert!(
            stderr.contains("cannot resume the sweep") && stderr.contains(says),
            "{stderr}"
        );
        assert!(!out.join(RUNS[3]).exists() && !dir.path().join("elsewhere").exists());
    }
    std::fs::remove_file(out.join("sweep.toml")).unwrap();
    let stderr = status(&resume(&out), 1);
    assert!(stderr.contains("it has no sweep.toml"), "{stderr}");
    // A plan that no longer matches an interrupted run's config is named, key and values.
    std::fs::write(
        out.join("sweep.toml"),
        plan.replace("momentum = 0.9", "momentum = 0.5"),
    )
    .unwrap();
    let stderr = status(&resume(&out), 1);
    assert!(
        stderr.contains("is not the run sweep.toml plans")
            && stderr.contains("optimizer.momentum is 0.9 in config.toml but 0.5 in sweep.toml"),
        "{stderr}"
    );
}

#[test]
fn flags_that_contradict_the_plan_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let config = config.to_str().unwrap();
    let d = dir.path().to_str().unwrap();
    for (args, says) in [
        (vec!["--resume", d, config], "cannot be used with"),
        (
            vec!["--resume", d, "--grid", "epochs=1,2"],
            "cannot be used with",
        ),
        (vec!["--resume", d, "--seeds", "1"], "cannot be used with"),
        (vec!["--resume", d, "--epochs", "1"], "cannot be used with"),
        (vec!["--resume", d, "--out", d], "cannot be used with"),
        (
            vec!["--resume", d, "--shard", "2/2"],
            "K = 2 is not below N = 2",
        ),
        (vec!["--resume", d, "--shard", "0/0"], "N is 0"),
        (
            vec!["--resume", d, "--shard", "one/2"],
            "not a whole number",
        ),
    ] {
        let output = trainer().arg("compare").args(&args).output().unwrap();
        let stderr = status(&output, 2);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // --shard without --resume: refused before any work (no default runs/ folder appears).
    let output = trainer()
        .current_dir(dir.path())
        .args(["compare", config, "--shard", "0/2"])
        .output()
        .unwrap();
    let stderr = status(&output, 1);
    assert!(stderr.contains("goes with --resume DIR"), "{stderr}");
    assert!(!dir.path().join("runs").exists());
}

/// Starts the sweep into `dir/plan` and stops it with Ctrl-C as soon as its first run has
/// begun: the plan is written, one run has taken a step, the others never started.
fn barely_started_sweep(dir: &Path) -> PathBuf {
    let config = write_config(dir);
    let out = dir.join("plan");
    let child = trainer()
        .args(sweep_args(&config))
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The signal handler is in place once the first run's folder has its config.
    let started = out.join(RUNS[0]).join("config.toml");
    status(&signal_once_exists(child, &started, "-INT"), 130);
    out
}

#[test]
fn shards_run_at_once_cover_the_sweep_and_report_gives_the_unsharded_summary() {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference(dir.path());
    let out = barely_started_sweep(dir.path());
    let summary_before = std::fs::read(out.join("summary.csv")).unwrap();
    let shards: Vec<_> = (0..3)
        .map(|k| {
            trainer()
                .args(["compare", "--quiet", "--threads", "1", "--resume"])
                .arg(&out)
                .args(["--shard", &format!("{k}/3")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (k, shard) in shards.into_iter().enumerate() {
        let stdout = ok(&shard.wait_with_output().unwrap());
        // Shard 0 has runs 0 and 3, the others one run each.
        let runs = if k == 0 { "2 runs" } else { "1 run" };
        assert!(
            stdout.contains(&format!("shard {k}/3: ")) && stdout.contains(runs),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("trainer report {}", out.display())),
            "{stdout}"
        );
    }
    // The shards wrote no summary: the interrupted comparison's is still there.
    assert_eq!(
        std::fs::read(out.join("summary.csv")).unwrap(),
        summary_before
    );
    ok(&trainer().arg("report").arg(&out).output().unwrap());
    same_results(&reference, &out);
}

/// A failed run (here diverged) is kept as failed, not trained again: its folder is left as it
/// was, the others are done, and the exit status says a run failed (3), for the sweep and for
/// the shard that holds it.
#[test]
fn failed_runs_are_kept_and_the_status_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let out = dir.path().join("cmp");
    let output = trainer()
        .arg("compare")
        .arg(&config)
        .args(["--grid", "optimizer.lr=0.1,1000", "--seeds", "0", "--quiet"])
        .arg("--data-dir")
        .arg(data_dir())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    status(&output, 3);
    let failed = out.join("exp-lr=1000-seed=0");
    let note = std::fs::read(failed.join("failed.txt")).unwrap();
    let metrics = std::fs::read(failed.join("metrics.csv")).unwrap();
    // The finished run is lost (say, its folder deleted): resume trains it, keeps the failure.
    std::fs::remove_dir_all(out.join("exp-lr=0.1-seed=0")).unwrap();
    let output = trainer()
        .args(["compare", "--quiet", "--resume"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = status(&output, 3);
    assert!(
        text(&output.stdout).contains("2 runs (1 kept, 1 trained now, 1 failed)"),
        "{}",
        text(&output.stdout)
    );
    assert!(
        stderr.contains("1 of 2 runs failed: exp-lr=1000-seed=0"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(failed.join("failed.txt")).unwrap(), note);
    assert_eq!(std::fs::read(failed.join("metrics.csv")).unwrap(), metrics);
    assert!(out.join("exp-lr=0.1-seed=0/model.safetensors").is_file());
    // The shard holding it (run 1 of 2) says so too; the other shard is done.
    let shard = |k: usize| {
        trainer()
            .args(["compare", "--quiet", "--resume"])
            .arg(&out)
            .args(["--shard", &format!("{k}/2")])
            .output()
            .unwrap()
    };
    ok(&shard(0));
    let output = shard(1);
    let stderr = status(&output, 3);
    assert!(
        text(&output.stdout)
            .contains("shard 1/2: 0 of 1 run finished (1 kept, 0 trained now), 1 failed"),
        "{}",
        text(&output.stdout)
    );
    assert!(stderr.contains("exp-lr=1000-seed=0"), "{stderr}");
}

/// Two `--resume` of the whole sweep at once (a user starting it twice, say): each run is
/// trained by one of them (the other skips it while it is held, or keeps it once finished),
/// nothing is corrupted, and the report then equals the uninterrupted sweep.
#[test]
fn two_resumes_at_once_share_the_runs_without_corrupting_any() {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference(dir.path());
    let out = barely_started_sweep(dir.path());
    let resumes: Vec<_> = (0..2)
        .map(|_| {
            trainer()
                .args(["compare", "--quiet", "--threads", "1", "--resume"])
                .arg(&out)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut trained = 0;
    for child in resumes {
        let output = child.wait_with_output().unwrap();
        // 0, or 4 when it skipped a run the other was still training when it finished.
        let code = output.status.code();
        assert!(
            code == Some(0) || code == Some(4),
            "{}",
            text(&output.stderr)
        );
        let stdout = text(&output.stdout);
        let now = stdout
            .split(" trained now")
            .next()
            .and_then(|s| s.rsplit(", ").next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("{stdout}"));
        trained += now;
    }
    // Every run was trained once: the interrupted one and the three never started.
    assert_eq!(trained, 4);
    ok(&trainer().arg("report").arg(&out).output().unwrap());
    same_results(&reference, &out);
}

/// `--resume` itself stopped by SIGTERM (what Slurm sends): the run under way checkpoints, the
/// exit status is 130 with the command that continues, and that command ends at the
/// uninterrupted sweep's results.
#[test]
fn a_resume_stopped_by_sigterm_checkpoints_and_resumes_again_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference(dir.path());
    let out = barely_started_sweep(dir.path());
    let child = trainer()
        .args(["compare", "--quiet", "--resume"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let checkpoint = out.join(RUNS[2]).join("checkpoint.safetensors");
    let output = signal_once_exists(child, &checkpoint, "-TERM");
    let stderr = status(&output, 130);
    assert!(
        stderr.contains(&format!(
            "run {} stopped after step",
            out.join(RUNS[2]).display()
        )) && stderr.contains(&format!("trainer compare --resume {}", out.display())),
        "{stderr}"
    );
    assert!(out.join(RUNS[2]).join("interrupted.txt").is_file());
    assert!(!out.join(RUNS[3]).exists());
    let stdout = ok(&trainer()
        .args(["compare", "--quiet", "--resume"])
        .arg(&out)
        .output()
        .unwrap());
    assert!(
        stdout.contains("4 runs (2 kept, 2 trained now, 0 failed)"),
        "{stdout}"
    );
    same_results(&reference, &out);
}
