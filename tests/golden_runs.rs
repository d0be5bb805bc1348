//! Same numbers on every CPU, proven against checked-in goldens (`tests/fixtures/golden_*`,
//! made as `tests/fixtures/README.md` says): a run's losses, accuracies, lrs, trace norms and
//! weights depend on its config alone, not on the CPU, its vector width, the GEMM kernel or the
//! thread count. A machine that computes another bit anywhere fails here; so does a README
//! whose printed outputs are not what the code prints.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use autograd_lite::gemm::Kernel;
use sha2::{Digest, Sha256};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `trainer ARGS --out OUT --quiet` with the GEMM kernel forced to `kernel`.
fn train(args: &[&str], out: &Path, kernel: Kernel) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .arg("train")
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .env("AUTOGRAD_LITE_KERNEL", kernel.name())
        .output()
        .expect("the trainer binary starts");
    assert!(
        output.status.success(),
        "trainer failed with the {kernel} kernel\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `metrics.csv` without its two seconds columns: every number in it that is not a time.
fn metrics_without_seconds(dir: &Path) -> String {
    let text = read(&dir.join("metrics.csv"));
    let mut out = String::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 8, "metrics.csv row: {line}");
        out.push_str(&fields[..6].join(","));
        out.push('\n');
    }
    out
}

fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first line where two texts differ, for a readable failure.
fn first_difference(got: &str, want: &str) -> Option<String> {
    let (mut g, mut w) = (got.lines(), want.lines());
    for line in 1.. {
        match (g.next(), w.next()) {
            (None, None) => return None,
            (a, b) if a == b => continue,
            (a, b) => return Some(format!("line {line}:\n got  {a:?}\n want {b:?}")),
        }
    }
    None
}

fn assert_same_text(got: &str, want: &str, what: &str) {
    if let Some(diff) = first_difference(got, want) {
        panic!("{what} differs from the golden at {diff}");
    }
}

/// 60 steps of `golden_short_run.toml` (a per-step OneCycleLR, weight decay, dampening, a short
/// last batch, an epoch boundary with a test pass) with every kernel this CPU can run: the
/// whole `trace.csv` (step, lr, loss and every norm), the metrics and the SHA-256 of the final
/// weights are the checked-in ones, to the bit.
#[test]
fn the_short_golden_run_has_the_checked_in_bits_with_every_kernel() {
    let config = fixture("golden_short_run.toml");
    let want_trace = read(&fixture("golden_short_run.trace.csv"));
    let want_metrics = read(&fixture("golden_short_run.metrics.csv"));
    let want_sha = read(&fixture("golden_short_run.model.sha256"));
    let want_sha = want_sha.split_whitespace().next().expect("a hash");
    for kernel in Kernel::supported() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let config = config.to_str().expect("a UTF-8 path");
        train(&["--config", config, "--trace"], dir.path(), kernel);
        let what = |file: &str| format!("{file} with the {kernel} kernel");
        assert_same_text(
            &read(&dir.path().join("trace.csv")),
            &want_trace,
            &what("trace.csv"),
        );
        assert_same_text(
            &metrics_without_seconds(dir.path()),
            &want_metrics,
            &what("metrics.csv"),
        );
        assert_eq!(
            sha256_hex(&dir.path().join("model.safetensors")),
            want_sha,
            "{}",
            what("model.safetensors")
        );
    }
}

/// The default job (`trainer` with no arguments) and the tutorial's plateau experiment, whole:
/// their `metrics.csv` equals the golden in every column but the seconds. These are the runs
/// the README prints; the portable kernel's run of the default job is checked too, because it is
/// what a machine without AVX2 (or an aarch64 one) runs.
#[test]
fn the_default_job_and_the_plateau_run_have_the_golden_metrics() {
    let runs: [(&[&str], &str, &[Kernel]); 3] = [
        (&[], "golden_default_job.metrics.csv", &[Kernel::detected()]),
        (&[], "golden_default_job.metrics.csv", &[Kernel::Portable]),
        (
            &["--scheduler", "plateau"],
            "golden_plateau_job.metrics.csv",
            &[Kernel::detected()],
        ),
    ];
    for (args, golden, kernels) in runs {
        for &kernel in kernels {
            let dir = tempfile::tempdir().expect("a temporary folder");
            train(args, dir.path(), kernel);
            assert_same_text(
                &metrics_without_seconds(dir.path()),
                &read(&fixture(golden)),
                &format!("trainer train {args:?} with the {kernel} kernel"),
            );
        }
    }
}

/// One golden row, printed as `trainer train` prints it (without the seconds).
fn printed_row(row: &str, epochs: usize) -> String {
    let f: Vec<f64> = row
        .split(',')
        .map(|v| v.parse().expect("a number"))
        .collect();
    format!(
        "{}/{epochs} {:.6} {:.4} {:.2}% {:.4} {:.2}%",
        f[0], f[1], f[2], f[3], f[4], f[5]
    )
}

/// The README's `text` blocks that print a training run: each one's epoch lines (without the
/// seconds) and its `done:` line's accuracies, keyed by the scheduler its header names.
fn readme_runs(readme: &str) -> Vec<(String, Vec<String>, String)> {
    let mut runs = Vec::new();
    let mut lines = readme.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("model: 784-100-10 MLP") {
            continue;
        }
        // The scheduler is on the model's line, or on the next one when the header is wrapped
        // to fit 150 columns.
        let rest = match line.split("; scheduler: ").nth(1) {
            Some(rest) => rest.to_string(),
            None => match lines.peek().and_then(|l| l.strip_prefix("scheduler: ")) {
                Some(rest) => rest.to_string(),
                None => continue,
            },
        };
        let scheduler = rest.split('(').next().unwrap_or("").to_string();
        let mut rows = Vec::new();
        let mut done = String::new();
        while let Some(next) = lines.peek() {
            if next.starts_with("```") {
                break;
            }
            let next = lines.next().unwrap_or_default();
            let fields: Vec<&str> = next.split_whitespace().collect();
            if fields.len() == 7 && fields[0].contains('/') && fields[0].ends_with("/5") {
                rows.push(fields[..6].join(" "));
            }
            if let Some(tail) = next.split("final test accuracy ").nth(1) {
                done = tail.to_string();
            }
        }
        runs.push((scheduler, rows, done));
    }
    runs
}

/// The README shows what a run prints, and it must be what the code prints: every printed epoch
/// line of the default run and of the plateau run is the golden's, and so is the summary line's
/// final and best accuracy. (The goldens themselves are checked by the tests above.)
#[test]
fn the_readme_prints_the_golden_numbers() {
    let readme = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"));
    let runs = readme_runs(&readme);
    for (scheduler, golden) in [
        ("StepLR", "golden_default_job.metrics.csv"),
        ("ReduceLROnPlateau", "golden_plateau_job.metrics.csv"),
    ] {
        let text = read(&fixture(golden));
        let rows: Vec<&str> = text.lines().skip(1).collect();
        let want: Vec<String> = rows.iter().map(|r| printed_row(r, rows.len())).collect();
        let shown: Vec<_> = runs.iter().filter(|(s, _, _)| s == scheduler).collect();
        assert!(
            !shown.is_empty(),
            "the README prints no {scheduler} run (a `model: 784-100-10 MLP ...` block)"
        );
        for (_, got, done) in shown {
            assert_eq!(got, &want, "the README's {scheduler} run");
            let acc = |row: &str| row.split(',').nth(5).map(|v| v.parse::<f64>());
            let accs: Vec<f64> = rows
                .iter()
                .filter_map(|r| acc(r))
                .map(|a| a.expect("a number"))
                .collect();
            let last = accs[accs.len() - 1];
            let (best_epoch, best) =
                accs.iter().enumerate().fold(
                    (0, f64::MIN),
                    |b, (i, &a)| if a > b.1 { (i + 1, a) } else { b },
                );
            let want_done = format!("{last:.2}%");
            let want_best = format!("best {best:.2}% at epoch {best_epoch}");
            assert!(
                done.starts_with(&want_done) && done.contains(&want_best),
                "the README's {scheduler} summary says `final test accuracy {done}`, the run \
                 prints {want_done} ... {want_best}"
            );
        }
    }
}
