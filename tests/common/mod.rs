//! Helpers the integration tests share: the trainer binary as a child process, its outcome, and
//! the checked-in fixtures. Each test file that uses them says `mod common;` (a test file uses
//! only some, hence the `dead_code` allowance).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `trainer` binary this test run built.
pub fn trainer() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
}

/// Standard output of a run that must succeed (the failure shows both streams).
pub fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "trainer failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error of a run that must fail cleanly: a non-zero exit, no panic.
pub fn failed(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// A file in `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The f32 tensors of a safetensors file, sorted by name.
pub fn tensors(bytes: &[u8]) -> Vec<(String, Vec<f32>)> {
    let st = safetensors::SafeTensors::deserialize(bytes).expect("a valid safetensors file");
    let mut out: Vec<(String, Vec<f32>)> = st
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let data = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (name, data)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
