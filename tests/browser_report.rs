//! `report.html` in a real browser (issue 19): a small real comparison (three settings, one
//! epoch: StepLR, ReduceLROnPlateau, cosine), its report opened in Chromium by
//! `tests/browser/report_check.mjs` (playwright-core from `tests/browser/package.json`, driving
//! the system's `/usr/bin/chromium`), which checks what a reader would: no console error,
//! every chart drawn with one series per setting, no horizontal scroll at 1280 px, a legend
//! click hiding a setting, the loss's log switch, the table's sorting, the print layout.
//!
//! It needs Chromium and Node with `npm ci` done in `tests/browser/`, so a plain `cargo test`
//! ignores it; `.ci/run` installs both and runs it with
//! `cargo test --test browser_report -- --ignored`. The screenshot and the PDF are left in
//! `target/tmp/` (CARGO_TARGET_TMPDIR) for a person to look at.

use std::path::Path;
use std::process::Command;

#[test]
#[ignore = "needs /usr/bin/chromium and `npm ci` in tests/browser (.ci/run does both)"]
fn the_report_works_in_chromium_at_1280_px() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let output = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .current_dir(root)
        .args([
            "compare",
            "configs/tutorial-steplr.toml",
            "configs/tutorial-plateau.toml",
            "configs/cosine.toml",
            "--epochs",
            "1",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let screenshot = shots.join("report-1280.png");
    let pdf = shots.join("report-print.pdf");
    let check = Command::new("node")
        .current_dir(root.join("tests/browser"))
        .arg("report_check.mjs")
        .arg(out.join("report.html"))
        .arg("3")
        .arg(&screenshot)
        .arg(&pdf)
        .output()
        .expect("node runs (install Node.js and run `npm ci` in tests/browser)");
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(stdout.contains("passed every check"), "{stdout}");
    assert!(std::fs::metadata(&pdf).unwrap().len() > 10_000);
    println!("{stdout}screenshot: {}", screenshot.display());
}
