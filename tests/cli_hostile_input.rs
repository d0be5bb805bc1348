//! Hostile input to the trainer: things that are not regular files where a config, weights or
//! data are named; NaN, infinite and absurdly large weights; sizes beyond what the machine
//! can hold. Each must be refused before any work, once, with the problem named, and never
//! with a panic, a hang, or advice to lower the learning rate.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use autograd_lite::Mlp;

/// Runs the trainer, killing it (and failing) if it runs longer than 60 s.
fn trainer(args: &[&str]) -> Output {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("trainer {args:?} still running after 60 s (blocked or unbounded)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The run failed with exit code 1 (an error, not a panic or an abort); returns stderr.
fn refused(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Things that are not regular files, each at a path in `dir`: a directory, a FIFO, a symlink
/// to a directory, a symlink to a character device.
fn non_files(dir: &Path) -> Vec<(std::path::PathBuf, &'static str)> {
    let d = dir.join("a-directory");
    std::fs::create_dir(&d).unwrap();
    let fifo = dir.join("a-fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let to_dir = dir.join("link-to-dir");
    std::os::unix::fs::symlink(&d, &to_dir).unwrap();
    let to_dev = dir.join("link-to-zero");
    std::os::unix::fs::symlink("/dev/zero", &to_dev).unwrap();
    vec![
        (d, "is a directory"),
        (fifo, "is a FIFO"),
        (to_dir, "is a directory"),
        (to_dev, "is a character device"),
    ]
}

#[test]
fn a_config_that_is_not_a_regular_file_is_refused_by_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("run");
    for (path, what) in non_files(dir.path()) {
        let err = refused(&trainer(&[
            "train",
            "--config",
            s(&path),
            "--out",
            s(&out_dir),
        ]));
        assert!(err.contains(s(&path)) && err.contains(what), "{err}");
        assert!(!out_dir.exists(), "nothing written for {what}");
        let err = refused(&trainer(&[
            "schedule",
            "--config",
            s(&path),
            "--steps",
            "3",
        ]));
        assert!(err.contains(what), "{err}");
    }
}

#[test]
fn weights_that_are_not_a_regular_file_are_refused_by_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("run");
    for (path, what) in non_files(dir.path()) {
        let err = refused(&trainer(&["eval", "--weights", s(&path)]));
        assert!(err.contains(&format!("--weights {}", s(&path))), "{err}");
        assert!(err.contains(what), "{err}");
        let err = refused(&trainer(&[
            "train",
            "--init-weights",
            s(&path),
            "--max-steps",
            "1",
            "--out",
            s(&out_dir),
        ]));
        assert!(err.contains(what), "{err}");
        let err = refused(&trainer(&["data", "inspect", s(&path)]));
        assert!(err.contains(what), "{err}");
    }
}

#[test]
fn a_data_file_replaced_by_a_directory_or_fifo_is_named_not_missing() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist");
    for make in ["dir", "fifo"] {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ] {
            std::fs::copy(repo.join(name), dir.path().join(name)).unwrap();
        }
        let images = dir.path().join("train-images-idx3-ubyte.gz");
        match make {
            "dir" => std::fs::create_dir(&images).unwrap(),
            _ => assert!(Command::new("mkfifo")
                .arg(&images)
                .status()
                .unwrap()
                .success()),
        }
        let out_dir = dir.path().join("run");
        let err = refused(&trainer(&[
            "train",
            "--data-dir",
            s(dir.path()),
            "--out",
            s(&out_dir),
        ]));
        assert!(err.contains("train-images-idx3-ubyte.gz: is a"), "{err}");
        assert!(!err.contains("neither"), "not reported as missing: {err}");
        let err = refused(&trainer(&["data", "verify", "--dir", s(dir.path())]));
        assert!(err.contains("failed verification"), "{err}");
    }
}

/// A safetensors file of the default 784-100-10 MLP with one value replaced.
fn weights_with(dir: &Path, tensor: usize, index: usize, value: f32) -> std::path::PathBuf {
    let mut mlp = Mlp::new(784, 100, 10, 0);
    mlp.params_mut()[tensor][index] = value;
    let path = dir.join(format!("w-{tensor}-{index}-{value}.safetensors"));
    std::fs::write(&path, mlp.to_safetensors()).unwrap();
    path
}

#[test]
fn nan_or_infinite_weights_are_refused_as_such_naming_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("run");
    for (tensor, index, value, name, shown) in [
        (0, 5, f32::NAN, "fc1.weight", "NaN at index 5"),
        (3, 9, f32::INFINITY, "fc2.bias", "inf at index 9"),
        (1, 0, f32::NEG_INFINITY, "fc1.bias", "-inf at index 0"),
    ] {
        let path = weights_with(dir.path(), tensor, index, value);
        let err = refused(&trainer(&["eval", "--weights", s(&path)]));
        assert!(err.contains(&format!("`{name}` holds {shown}")), "{err}");
        let err = refused(&trainer(&[
            "train",
            "--init-weights",
            s(&path),
            "--max-steps",
            "1",
            "--out",
            s(&out_dir),
        ]));
        assert!(err.contains(&format!("`{name}` holds {shown}")), "{err}");
        assert!(!err.contains("learning rate"), "{err}");
    }
}

#[test]
fn finite_weights_that_blow_up_the_first_loss_are_blamed_not_the_learning_rate() {
    let dir = tempfile::tempdir().unwrap();
    let mut mlp = Mlp::new(784, 100, 10, 0);
    mlp.params_mut()[2].fill(3e38);
    let path = dir.path().join("huge.safetensors");
    std::fs::write(&path, mlp.to_safetensors()).unwrap();
    let out_dir = dir.path().join("run");
    let err = refused(&trainer(&[
        "train",
        "--init-weights",
        s(&path),
        "--max-steps",
        "2",
        "--out",
        s(&out_dir),
    ]));
    assert!(
        err.contains("before this run changed any weight") && err.contains(s(&path)),
        "{err}"
    );
    assert!(!err.to_lowercase().contains("learning rate"), "{err}");
}

#[test]
fn a_damaged_weights_file_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let good = Mlp::new(784, 100, 10, 0).to_safetensors();
    let path = dir.path().join("cut.safetensors");
    std::fs::write(&path, &good[..good.len() / 2]).unwrap();
    let out_dir = dir.path().join("run");
    for args in [
        vec!["eval", "--weights", s(&path)],
        vec![
            "train",
            "--init-weights",
            s(&path),
            "--max-steps",
            "1",
            "--out",
            s(&out_dir),
        ],
    ] {
        let err = refused(&trainer(&args));
        // One error line (a run may also warn about its settings, e.g. a short --max-steps).
        let errors = err.lines().filter(|l| !l.starts_with("warning: ")).count();
        assert_eq!(errors, 1, "{err}");
        assert_eq!(
            err.matches("not a valid safetensors file").count(),
            1,
            "{err}"
        );
        assert_eq!(err.matches(s(&path)).count(), 1, "{err}");
        // The safetensors crate's own words (e.g. "MetadataIncompleteBuffer") appear once.
        let detail = err
            .split("not a valid safetensors file (")
            .nth(1)
            .and_then(|t| t.split(')').next())
            .unwrap_or_default()
            .to_string();
        assert!(!detail.is_empty(), "{err}");
        assert_eq!(err.matches(&detail).count(), 1, "{err}");
        assert!(!err.contains("learning rate"), "{err}");
    }
}

#[test]
fn an_oversized_weights_file_is_refused_from_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.safetensors");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(200 << 30).unwrap();
    drop(f);
    let out_dir = dir.path().join("run");
    let start = Instant::now();
    let err = refused(&trainer(&[
        "train",
        "--init-weights",
        s(&path),
        "--out",
        s(&out_dir),
    ]));
    assert!(
        err.contains("more than the") && err.contains("can hold"),
        "{err}"
    );
    let err = refused(&trainer(&["eval", "--weights", s(&path)]));
    assert!(
        err.contains("more than the") && err.contains("can hold"),
        "{err}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn sizes_beyond_the_machine_are_refused_before_any_work_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("run");
    let o = s(&out_dir);
    for (args, expected) in [
        (
            vec!["train", "--hidden", "18446744073709551615", "--out", o],
            "use at most --hidden",
        ),
        (
            vec!["train", "--hidden", "5000000", "--out", o],
            "use at most --hidden",
        ),
        (
            vec!["train", "--hidden", "100000000000", "--out", o],
            "use at most --hidden",
        ),
        (
            vec!["train", "--batch-size", "1000000000000", "--out", o],
            "more than the 60000 training images",
        ),
        (
            vec!["train", "--batch-size", "60001", "--out", o],
            "more than the 60000 training images",
        ),
        (vec!["train", "--threads", "100000", "--out", o], "per core"),
    ] {
        let start = Instant::now();
        let err = refused(&trainer(&args));
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{args:?}: {:?}",
            start.elapsed()
        );
        assert!(!out_dir.exists(), "{args:?}: nothing written");
    }
    // The memory limit names the figures it compared.
    let err = refused(&trainer(&["train", "--hidden", "5000000", "--out", o]));
    assert!(err.contains("GiB") && err.contains("available"), "{err}");
}

#[test]
fn schedule_steps_and_compare_grids_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "[optimizer]\nname = \"SGD\"\nlr = 0.1\n[scheduler]\nname = \"StepLR\"\nstep_size = 2\n",
    )
    .unwrap();
    let err = refused(&trainer(&[
        "schedule",
        "--config",
        s(&config),
        "--steps",
        "18446744073709551615",
    ]));
    assert!(
        err.contains("--steps") && err.contains("1000000 steps"),
        "{err}"
    );

    let values = |n: usize| -> String {
        (1..=n)
            .map(|i| format!("0.{i:04}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let lr = format!("optimizer.lr={}", values(101));
    let momentum = format!("optimizer.momentum={}", values(101));
    let out_dir = dir.path().join("cmp");
    let start = Instant::now();
    let err = refused(&trainer(&[
        "compare",
        s(&config),
        "--grid",
        &lr,
        "--grid",
        &momentum,
        "--out",
        s(&out_dir),
    ]));
    assert!(err.contains("10201 runs") && err.contains("10000"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(!out_dir.exists());
}

#[test]
fn a_missing_file_is_reported_once_with_the_reason_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.gz");
    let out_dir = dir.path().join("run");
    for args in [
        vec!["data", "inspect", s(&missing)],
        vec!["eval", "--weights", s(&missing)],
        vec!["train", "--config", s(&missing), "--out", s(&out_dir)],
        vec!["train", "--init-weights", s(&missing), "--out", s(&out_dir)],
    ] {
        let err = refused(&trainer(&args));
        assert_eq!(
            err.matches("No such file or directory").count(),
            1,
            "{args:?}: {err}"
        );
        assert_eq!(err.matches(s(&missing)).count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn a_damaged_checkpoint_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = trainer(&["train", "--max-steps", "1", "--quiet", "--out", s(&run)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checkpoint = run.join("checkpoint.safetensors");
    let bytes = std::fs::read(&checkpoint).unwrap();
    std::fs::write(&checkpoint, &bytes[..bytes.len() / 2]).unwrap();
    let err = refused(&trainer(&["train", "--resume", s(&run)]));
    assert_eq!(err.matches("checkpoint.safetensors").count(), 1, "{err}");
    assert_eq!(
        err.matches("not a valid safetensors file").count(),
        1,
        "{err}"
    );
    let detail = err
        .split("not a valid safetensors file (")
        .nth(1)
        .and_then(|t| t.split(')').next())
        .unwrap_or_default()
        .to_string();
    assert!(!detail.is_empty(), "{err}");
    assert_eq!(err.matches(&detail).count(), 1, "{err}");
    assert!(!err.contains("learning rate"), "{err}");
}

#[test]
fn a_config_with_a_megabyte_line_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("deep.toml");
    std::fs::write(&config, format!("x = {}\n", "[".repeat(500_000))).unwrap();
    let out_dir = dir.path().join("run");
    for args in [
        vec!["train", "--config", s(&config), "--out", s(&out_dir)],
        vec!["schedule", "--config", s(&config), "--steps", "2"],
    ] {
        let err = refused(&trainer(&args));
        assert!(err.len() < 1000, "{} bytes: {}", err.len(), &err[..300]);
        assert!(err.contains("line 1"), "{err}");
    }
    // Larger than any config can be: refused from its size.
    std::fs::write(&config, " ".repeat(2 << 20)).unwrap();
    let err = refused(&trainer(&[
        "train",
        "--config",
        s(&config),
        "--out",
        s(&out_dir),
    ]));
    assert!(err.contains("more than the 1048576"), "{err}");
}

#[test]
fn a_checkpoint_that_is_not_a_regular_file_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = trainer(&["train", "--max-steps", "1", "--quiet", "--out", s(&run)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checkpoint = run.join("checkpoint.safetensors");
    std::fs::remove_file(&checkpoint).unwrap();
    assert!(Command::new("mkfifo")
        .arg(&checkpoint)
        .status()
        .unwrap()
        .success());
    let err = refused(&trainer(&["train", "--resume", s(&run)]));
    assert!(err.contains("checkpoint.safetensors: is a FIFO"), "{err}");
    std::fs::remove_file(&checkpoint).unwrap();
    std::fs::create_dir(&checkpoint).unwrap();
    let err = refused(&trainer(&["train", "--resume", s(&run)]));
    assert!(
        err.contains("checkpoint.safetensors: is a directory"),
        "{err}"
    );
}

/// A gzip of `bytes`, compressed as far as it goes.
fn gzip_best(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn a_gzip_bomb_in_the_data_folder_is_refused_within_bounded_memory() {
    // 4 MB on disk: a header claiming 5,000,000 x 28 x 28 images, then 4 GiB of zeros in
    // 64 gzip members; enough to justify reserving the 3.9 GB the header claims.
    let mut bomb = gzip_best(&[0, 0, 8, 3, 0, 0x4c, 0x4b, 0x40, 0, 0, 0, 28, 0, 0, 0, 28]);
    let zeros = gzip_best(&vec![0u8; 64 << 20]);
    for _ in 0..64 {
        bomb.extend_from_slice(&zeros);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist");
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        std::fs::copy(repo.join(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("train-images-idx3-ubyte.gz"), &bomb).unwrap();
    let out_dir = dir.path().join("run");
    // 1 GiB of address space: inflating or reserving what the header claims cannot fit.
    let out = Command::new("sh")
        .args([
            "-c",
            "ulimit -v 1048576 && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_trainer"),
            "train",
            "--data-dir",
            s(dir.path()),
            "--out",
            s(&out_dir),
        ])
        .output()
        .unwrap();
    let err = refused(&out);
    assert!(
        err.contains("[5000000, 28, 28]") && err.contains("[60000, 28, 28]"),
        "{err}"
    );
    assert!(!out_dir.exists());
}

/// Overwrites element `index` of tensor `name` in the safetensors file at `path` with `value`.
fn poke_f32(path: &Path, name: &str, index: usize, value: f32) {
    let mut bytes = std::fs::read(path).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    let start = header[name]["data_offsets"][0].as_u64().unwrap() as usize;
    let at = 8 + header_len + start + 4 * index;
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_checkpoint_with_a_nan_weight_is_refused_naming_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = trainer(&["train", "--max-steps", "1", "--quiet", "--out", s(&run)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    poke_f32(
        &run.join("checkpoint.safetensors"),
        "fc2.weight",
        7,
        f32::NAN,
    );
    let err = refused(&trainer(&["train", "--resume", s(&run), "--epochs", "2"]));
    assert!(
        err.contains("checkpoint.safetensors: tensor `fc2.weight` holds NaN at index 7"),
        "{err}"
    );
    assert!(!err.contains("learning rate"), "{err}");
}
