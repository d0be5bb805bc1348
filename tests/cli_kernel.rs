//! Choosing the GEMM kernel from the command line: `AUTOGRAD_LITE_KERNEL` and `--kernel`. A
//! kernel that does not exist, or that this CPU cannot run, stops the command before any work
//! with a message that names the kernels it can run; a good one is named in what is printed.

use std::process::{Command, Output};

use autograd_lite::gemm::Kernel;

fn trainer(args: &[&str], kernel_variable: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trainer"));
    cmd.args(args);
    match kernel_variable {
        Some(v) => cmd.env("AUTOGRAD_LITE_KERNEL", v),
        None => cmd.env_remove("AUTOGRAD_LITE_KERNEL"),
    };
    cmd.output().expect("the trainer binary starts")
}

fn runnable_list() -> String {
    let names: Vec<&str> = Kernel::supported().into_iter().map(Kernel::name).collect();
    names.join(", ")
}

#[test]
fn an_unknown_kernel_in_the_variable_stops_any_command_before_work() {
    let out_dir = tempfile::tempdir().expect("a temporary folder");
    let out = out_dir.path().join("run");
    let out_arg = out.to_str().expect("a UTF-8 path");
    for args in [
        vec!["train", "--max-steps", "1", "--out", out_arg],
        vec!["bench", "gemm"],
    ] {
        let output = trainer(&args, Some("avx1024"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("unknown GEMM kernel \"avx1024\""),
            "{stderr}"
        );
        assert!(stderr.contains("avx512, avx2, portable"), "{stderr}");
        assert!(
            stderr.contains(&format!("this CPU can run: {}", runnable_list())),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(output.stdout.is_empty(), "no work was done: {args:?}");
    }
    assert!(!out.exists(), "no run folder is made for a bad kernel");
}

#[test]
fn a_kernel_this_cpu_cannot_run_is_refused_with_the_ones_it_can() {
    for kernel in Kernel::ALL.into_iter().filter(|k| !k.is_supported()) {
        let output = trainer(&["bench", "gemm"], Some(kernel.name()));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("cannot run the {kernel} GEMM kernel")),
            "{stderr}"
        );
        let flag = trainer(&["bench", "train", "--kernel", kernel.name()], None);
        assert_eq!(flag.status.code(), Some(2), "clap's usage error");
        let stderr = String::from_utf8_lossy(&flag.stderr);
        assert!(stderr.contains(&runnable_list()), "{stderr}");
    }
}

#[test]
fn a_bad_kernel_flag_is_a_usage_error_naming_the_kernels() {
    for sub in ["gemm", "train"] {
        let output = trainer(&["bench", sub, "--kernel", "sse9"], None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("--kernel"), "{stderr}");
        assert!(stderr.contains("avx512, avx2, portable"), "{stderr}");
    }
}

/// The training header names the kernel in use, and the variable (any case) chooses it.
#[test]
fn the_training_header_names_the_kernel_the_variable_chose() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("run");
    let output = trainer(
        &[
            "train",
            "--max-steps",
            "1",
            "--quiet",
            "--out",
            out.to_str().expect("a UTF-8 path"),
        ],
        Some("Portable"),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("GEMM kernel portable"), "{stdout}");
}
