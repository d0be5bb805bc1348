//! `trainer data inspect|verify|fetch` as a user runs them: the built binary, real files,
//! bad files, and a fetch from a tiny HTTP server on 127.0.0.1 serving the repository's data.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn trainer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fashion-mnist")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn inspect_prints_the_header_and_per_class_counts_of_the_labels() {
    let file = data_dir().join("train-labels-idx1-ubyte.gz");
    let out = trainer(&["data", "inspect", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("type: u8"), "{text}");
    assert!(text.contains("dims: [60000]"), "{text}");
    for (class, name) in [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
    .iter()
    .enumerate()
    {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{class} {name} ")))
            .unwrap_or_else(|| panic!("no line for class {class}: {text}"));
        assert!(line.trim_end().ends_with(" 6000"), "{line}");
    }
}

#[test]
fn inspect_summarises_images() {
    let file = data_dir().join("t10k-images-idx3-ubyte.gz");
    let out = trainer(&["data", "inspect", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("dims: [10000, 28, 28]"), "{text}");
    assert!(
        text.contains("min: 0") && text.contains("max: 255"),
        "{text}"
    );
    // Mean pixel of the Fashion-MNIST test set, computed independently (Python gzip + sum): 73.146566581...
    assert!(text.contains("mean: 73.1465"), "{text}");
}

#[test]
fn inspect_of_a_bad_file_fails_with_the_problem_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad-labels.idx");
    // Claims 100 labels, holds 3.
    std::fs::write(&bad, [0, 0, 8, 1, 0, 0, 0, 100, 1, 2, 3]).unwrap();
    let out = trainer(&["data", "inspect", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("bad-labels.idx") && err.contains("100 payload bytes"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
    let missing = trainer(&["data", "inspect", "/nonexistent/file.gz"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("/nonexistent/file.gz"));
}

#[test]
fn verify_passes_on_the_repository_data_and_fails_on_a_damaged_copy() {
    let out = trainer(&["data", "verify", "--dir", data_dir().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("ok ")).count(),
        4,
        "{text}"
    );
    assert!(text.contains("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"));

    // A copy with one file's labels altered: that file fails, the others pass.
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
    ] {
        std::fs::copy(data_dir().join(name), dir.path().join(name)).unwrap();
    }
    let mut labels = vec![0u8, 0, 8, 1, 0, 0, 0x27, 0x10];
    labels.extend((0..10000).map(|i| (i % 10) as u8));
    std::fs::write(dir.path().join("t10k-labels-idx1-ubyte"), labels).unwrap();
    let out = trainer(&["data", "verify", "--dir", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let text = stdout(&out);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("ok ")).count(),
        3,
        "{text}"
    );
    let fail = text.lines().find(|l| l.starts_with("FAIL")).unwrap();
    assert!(
        fail.contains("t10k-labels-idx1-ubyte") && fail.contains("SHA-256"),
        "{fail}"
    );
    assert!(stderr(&out).contains("trainer data fetch"));
}

/// Serve `dir`'s files over HTTP on 127.0.0.1 (404 for anything else); returns the base URL.
fn serve_dir(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let dir = dir.clone();
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request).into_owned();
                let name = text
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .trim_start_matches('/');
                let _ = match std::fs::read(dir.join(name)) {
                    Ok(body) if !name.contains('/') && !name.is_empty() => stream
                        .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes())
                        .and_then(|_| stream.write_all(&body)),
                    _ => stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                };
            });
        }
    });
    url
}

#[test]
fn fetch_downloads_verifies_and_is_then_a_no_op() {
    let url = serve_dir(data_dir());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("fm");
    let out = trainer(&[
        "data",
        "fetch",
        "--dir",
        target.to_str().unwrap(),
        "--base-url",
        &url,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("plain HTTP"),
        "an explicit http URL is noted"
    );
    for name in [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        assert_eq!(
            std::fs::read(target.join(name)).unwrap(),
            std::fs::read(data_dir().join(name)).unwrap(),
            "{name}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&target).unwrap().count(),
        4,
        "no temporary files remain"
    );
    let again = trainer(&[
        "data",
        "fetch",
        "--dir",
        target.to_str().unwrap(),
        "--base-url",
        &url,
    ]);
    assert!(again.status.success());
    assert_eq!(
        stdout(&again).matches("present and valid").count(),
        4,
        "{}",
        stdout(&again)
    );
}

#[test]
fn fetch_from_a_server_without_the_files_fails_and_leaves_nothing() {
    let empty = tempfile::tempdir().unwrap();
    let url = serve_dir(empty.path().to_path_buf());
    let dir = tempfile::tempdir().unwrap();
    let out = trainer(&[
        "data",
        "fetch",
        "--dir",
        dir.path().to_str().unwrap(),
        "--base-url",
        &url,
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("404") && err.contains("train-images-idx3-ubyte.gz"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // A scheme other than https/http is refused before any request.
    let out = trainer(&[
        "data",
        "fetch",
        "--dir",
        dir.path().to_str().unwrap(),
        "--base-url",
        "ftp://example.invalid/",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("https://"), "{}", stderr(&out));
}

#[test]
fn every_data_subcommand_has_an_example_in_its_help() {
    for sub in ["inspect", "verify", "fetch"] {
        let out = trainer(&["data", sub, "--help"]);
        assert!(out.status.success());
        let text = stdout(&out);
        assert!(
            text.contains(&format!("trainer data {sub}")),
            "{sub}: {text}"
        );
    }
}

/// A `$FASHION_MNIST_DIR` that is not a data directory is passed over to the next place, and
/// stderr says so: the variable, its path and what is wrong with it.
#[test]
fn a_fashion_mnist_dir_without_the_files_is_named_in_a_warning_and_passed_over() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nothing-here");
    let incomplete = tmp.path().join("incomplete");
    std::fs::create_dir(&incomplete).unwrap();
    std::fs::copy(
        data_dir().join("t10k-labels-idx1-ubyte.gz"),
        incomplete.join("t10k-labels-idx1-ubyte.gz"),
    )
    .unwrap();
    let cases: [(&Path, &str, &[&str]); 3] = [
        (&missing, "no such directory", &["data", "verify"]),
        (
            &incomplete,
            "missing train-images-idx3-ubyte",
            &["data", "verify"],
        ),
        (
            &missing,
            "no such directory",
            &["train", "--epochs", "1", "--max-steps", "1", "--quiet"],
        ),
    ];
    for (env, why, args) in cases {
        let out_dir = tmp.path().join("run");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_trainer"));
        cmd.args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("FASHION_MNIST_DIR", env);
        if args[0] == "train" {
            cmd.arg("--out").arg(&out_dir);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let warning = format!("warning: $FASHION_MNIST_DIR is {} (", env.display());
        let err = stderr(&out);
        let line = err
            .lines()
            .find(|l| l.starts_with(&warning))
            .unwrap_or_else(|| panic!("{args:?}: no warning naming the variable: {err}"));
        assert!(line.contains(why), "{line}");
        assert!(
            line.ends_with(&format!("using {} instead", data_dir().display())),
            "{line}"
        );
    }
    // A good $FASHION_MNIST_DIR draws no warning.
    let out = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(["data", "verify"])
        .env("FASHION_MNIST_DIR", data_dir())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

/// `data verify`'s columns line up: the shape and the checksum start at the same column on
/// every line, whatever the length of the file name.
#[test]
fn verify_lines_up_its_columns() {
    let out = trainer(&["data", "verify", "--dir", data_dir().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("ok ")).collect();
    assert_eq!(lines.len(), 4, "{text}");
    for column in ["u8 [", "sha256 "] {
        let at: Vec<Option<usize>> = lines.iter().map(|l| l.find(column)).collect();
        assert!(at[0].is_some(), "{text}");
        assert!(
            at.iter().all(|a| *a == at[0]),
            "`{column}` at {at:?}:\n{text}"
        );
    }
}
