//! `trainer report DIR` (issue 18): rebuilds `summary.csv`, the charts and `report.html` of a
//! comparison folder from its finished runs, the same bytes `trainer compare` wrote; names the
//! missing and failed runs and says so in its exit status (3 failed, 4 missing); refuses a
//! folder that is not a comparison; reads while a comparison holds the folder's lock.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn trainer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
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

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist")
}

/// The files `report` (re)writes.
const OUTPUTS: [&str; 6] = [
    "summary.csv",
    "report.html",
    "lr.svg",
    "train_loss.svg",
    "test_accuracy.svg",
    "update_ratio.svg",
];

/// A comparison of 2 learning rates x 2 seeds, 30 steps per run, in `dir/cmp`; `lrs` may hold
/// one that diverges.
fn small_compare(dir: &Path, lrs: &str) -> (PathBuf, Output) {
    let config = dir.join("exp.toml");
    std::fs::write(
        &config,
        "epochs = 2\nseed = 7\nmax_steps = 30\n[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentum = 0.9\n[scheduler]\nname = \"ExponentialLR\"\ngamma = 0.9\n",
    )
    .unwrap();
    let out = dir.join("cmp");
    let output = trainer(&[
        "compare",
        config.to_str().unwrap(),
        "--grid",
        &format!("optimizer.lr={lrs}"),
        "--seeds",
        "0,1",
        "--data-dir",
        data_dir().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    (out, output)
}

fn report(dir: &Path) -> Output {
    trainer(&["report", dir.to_str().unwrap()])
}

#[test]
fn report_on_a_finished_comparison_writes_the_same_bytes_as_compare() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, output) = small_compare(tmp.path(), "0.1,0.05");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // The plan lists every run in order, with its full config.
    let plan = read(&out.join("sweep.toml"));
    let names = [
        "exp-lr=0.1-seed=0",
        "exp-lr=0.1-seed=1",
        "exp-lr=0.05-seed=0",
        "exp-lr=0.05-seed=1",
    ];
    let at: Vec<usize> = names
        .iter()
        .map(|n| plan.find(&format!("name = \"{n}\"")).expect(n))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{plan}");
    assert!(plan.contains("index = 3") && plan.contains("[runs.config.scheduler]"));

    let written: Vec<Vec<u8>> = OUTPUTS
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();
    for f in OUTPUTS {
        std::fs::remove_file(out.join(f)).unwrap();
    }
    let output = report(&out);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    for (f, bytes) in OUTPUTS.iter().zip(&written) {
        assert!(
            std::fs::read(out.join(f)).unwrap() == *bytes,
            "{f} differs from what compare wrote"
        );
    }
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("4 of 4 runs finished, 0 failed, 0 missing"),
        "{stdout}"
    );
    // Again over its own files: still the same (nothing depends on the clock).
    assert_eq!(report(&out).status.code(), Some(0));
    assert!(std::fs::read(out.join("report.html")).unwrap() == written[1]);
}

#[test]
fn missing_runs_are_named_and_the_finished_ones_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, output) = small_compare(tmp.path(), "0.1,0.05");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // One run never started, one cut short (its metrics.csv has no epoch), one without its
    // final weights (interrupted after its last checkpoint).
    std::fs::remove_dir_all(out.join("exp-lr=0.1-seed=1")).unwrap();
    let cut = out.join("exp-lr=0.05-seed=0/metrics.csv");
    let header = read(&cut).lines().next().unwrap().to_string();
    std::fs::write(&cut, format!("{header}\n")).unwrap();
    std::fs::remove_file(out.join("exp-lr=0.05-seed=1/model.safetensors")).unwrap();
    for f in OUTPUTS {
        std::fs::remove_file(out.join(f)).unwrap();
    }

    let output = report(&out);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(4), "{stdout}{stderr}");
    assert!(
        stdout.contains("missing: exp-lr=0.1-seed=1: not started (no folder)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("missing: exp-lr=0.05-seed=0: 0 of 2 epochs done"),
        "{stdout}"
    );
    assert!(
        stdout.contains("missing: exp-lr=0.05-seed=1: 1 of 2 epochs done (no model.safetensors)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("error: 3 of 4 runs have not finished: exp-lr=0.1-seed=1, exp-lr=0.05-seed=0, exp-lr=0.05-seed=1"),
        "{stderr}"
    );
    // Everything is written, from the one finished run.
    for f in OUTPUTS {
        assert!(out.join(f).is_file(), "{f} not written");
    }
    let html = read(&out.join("report.html"));
    assert!(html.contains("<h2>Missing runs</h2>"), "{html}");
    for name in [
        "exp-lr=0.1-seed=1",
        "exp-lr=0.05-seed=0",
        "exp-lr=0.05-seed=1",
    ] {
        assert!(html.contains(&format!("<li><code>{name}</code>")), "{name}");
    }
    let summary = read(&out.join("summary.csv"));
    let finished = read(&out.join("exp-lr=0.1-seed=0/metrics.csv"));
    let accuracy: f64 = finished
        .lines()
        .last()
        .unwrap()
        .split(',')
        .nth(5)
        .unwrap()
        .parse()
        .unwrap();
    let rows: Vec<&str> = summary.lines().collect();
    assert!(
        rows[1].starts_with(&format!(
            "exp-lr=0.1,exp,0.1,0,{accuracy:.4},,{accuracy:.4},,1,"
        )),
        "{summary}"
    );
    assert!(
        rows[1].contains(",0,not finished: seed=1: not started (no folder),"),
        "{summary}"
    );
    assert!(
        rows[2].starts_with("exp-lr=0.05,exp,0.05,,,,,,,,,"),
        "{summary}"
    );
    assert!(
        rows[2]
            .ends_with(",0,not finished: seed=0: 0 of 2 epochs done; seed=1: 1 of 2 epochs done (no model.safetensors),"),
        "{summary}"
    );
    // A setting none of whose runs started is "not run".
    std::fs::remove_dir_all(out.join("exp-lr=0.05-seed=0")).unwrap();
    std::fs::remove_dir_all(out.join("exp-lr=0.05-seed=1")).unwrap();
    assert_eq!(report(&out).status.code(), Some(4));
    let summary = read(&out.join("summary.csv"));
    assert!(
        summary.lines().nth(2).unwrap().ends_with(",0,not run,"),
        "{summary}"
    );
}

#[test]
fn failed_runs_make_the_status_3_even_with_missing_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, output) = small_compare(tmp.path(), "0.1,1000");
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert!(read(&out.join("exp-lr=1000-seed=0/failed.txt")).contains("diverged"));
    std::fs::remove_dir_all(out.join("exp-lr=0.1-seed=1")).unwrap();
    let output = report(&out);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stderr.contains("error: 2 of 4 runs failed: exp-lr=1000-seed=0, exp-lr=1000-seed=1"),
        "{stderr}"
    );
    assert!(
        stdout.contains("missing: exp-lr=0.1-seed=1: not started (no folder)"),
        "{stdout}"
    );
    let summary = read(&out.join("summary.csv"));
    assert!(
        summary.contains(",2,2 runs failed; seed=0: the run diverged"),
        "{summary}"
    );

    // With no run finished any more, the old charts go (the page has none) and the table stays.
    std::fs::remove_dir_all(out.join("exp-lr=0.1-seed=0")).unwrap();
    assert_eq!(report(&out).status.code(), Some(3));
    for f in &OUTPUTS[2..] {
        assert!(!out.join(f).exists(), "{f} left from an earlier report");
    }
    let html = read(&out.join("report.html"));
    assert!(
        !html.contains("report-data") && !html.contains(".svg\""),
        "{html}"
    );
    assert!(read(&out.join("summary.csv")).contains(",0,not run,"));
}

#[test]
fn a_folder_that_is_not_a_comparison_is_a_clear_error_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let output = report(tmp.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("is not a comparison folder: it has no sweep.toml"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);

    let output = report(&tmp.path().join("absent"));
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("is not a folder"));

    // A plan whose run folder leads out of DIR is damaged, not followed.
    let (out, output) = small_compare(tmp.path(), "0.1");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    for f in OUTPUTS {
        std::fs::remove_file(out.join(f)).unwrap();
    }
    let plan = read(&out.join("sweep.toml"));
    std::fs::write(
        out.join("sweep.toml"),
        plan.replace("name = \"exp-lr=0.1-seed=0\"", "name = \"../elsewhere\""),
    )
    .unwrap();
    let output = report(&out);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("sweep.toml is damaged: run 0 has the folder name \"../elsewhere\""),
        "{stderr}"
    );
    // Not TOML at all.
    std::fs::write(out.join("sweep.toml"), "runs = [").unwrap();
    let output = report(&out);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("sweep.toml is damaged"));
    for f in OUTPUTS {
        assert!(!out.join(f).exists(), "{f} written from a damaged plan");
    }
}

#[test]
fn report_reads_a_folder_whose_lock_a_comparison_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, output) = small_compare(tmp.path(), "0.1");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summary = std::fs::read(out.join("summary.csv")).unwrap();
    std::fs::remove_file(out.join("summary.csv")).unwrap();
    // The lock a writing `compare` holds, on the folder and on a run.
    let lock = std::fs::File::open(out.join(".lock")).unwrap();
    lock.try_lock().unwrap();
    let run_lock = std::fs::File::open(out.join("exp-lr=0.1-seed=0/.lock")).unwrap();
    run_lock.try_lock().unwrap();
    let output = report(&out);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(std::fs::read(out.join("summary.csv")).unwrap() == summary);
}
