//! Errors in a config's `[optimizer]` and `[scheduler]` tables (issue 19) name the file and the
//! line, as a top-level typo does, from `train`, `schedule` and `compare`; a value given by a
//! flag is not blamed on the file; and a very long key is not echoed whole.

use std::path::Path;
use std::process::{Command, Output};

fn trainer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("trainer runs")
}

/// The stderr of a run that must fail (exit status 1, no panic).
fn fails(args: &[&str]) -> String {
    let out = trainer(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const OPTIMIZER: &str = "[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentum = 0.9\n";

#[test]
fn table_typos_name_the_file_and_the_line_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let scheduler = write(
        dir.path(),
        "sched.toml",
        &format!(
            "epochs = 1\n{OPTIMIZER}\n[scheduler]\nname = \"StepLR\"\nstep_size = 4\ngama = 0.9\n"
        ),
    );
    let optimizer = write(
        dir.path(),
        "opt.toml",
        "epochs = 1\n[optimizer]\nname = \"SGD\"\nlr = 0.1\nmomentm = 0.9\n",
    );
    let out = dir.path().join("cmp");
    for (file, line, text) in [
        (
            &scheduler,
            10,
            "`gama = 0.9`: in [scheduler]: unknown field `gama`",
        ),
        (
            &optimizer,
            5,
            "`momentm = 0.9`: in [optimizer]: unknown field `momentm`",
        ),
    ] {
        for args in [
            vec!["train", "--config", file],
            vec!["schedule", "--config", file, "--steps", "3"],
            vec!["compare", file, "--out", out.to_str().unwrap()],
        ] {
            let stderr = fails(&args);
            assert!(stderr.contains(file.as_str()), "{args:?}: {stderr}");
            assert!(
                stderr.contains(&format!("at line {line}, column 1 {text}")),
                "{args:?}: {stderr}"
            );
        }
    }
    assert!(!out.exists(), "nothing written");
}

#[test]
fn a_bad_value_names_its_line_unless_a_flag_gave_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "neg.toml",
        "epochs = 1\n[optimizer]\nname = \"SGD\"\nlr = -0.1\n",
    );
    let stderr = fails(&["train", "--config", &config]);
    assert!(
        stderr.contains(&format!(
            "in the config file {config}: at line 4, column 1 `lr = -0.1`: in [optimizer]: SGD: invalid `lr` = -0.1"
        )),
        "{stderr}"
    );
    let config = write(
        dir.path(),
        "step.toml",
        &format!("epochs = 1\n{OPTIMIZER}[scheduler]\nname = \"StepLR\"\nstep_size = 0\n"),
    );
    let stderr = fails(&["train", "--config", &config]);
    assert!(
        stderr.contains("at line 8, column 1 `step_size = 0`"),
        "{stderr}"
    );
    // The file's lr is fine; the flag's is not: no line of the file is blamed.
    let stderr = fails(&["train", "--config", "configs/cosine.toml", "--lr", "-3"]);
    assert!(
        stderr.contains("invalid `lr` = -3") && !stderr.contains("line"),
        "{stderr}"
    );
}

#[test]
fn a_megabyte_key_is_not_echoed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let key = "k".repeat(1_000_000);
    for (name, text) in [
        ("top.toml", format!("{key} = 1\n")),
        ("opt.toml", format!("{OPTIMIZER}{key} = 1\n")),
        (
            "sched.toml",
            format!("{OPTIMIZER}[scheduler]\nname = \"StepLR\"\nstep_size = 4\n{key} = 1\n"),
        ),
    ] {
        let config = write(dir.path(), name, &text);
        let stderr = fails(&["train", "--config", &config]);
        assert!(stderr.len() < 1000, "{name}: {} bytes", stderr.len());
        assert!(stderr.contains("… (1000000 characters)`"), "{stderr}");
    }
    // 5 MB: more than a config can hold, refused before it is parsed.
    let config = write(
        dir.path(),
        "huge.toml",
        &format!("{} = 1\n", "k".repeat(5_000_000)),
    );
    let stderr = fails(&["train", "--config", &config]);
    assert!(
        stderr.len() < 400 && stderr.contains("refusing to read it"),
        "{stderr}"
    );
}
