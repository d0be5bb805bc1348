//! What the sweep tests share (cli_compare_resume.rs, cli_compare_slurm.rs, slurm_sweep.rs): a
//! small sweep and the comparison of two sweep folders, every number but the seconds.
#![allow(dead_code)] // each test file uses its part

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

pub fn trainer() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
}

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts success and returns stdout.
pub fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "trainer failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Asserts the exit status and no panic; returns stderr.
pub fn status(output: &Output, code: i32) -> String {
    let stderr = text(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{stderr}",
        text(&output.stdout)
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// Writes the sweep's config into `dir`: a small net (16 hidden units) with batches of 2000
/// (30 steps an epoch) for 3 epochs, so that a run has checkpoints to be interrupted between.
pub fn write_config(dir: &Path) -> PathBuf {
    let config = dir.join("exp.toml");
    std::fs::write(
        &config,
        "epochs = 3\nseed = 7\n[model]\nhidden = 16\n[data]\nbatch_size = 2000\n[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentum = 0.9\n[scheduler]\nname = \"ExponentialLR\"\ngamma = 0.9\n",
    )
    .unwrap();
    config
}

/// The arguments of the sweep (2 learning rates x 2 seeds = 4 runs), before `--out`.
pub fn sweep_args(config: &Path) -> Vec<String> {
    vec![
        "compare".into(),
        config.to_string_lossy().into_owned(),
        "--grid".into(),
        "optimizer.lr=0.1,0.05".into(),
        "--seeds".into(),
        "0,1".into(),
        "--data-dir".into(),
        data_dir().to_string_lossy().into_owned(),
        "--quiet".into(),
    ]
}

/// The four runs' folder names, in plan order.
pub const RUNS: [&str; 4] = [
    "exp-lr=0.1-seed=0",
    "exp-lr=0.1-seed=1",
    "exp-lr=0.05-seed=0",
    "exp-lr=0.05-seed=1",
];

/// A second config for sweeps of two configs: StepLR, otherwise as [`write_config`]'s.
pub fn write_second_config(dir: &Path) -> PathBuf {
    let config = dir.join("step.toml");
    std::fs::write(
        &config,
        "epochs = 3\nseed = 7\n[model]\nhidden = 16\n[data]\nbatch_size = 2000\n[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentum = 0.9\n[scheduler]\nname = \"StepLR\"\nstep_size = 1\ngamma = 0.5\n",
    )
    .unwrap();
    config
}

/// The run folders of a sweep folder (those with a config.toml), sorted.
pub fn run_folders(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("config.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The sweep run without interruption into `dir`.
pub fn reference(dir: &Path) -> PathBuf {
    let config = write_config(dir);
    let out = dir.join("reference");
    ok(&trainer()
        .args(sweep_args(&config))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap());
    out
}

/// A CSV file's rows without the named columns (the seconds, which differ run to run).
pub fn csv_without(path: &Path, skip: &[&str]) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| !skip.contains(&header[i]))
        .collect();
    assert!(keep.len() + skip.len() == header.len(), "{header:?}");
    std::iter::once(text.lines().next().unwrap())
        .chain(lines)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            keep.iter().map(|&i| cells[i].to_string()).collect()
        })
        .collect()
}

/// Asserts that the sweep folders `a` and `b` hold the same results: every run's metrics.csv
/// (every column but the seconds), trace.csv and model.safetensors, and summary.csv (every
/// column but the seconds).
pub fn same_results(a: &Path, b: &Path) {
    let runs = run_folders(a);
    assert!(!runs.is_empty(), "no runs in {}", a.display());
    assert_eq!(runs, run_folders(b), "the run folders");
    for run in &runs {
        let (x, y) = (a.join(run), b.join(run));
        assert_eq!(
            csv_without(&x.join("metrics.csv"), &["train_seconds", "epoch_seconds"]),
            csv_without(&y.join("metrics.csv"), &["train_seconds", "epoch_seconds"]),
            "{run}: metrics.csv"
        );
        for file in ["trace.csv", "model.safetensors"] {
            assert!(
                std::fs::read(x.join(file)).unwrap() == std::fs::read(y.join(file)).unwrap(),
                "{run}: {file} differs"
            );
        }
    }
    assert_eq!(
        csv_without(&a.join("summary.csv"), &["seconds"]),
        csv_without(&b.join("summary.csv"), &["seconds"]),
        "summary.csv"
    );
}

/// Waits (at most five minutes) until `path` exists, then sends `signal` (`-INT`, `-TERM`,
/// `-USR1`) to `child` and returns how it ended.
pub fn signal_once_exists(child: Child, path: &Path, signal: &str) -> Output {
    let start = Instant::now();
    while !path.exists() && start.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(2));
    }
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill {signal} failed");
    child.wait_with_output().unwrap()
}
