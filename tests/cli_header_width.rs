//! The training header fits a 150-column terminal (issue 19): a header line that would be
//! longer (ReduceLROnPlateau's arguments, a LambdaLR formula) is broken at its `; `
//! separators, and a very long formula is cut with `…` (config.toml keeps it whole).

use std::process::Command;

#[test]
fn no_line_of_a_training_run_is_wider_than_150_columns() {
    let dir = tempfile::tempdir().unwrap();
    let long_lambda = dir.path().join("lambda.toml");
    std::fs::write(
        &long_lambda,
        format!(
            "[scheduler]\nname = \"LambdaLR\"\ninterval = \"step\"\nlr_lambda = \"{}1\"\n",
            "0 * t + ".repeat(40)
        ),
    )
    .unwrap();
    for (config, wrapped) in [
        ("configs/tutorial-steplr.toml", false),
        ("configs/tutorial-plateau.toml", true),
        ("configs/warmup-stable-decay.toml", true),
        (long_lambda.to_str().unwrap(), true),
    ] {
        let out = dir.path().join("run");
        let output = Command::new(env!("CARGO_BIN_EXE_trainer"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "train",
                "--config",
                config,
                "--epochs",
                "1",
                "--max-steps",
                "2",
            ])
            .arg("--overwrite")
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{config}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        for line in stdout.lines() {
            assert!(
                line.chars().count() <= 150,
                "{config}: {} columns: {line}",
                line.chars().count()
            );
        }
        let first = stdout.lines().next().unwrap();
        assert!(first.starts_with("model: 784-100-10 MLP (ReLU); optimizer: SGD("));
        assert_eq!(
            stdout.lines().nth(1).unwrap().starts_with("scheduler: "),
            wrapped,
            "{config}:\n{stdout}"
        );
        if config == long_lambda.to_str().unwrap() {
            assert!(stdout.contains("…"), "{stdout}");
            let saved = std::fs::read_to_string(out.join("config.toml")).unwrap();
            assert!(
                saved.contains(&"0 * t + ".repeat(40)),
                "config.toml has it whole"
            );
        }
    }
}
