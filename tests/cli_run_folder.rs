//! A run folder is one run: a new run never writes into a folder that holds anything,
//! `--overwrite` replaces a run only once the new one has a checkpoint, and one process writes a
//! folder at a time (an OS lock naming its PID).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
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

/// Every file under `dir` with the SHA-256 of its bytes, except `.lock` (which holds the PID
/// of the last process that locked the folder).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    use sha2::{Digest, Sha256};
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(snapshot(&path));
        } else if entry.file_name() != ".lock" {
            let digest = Sha256::digest(std::fs::read(&path).unwrap());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            files.insert(path.clone(), hex);
        }
    }
    files
}

/// A short finished run in `dir`.
fn short_run(dir: &Path, extra: &[&str]) {
    ok(&trainer()
        .args(["train", "--epochs", "2", "--max-steps", "3", "--quiet"])
        .args(extra)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap());
}

/// A run slow enough to be caught in the middle (batches of 16: 3750 steps an epoch).
fn start_slow(args: &[&str], dir: &Path) -> Child {
    trainer()
        .args(["train", "--epochs", "1", "--batch-size", "16", "--quiet"])
        .args(args)
        .arg("--out")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_new_run_into_a_finished_run_is_refused_and_leaves_it_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    short_run(&run, &[]);
    let before = snapshot(&run);
    let stderr = failed(
        &trainer()
            .args(["train", "--max-steps", "1", "--out"])
            .arg(&run)
            .output()
            .unwrap(),
    );
    assert!(
        stderr.contains("--resume") && stderr.contains("--overwrite"),
        "{stderr}"
    );
    assert_eq!(snapshot(&run), before, "the finished run is untouched");

    // Any file makes a folder used, and so does a comparison's folder.
    let other = dir.path().join("notes");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("todo.txt"), b"mine").unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "epochs = 1\nmax_steps = 2\n").unwrap();
    let stderr = failed(
        &trainer()
            .arg("compare")
            .arg(&config)
            .arg("--out")
            .arg(&other)
            .output()
            .unwrap(),
    );
    assert!(stderr.contains("--overwrite"), "{stderr}");
    assert_eq!(std::fs::read(other.join("todo.txt")).unwrap(), b"mine");
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1);
}

#[test]
fn overwrite_replaces_a_run_only_at_the_new_runs_first_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    short_run(&run, &["--seed", "1"]);
    let before = snapshot(&run);

    // Killed before its first checkpoint: the old run is intact.
    let mut child = start_slow(&["--overwrite", "--seed", "2"], &run);
    let hidden = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(".run.")
            })
    };
    wait_for("the new run's config.toml", || {
        hidden(dir.path()).is_some_and(|h| h.join("config.toml").is_file())
    });
    assert!(!hidden(dir.path())
        .unwrap()
        .join("checkpoint.safetensors")
        .exists());
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(snapshot(&run), before, "the old run is intact");

    // Run to its first checkpoint, it replaces the old one and leaves nothing hidden behind.
    short_run(&run, &["--overwrite", "--seed", "3"]);
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("seed = 3"), "{config}");
    assert_ne!(
        snapshot(&run)[&run.join("model.safetensors")],
        before[&run.join("model.safetensors")]
    );
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(names.len(), 1, "{names:?}");

    // A new run that fails before its first checkpoint (it diverges) does not replace either.
    let before = snapshot(&run);
    let stderr = failed(
        &trainer()
            .args([
                "train",
                "--lr",
                "1e6",
                "--epochs",
                "1",
                "--overwrite",
                "--quiet",
                "--out",
            ])
            .arg(&run)
            .output()
            .unwrap(),
    );
    assert!(
        stderr.contains("diverged") && stderr.contains("still holds the previous run"),
        "{stderr}"
    );
    assert_eq!(snapshot(&run), before);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_second_writer_is_refused_with_the_first_ones_pid() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let mut first = start_slow(&[], &run);
    wait_for("the first run's config.toml", || {
        run.join("config.toml").is_file()
    });
    let pid = first.id().to_string();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "epochs = 1\nmax_steps = 2\n").unwrap();
    let seconds: [Vec<std::ffi::OsString>; 3] = [
        vec!["train".into(), "--resume".into(), run.clone().into()],
        vec![
            "train".into(),
            "--overwrite".into(),
            "--out".into(),
            run.clone().into(),
        ],
        vec![
            "compare".into(),
            config.into(),
            "--overwrite".into(),
            "--out".into(),
            run.clone().into(),
        ],
    ];
    for args in seconds {
        let stderr = failed(&trainer().args(&args).output().unwrap());
        assert!(
            stderr.contains(&format!("process {pid}")),
            "{args:?}: {stderr}"
        );
    }
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run goes on undisturbed"
    );
    // A killed writer releases its lock: the run can be resumed.
    first.kill().unwrap();
    first.wait().unwrap();
    let output = trainer()
        .args(["train", "--quiet", "--max-steps", "1", "--resume"])
        .arg(&run)
        .output()
        .unwrap();
    // --max-steps changes nothing that was computed: it may be given on resume.
    ok(&output);
}

/// `compare --overwrite` replaces an old comparison once its first run has a checkpoint: the old
/// files are gone, the new runs and summary are in place, nothing hidden is left beside it.
#[test]
fn compare_overwrite_replaces_the_old_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("old-summary.csv"), b"old").unwrap();
    let config = dir.path().join("tiny.toml");
    std::fs::write(
        &config,
        "epochs = 1\nmax_steps = 2\n[model]\nhidden = 8\n[data]\nbatch_size = 64\n",
    )
    .unwrap();
    let stdout = ok(&trainer()
        .arg("compare")
        .arg(&config)
        .args(["--seeds", "0,1", "--overwrite", "--out"])
        .arg(&out)
        .output()
        .unwrap());
    assert!(!out.join("old-summary.csv").exists(), "{stdout}");
    assert!(out.join("summary.csv").is_file());
    for seed in [0, 1] {
        let run = out.join(format!("tiny-seed={seed}"));
        assert!(
            run.join("checkpoint.safetensors").is_file(),
            "{}",
            run.display()
        );
    }
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(names.len(), 2, "cmp and tiny.toml only: {names:?}");
}
