//! Schedule horizons against the run's length (issue 18): `"auto"` resolved into the run's
//! `config.toml` as the run's number of scheduler steps, the shipped configs following any
//! `--epochs`, a hand-sized horizon that does not fit named on the terminal and in the report,
//! and OneCycleLR shorter than the run refused before anything is trained or written.

use std::path::Path;
use std::process::{Command, Output};

fn trainer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .output()
        .expect("the trainer binary runs")
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

fn shipped(name: &str) -> String {
    format!("{}/configs/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A column of a CSV file (no quoted cells in the columns read here) as numbers.
fn column(text: &str, name: &str) -> Vec<f64> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|l| l.split(',').nth(i).unwrap().parse().unwrap())
        .collect()
}

/// The `lr` column of `trainer schedule`'s CSV.
fn schedule_lrs(stdout: &str) -> Vec<f64> {
    column(stdout, "lr")
}

const OPTIMIZER: &str = "[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentum = 0.9\nnesterov = true\n";

/// `configs/cosine.toml --epochs 2`: T_max follows the run (470 steps, not the 1175 of five
/// epochs), every step's lr is the closed-form cosine over 470 steps, and the schedule ends at
/// eta_min.
#[test]
fn the_shipped_cosine_reaches_eta_min_at_the_end_of_a_shorter_compare() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let output = trainer(&[
        "compare",
        &shipped("cosine.toml"),
        "--epochs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    ok(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("warning"), "{stderr}");
    let run = out.join("cosine-seed=0");
    let config = read(&run.join("config.toml"));
    assert!(config.contains("T_max = 470\n"), "{config}");
    assert!(!config.contains("auto"), "{config}");

    let lrs = column(&read(&run.join("trace.csv")), "lr");
    assert_eq!(lrs.len(), 470);
    for (t, lr) in lrs.iter().enumerate() {
        let closed = 0.1 * (1.0 + (std::f64::consts::PI * t as f64 / 470.0).cos()) / 2.0;
        assert!((lr - closed).abs() < 1e-12, "step {t}: {lr} vs {closed}");
    }
    // After the run's last scheduler step the lr is eta_min.
    let run_config = run.join("config.toml");
    let schedule = ok(&trainer(&[
        "schedule",
        "--config",
        run_config.to_str().unwrap(),
        "--steps",
        "470",
    ]));
    assert_eq!(schedule_lrs(&schedule).last(), Some(&0.0));
}

/// `T_max = "auto"` gives PyTorch's own numbers for the run's length (fixture
/// `cosine_past_tmax`: CosineAnnealingLR(T_max=10, eta_min=0.001) from lr 0.1).
#[test]
fn auto_is_pytorchs_schedule_for_the_runs_length() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cosine.toml");
    std::fs::write(
        &config,
        format!("{OPTIMIZER}[scheduler]\nname = \"CosineAnnealingLR\"\nT_max = \"auto\"\neta_min = 0.001\n"),
    )
    .unwrap();
    let ours = schedule_lrs(&ok(&trainer(&[
        "schedule",
        "--config",
        config.to_str().unwrap(),
        "--steps",
        "10",
    ])));
    let fixtures: serde_json::Value = serde_json::from_str(&read(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pytorch_schedules.json"
    ))))
    .unwrap();
    let case = fixtures["schedulers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "cosine_past_tmax")
        .unwrap();
    assert_eq!(case["scheduler"]["T_max"], 10);
    let pytorch: Vec<f64> = case["expected_lr"].as_array().unwrap()[..=10]
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(ours, pytorch);
    assert_eq!(ours.last(), Some(&0.001));
}

/// `configs/one-cycle.toml --epochs 6` trains six whole epochs (1410 steps); its hand-sized
/// predecessor failed at step 1176.
#[test]
fn the_shipped_one_cycle_trains_any_number_of_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let output = trainer(&[
        "compare",
        &shipped("one-cycle.toml"),
        "--epochs",
        "6",
        "--out",
        out.to_str().unwrap(),
    ]);
    ok(&output);
    let run = out.join("one-cycle-seed=0");
    assert!(read(&run.join("config.toml")).contains("total_steps = 1410\n"));
    assert_eq!(column(&read(&run.join("metrics.csv")), "epoch").len(), 6);
    assert_eq!(column(&read(&run.join("trace.csv")), "lr").len(), 1410);

    // The schedule alone, over 1410 steps: the last optimizer step (t = 1409, PyTorch's end of
    // the last phase) uses max_lr / div_factor / final_div_factor.
    let lrs = schedule_lrs(&ok(&trainer(&[
        "schedule",
        "--config",
        &shipped("one-cycle.toml"),
        "--steps",
        "1410",
    ])));
    assert_eq!(lrs.len(), 1411);
    let end = 0.2 / 25.0 / 1e4;
    assert!((lrs[1409] - end).abs() < 1e-18, "{}", lrs[1409]);
}

/// A hand-sized horizon that does not fit the run is named (key, value, the run's scheduler
/// steps) on the terminal by both `train` and `compare`, and in the comparison's report and
/// summary for the runs it affects only.
#[test]
fn a_horizon_that_does_not_fit_is_named_on_the_terminal_and_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, t_max: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!("epochs = 1\nseed = 7\nmax_steps = 30\n{OPTIMIZER}[scheduler]\nname = \"CosineAnnealingLR\"\nT_max = {t_max}\ninterval = \"step\"\n"),
        )
        .unwrap();
        path.to_string_lossy().into_owned()
    };
    let hand = write("hand.toml", "100");
    let auto = write("auto.toml", "\"auto\"");
    let wanted = "scheduler.T_max = 100 but the run has 30 scheduler steps (max_steps = 30, stepped per optimizer step)";

    let out = dir.path().join("cmp");
    let output = trainer(&["compare", &hand, &auto, "--out", out.to_str().unwrap()]);
    ok(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].starts_with(&format!("warning: hand: {wanted}")),
        "{stderr}"
    );
    assert!(
        warnings[0].contains("set scheduler.T_max = 30, or scheduler.T_max = \"auto\""),
        "{stderr}"
    );
    assert!(read(&out.join("auto-seed=7/config.toml")).contains("T_max = 30\n"));

    let html = read(&out.join("report.html"));
    assert!(html.contains("<h2>Schedule horizons</h2>"), "{html}");
    assert!(html.contains(&format!("<li><code>hand-seed=7</code>: {wanted}")));
    assert!(!html.contains("<code>auto-seed=7</code>"));
    let summary = read(&out.join("summary.csv"));
    let header = summary.lines().next().unwrap();
    assert!(header.ends_with(",status,notes"), "{header}");
    let row = |name: &str| {
        summary
            .lines()
            .find(|l| l.starts_with(&format!("{name},")))
            .unwrap()
            .to_string()
    };
    assert!(row("hand").contains(wanted), "{summary}");
    assert!(row("auto").ends_with(",ok,"), "{summary}");

    let run = dir.path().join("train");
    let output = trainer(&[
        "train",
        "--config",
        &hand,
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ]);
    ok(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(&format!("warning: {wanted}")),
        "{stderr}"
    );
}

/// OneCycleLR that the run would step past its total steps is an error before the first step,
/// naming what to set; nothing is written. The same holds for a OneCycleLR inside SequentialLR,
/// measured against its own stretch of the run.
#[test]
fn one_cycle_shorter_than_the_run_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("short.toml");
    std::fs::write(
        &config,
        format!("epochs = 1\nmax_steps = 30\n{OPTIMIZER}[scheduler]\nname = \"OneCycleLR\"\nmax_lr = 0.2\ntotal_steps = 20\ninterval = \"step\"\n"),
    )
    .unwrap();
    let nested = dir.path().join("nested.toml");
    std::fs::write(
        &nested,
        format!("epochs = 1\nmax_steps = 30\n{OPTIMIZER}[scheduler]\nname = \"SequentialLR\"\nmilestones = [5]\ninterval = \"step\"\n\
                 [[scheduler.schedulers]]\nname = \"ConstantLR\"\ntotal_iters = 5\n\
                 [[scheduler.schedulers]]\nname = \"OneCycleLR\"\nmax_lr = 0.2\ntotal_steps = 20\n"),
    )
    .unwrap();
    let out = dir.path().join("out");
    for (file, wanted) in [
        (&config, "scheduler.total_steps = 20 but the run has 30 scheduler steps (max_steps = 30, stepped per optimizer step): OneCycleLR cannot step past its total steps (PyTorch fails at step 21); set scheduler.total_steps = 30, or scheduler.total_steps = \"auto\""),
        (&nested, "scheduler.schedulers.1.total_steps = 20 but scheduler.schedulers.1 runs for 25 of the run's 30 scheduler steps"),
    ] {
        for command in ["train", "compare"] {
            let file = file.to_str().unwrap();
            let args = match command {
                "train" => vec!["train", "--config", file, "--quiet"],
                _ => vec!["compare", file],
            };
            let output = Command::new(env!("CARGO_BIN_EXE_trainer"))
                .args(args)
                .arg("--out")
                .arg(&out)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{command} {file}: {stderr}");
            assert!(stderr.contains(wanted), "{command} {file}: {stderr}");
            assert!(!out.exists(), "{command} {file} wrote {}", out.display());
        }
    }
}

/// `--resume` with more epochs than a OneCycleLR run was sized for is refused before the first
/// step, and the run folder is left exactly as it was.
#[test]
fn resuming_one_cycle_past_its_end_is_refused_and_the_run_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("one-cycle.toml");
    std::fs::write(
        &config,
        format!("epochs = 1\n{OPTIMIZER}[scheduler]\nname = \"OneCycleLR\"\nmax_lr = 0.2\ntotal_steps = \"auto\"\ninterval = \"step\"\n"),
    )
    .unwrap();
    let run = dir.path().join("run");
    ok(&trainer(&[
        "train",
        "--config",
        config.to_str().unwrap(),
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ]));
    assert!(read(&run.join("config.toml")).contains("total_steps = 235\n"));
    let snapshot = |dir: &Path| {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&path).unwrap())
            })
            // The lock file names the PID of the latest process that opened the folder.
            .filter(|(name, _)| name != ".lock")
            .collect();
        files.sort();
        files
    };
    let before = snapshot(&run);
    let output = trainer(&[
        "train",
        "--resume",
        run.to_str().unwrap(),
        "--epochs",
        "2",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("scheduler.total_steps = 235 but the run has 470 scheduler steps"),
        "{stderr}"
    );
    assert!(snapshot(&run) == before, "the run folder changed");
}
