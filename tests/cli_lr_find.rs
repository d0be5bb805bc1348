//! `trainer lr-find`: the range test's CSV follows its formulas (exponential lrs, fastai's
//! smoothing and stop rule), the printed suggestion is Lightning's steepest point of that CSV,
//! the test is repeatable bit for bit, and bad flags or earlier outputs are refused without
//! writing anything.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn lr_find(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .arg("lr-find")
        .args([
            "--data-dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/data/fashion-mnist"),
        ])
        .args(args)
        .output()
        .expect("trainer runs")
}

struct Row {
    step: u64,
    lr: f64,
    loss: f64,
    smoothed: f64,
}

fn rows(dir: &Path) -> Vec<Row> {
    let text = fs::read_to_string(dir.join("lr_find.csv")).expect("lr_find.csv is written");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("step,lr,loss,smoothed_loss"));
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 4, "{line}");
            Row {
                step: f[0].parse().expect("step"),
                lr: f[1].parse().expect("lr"),
                loss: f[2].parse().expect("loss"),
                smoothed: f[3].parse().expect("smoothed"),
            }
        })
        .collect()
}

#[test]
fn the_csv_follows_the_range_test_formulas_and_the_suggestion_is_its_steepest_fall() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("find");
    let run = lr_find(&["--out", out.to_str().expect("utf-8")]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let rows = rows(&out);
    assert!((20..=100).contains(&rows.len()), "{} rows", rows.len());

    let (start, end, steps) = (1e-7f64, 10.0f64, 100.0f64);
    let (mut avg, mut best) = (0.0f64, f64::INFINITY);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.step, i as u64 + 1);
        let want_lr = start * (end / start).powf(i as f64 / (steps - 1.0));
        assert!(
            (row.lr - want_lr).abs() <= 1e-12 * want_lr,
            "lr of step {}",
            row.step
        );
        avg = 0.98 * avg + 0.02 * row.loss;
        let smoothed = avg / (1.0 - 0.98f64.powi(i as i32 + 1));
        assert!(
            (row.smoothed - smoothed).abs() <= 1e-12 * smoothed,
            "smoothed {}",
            row.step
        );
        best = best.min(smoothed);
        let diverged = smoothed > 4.0 * best;
        assert_eq!(
            diverged,
            i + 1 == rows.len() && rows.len() < 100,
            "stop rule at {}",
            row.step
        );
    }
    // The default job's loss starts at ln(10) (a uniform guess) and the test ends by diverging.
    assert!((rows[0].loss - 10f64.ln()).abs() < 0.1, "{}", rows[0].loss);
    assert!(stdout.contains("stopped at step"), "{stdout}");

    // Lightning: np.gradient of smoothed[10 .. len-1], the lr at its minimum.
    let kept: Vec<&Row> = rows[10..rows.len() - 1].iter().collect();
    let y: Vec<f64> = kept.iter().map(|r| r.smoothed).collect();
    let n = y.len();
    let grad = |i: usize| match i {
        0 => y[1] - y[0],
        _ if i == n - 1 => y[n - 1] - y[n - 2],
        _ => (y[i + 1] - y[i - 1]) / 2.0,
    };
    let steepest = (0..n).fold(0, |best, i| if grad(i) < grad(best) { i } else { best });
    let line = stdout
        .lines()
        .find(|l| l.starts_with("suggested lr: "))
        .expect("a suggestion is printed");
    let printed: f64 = line["suggested lr: ".len()..]
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a number");
    let want = kept[steepest].lr;
    assert!(
        (printed - want).abs() <= 5e-4 * want,
        "{line} (want {want})"
    );
    assert!(
        line.contains(&format!("step {}", kept[steepest].step)),
        "{line}"
    );
    assert!(line.contains("max_lr of OneCycleLR"), "{line}");
    // The README shows what the default test prints.
    let readme =
        fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    assert!(readme.contains(line), "README.md does not show `{line}`");

    let svg = fs::read_to_string(out.join("lr_find.svg")).expect("lr_find.svg is written");
    assert!(
        svg.contains("<svg") && svg.contains("suggested lr"),
        "chart marks the suggestion"
    );

    // Same flags, same bits.
    let again = tmp.path().join("again");
    assert!(lr_find(&["--out", again.to_str().expect("utf-8")])
        .status
        .success());
    assert_eq!(
        fs::read(out.join("lr_find.csv")).expect("csv"),
        fs::read(again.join("lr_find.csv")).expect("csv")
    );
}

#[test]
fn short_tests_use_the_flags_and_the_config_is_left_alone() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let config = tmp.path().join("run.toml");
    let text = "seed = 3\n[data]\nbatch_size = 64\n[model]\nhidden = 32\n[optimizer]\nname = 'SGD'\nlr = 0.5\nmomentum = 0.0\n[scheduler]\nname = 'StepLR'\nstep_size = 1\n";
    fs::write(&config, text).expect("write config");
    let out = tmp.path().join("find");
    let run = lr_find(&[
        "--config",
        config.to_str().expect("utf-8"),
        "--start-lr",
        "1e-4",
        "--end-lr",
        "1e-2",
        "--steps",
        "30",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let rows = rows(&out);
    assert_eq!(rows.len(), 30, "a gentle range does not diverge");
    assert_eq!(rows[0].lr, 1e-4);
    assert!((rows[29].lr - 1e-2).abs() < 1e-15);
    assert_eq!(fs::read_to_string(&config).expect("config"), text);
}

#[test]
fn bad_flags_and_earlier_outputs_are_refused_before_any_work() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("find");
    let out_s = out.to_str().expect("utf-8");
    for (args, says) in [
        (
            vec!["--start-lr", "0"],
            "--start-lr and --end-lr must be finite numbers > 0",
        ),
        (vec!["--end-lr", "1e-9"], "must be larger than --start-lr"),
        (vec!["--steps", "1"], "--steps must be between 2"),
        (vec!["--start-lr", "nan"], "finite numbers > 0"),
    ] {
        let mut all = args.clone();
        all.extend(["--out", out_s]);
        let run = lr_find(&all);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
    fs::create_dir_all(&out).expect("mkdir");
    fs::write(out.join("lr_find.csv"), "earlier").expect("write");
    let run = lr_find(&["--steps", "12", "--out", out_s]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--overwrite"), "{stderr}");
    assert_eq!(
        fs::read_to_string(out.join("lr_find.csv")).expect("csv"),
        "earlier"
    );
    let run = lr_find(&["--steps", "12", "--out", out_s, "--overwrite"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(rows(&out).len(), 12);
}
