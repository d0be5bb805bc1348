//! `trainer compare` as a command (issue 18): the exit status says whether any run failed and
//! names the failed runs; `--data-dir`, `--threads` and `--quiet` work as in `trainer train`
//! without becoming part of the settings' names; on a terminal the progress display shows the
//! run, its epoch and step, and a clock.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn compare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .arg("compare")
        .args(args)
        .output()
        .expect("the trainer binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A short ExponentialLR config (30 optimizer steps, one epoch).
fn short_config(dir: &Path) -> String {
    let path = dir.join("exp.toml");
    std::fs::write(
        &path,
        "epochs = 1\nseed = 7\nmax_steps = 30\n[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentum = 0.9\n[scheduler]\nname = \"ExponentialLR\"\ngamma = 0.9\n",
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

/// `metrics.csv` without its two seconds columns.
fn metrics_without_seconds(run: &Path) -> String {
    read(&run.join("metrics.csv"))
        .lines()
        .map(|l| l.split(',').take(6).collect::<Vec<_>>().join(","))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The repository's data folder, as every test finds it.
fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist")
}

#[test]
fn a_failed_run_makes_the_exit_status_3_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = short_config(dir.path());
    let out = dir.path().join("cmp");
    let output = compare(&[
        &config,
        "--grid",
        "optimizer.lr=0.1,1000,0.05",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with("error: 1 of 3 runs failed: exp-lr=1000-seed=7 ("),
        "{stderr}"
    );
    // The others finished and everything was written.
    let stdout = text(&output.stdout);
    assert!(stdout.contains("3 runs (1 failed)"), "{stdout}");
    assert!(out.join("exp-lr=0.1-seed=7/model.safetensors").is_file());
    assert!(out.join("exp-lr=0.05-seed=7/model.safetensors").is_file());
    assert!(out.join("summary.csv").is_file());
    assert!(out.join("report.html").is_file());

    // Every run fine: exit status 0.
    let out = dir.path().join("fine");
    let output = compare(&[&config, "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn data_dir_is_used_by_every_run_and_stays_out_of_the_names() {
    let dir = tempfile::tempdir().unwrap();
    let config = short_config(dir.path());
    // A data folder in an unusual place.
    let data = dir.path().join("elsewhere");
    std::fs::create_dir(&data).unwrap();
    for entry in std::fs::read_dir(data_dir()).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), data.join(entry.file_name())).unwrap();
    }
    let out = dir.path().join("cmp");
    let output = compare(&[
        &config,
        "--seeds",
        "0,1",
        "--data-dir",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for seed in [0, 1] {
        let run_config = read(&out.join(format!("exp-seed={seed}/config.toml")));
        assert!(
            run_config.contains(&format!("dir = \"{}\"", data.display())),
            "{run_config}"
        );
    }
    let summary = read(&out.join("summary.csv"));
    assert!(summary.starts_with("name,config,seeds,"), "{summary}");

    // A folder without the data is an error naming it, before anything is written.
    let missing = dir.path().join("missing");
    let out = dir.path().join("cmp2");
    let output = compare(&[
        &config,
        "--data-dir",
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains(missing.to_str().unwrap()));
    assert!(!out.exists());
    // Two ways of setting the data folder at once are refused.
    let output = compare(&[
        &config,
        "--data-dir",
        data.to_str().unwrap(),
        "--grid",
        &format!("data.dir={}", data.display()),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("--data-dir"));
    assert!(!out.exists());
}

#[test]
fn threads_change_nothing_but_the_speed() {
    let dir = tempfile::tempdir().unwrap();
    let config = short_config(dir.path());
    let mut metrics = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("threads-{threads}"));
        let output = compare(&[
            &config,
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        metrics.push(metrics_without_seconds(&out.join("exp-seed=7")));
        assert!(
            out.join("exp-seed=7").is_dir(),
            "the name has no thread count"
        );
    }
    assert_eq!(metrics[0], metrics[1]);
    let out = dir.path().join("zero");
    let output = compare(&[&config, "--threads", "0", "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("--threads 0"));
    assert!(!out.exists());
}

/// `compare` in a pseudo-terminal (util-linux `script`), as a user sees it.
fn on_a_terminal(args: &str) -> String {
    let command = format!("{} compare {args}", env!("CARGO_BIN_EXE_trainer"));
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("util-linux `script` runs");
    assert!(output.status.success(), "{}", text(&output.stdout));
    text(&output.stdout)
}

#[test]
fn on_a_terminal_progress_shows_the_run_its_epoch_and_step_and_a_clock_unless_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("two.toml");
    std::fs::write(
        &config,
        "epochs = 2\nmax_steps = 300\n[scheduler]\nname = \"ExponentialLR\"\ngamma = 0.9\n",
    )
    .unwrap();
    let out = dir.path().join("cmp");
    let shown = on_a_terminal(&format!(
        "{} --seeds 0,1 --out {}",
        config.display(),
        out.display()
    ));
    for wanted in [
        "run 1/2 two-seed=0  00:00:0",
        "run 2/2 two-seed=1  00:00:0",
        "epoch 1/2 [",
        "epoch 2/2 [",
        "/235 steps",
    ] {
        assert!(shown.contains(wanted), "{wanted:?} not shown:\n{shown}");
    }
    assert!(shown.contains("2 runs (0 failed)"));

    let out = dir.path().join("quiet");
    let shown = on_a_terminal(&format!(
        "{} --seeds 0,1 --quiet --out {}",
        config.display(),
        out.display()
    ));
    assert!(!shown.contains("run 1/2"), "{shown}");
    assert!(!shown.contains("steps"), "{shown}");
    assert!(shown.contains("2 runs (0 failed)"), "{shown}");
}
