//! `--scheduler` and the scheduler flags say what was meant and what to do, before any work:
//! a near miss gets "did you mean", a class whose arguments no flag sets points at a config
//! file, and a flag the class does not take names the flag to use instead.

use std::process::Command;

fn refused(args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("run");
    let output = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .arg("train")
        .args(args)
        .args(["--max-steps", "1", "--out", out.to_str().expect("utf-8")])
        .output()
        .expect("trainer runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(!out.exists(), "{args:?} wrote {}", out.display());
    assert!(
        !stderr.contains("[scheduler]:"),
        "no config file was used: {stderr}"
    );
    stderr
}

#[test]
fn near_misses_get_did_you_mean_and_the_accepted_names() {
    for (typed, meant) in [
        ("cosine", "CosineAnnealingLR"),
        ("steplr", "StepLR"),
        ("platue", "plateau"),
        ("onecycle", "OneCycleLR"),
    ] {
        let err = refused(&["--scheduler", typed]);
        assert!(
            err.contains(&format!(
                "unknown scheduler `{typed}`; did you mean `--scheduler {meant}`?"
            )),
            "{err}"
        );
        for accepted in [
            "step (",
            "plateau (",
            "none (",
            "ReduceLROnPlateau",
            "CyclicLR",
        ] {
            assert!(err.contains(accepted), "{typed}: {err}");
        }
    }
    let err = refused(&["--scheduler", "banana"]);
    assert!(!err.contains("did you mean"), "{err}");
}

#[test]
fn a_class_with_required_arguments_points_at_a_config_file() {
    let err = refused(&["--scheduler", "CosineAnnealingLR"]);
    assert!(err.contains("CosineAnnealingLR needs `T_max`"), "{err}");
    assert!(err.contains("--config configs/cosine.toml"), "{err}");
    // StepLR's required argument has a flag, so this one runs past the check.
    let err = refused(&["--scheduler", "StepLR"]);
    assert!(err.contains("StepLR needs `step_size`"), "{err}");
}

#[test]
fn a_flag_the_class_does_not_take_names_the_flag_to_use() {
    let err = refused(&["--scheduler", "plateau", "--gamma", "0.5"]);
    assert!(
        err.contains("--gamma sets `gamma`, but ReduceLROnPlateau takes no `gamma`; its cut is `factor`: use --factor"),
        "{err}"
    );
    let err = refused(&["--factor", "0.5"]);
    assert!(
        err.contains("StepLR takes no `factor`; its cut is `gamma`: use --gamma"),
        "{err}"
    );
    let err = refused(&["--scheduler", "none", "--patience", "2"]);
    assert!(
        err.contains("--patience sets a scheduler argument, but --scheduler none"),
        "{err}"
    );
}
