//! `trainer data fetch` against a hostile mirror on 127.0.0.1: a server that trickles bytes
//! (never stalling long enough for a per-read timeout) must fail after `--timeout` for the
//! whole file, and a small gzip bomb whose header claims 5,000,000 images must be refused from
//! its header: the download cap covers the decompressed bytes too. Nothing is left behind.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Serve every request with `respond` on its own thread; returns the base URL.
fn serve(respond: fn(&str, TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
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
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                respond(path.trim_start_matches('/'), stream);
            });
        }
    });
    url
}

/// Run the trainer with `args`, killing it (and failing) if it runs longer than `limit`.
fn run_with_deadline(mut command: Command, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = start.elapsed();
    (child.wait_with_output().unwrap(), elapsed)
}

/// Headers promising a 26 MB file, then one byte every 200 ms: each read succeeds well
/// within any per-read timeout, so only a whole-file bound ends it.
fn trickle(_path: &str, mut stream: TcpStream) {
    let head = "HTTP/1.1 200 OK\r\nContent-Length: 26421880\r\nConnection: close\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    for _ in 0..600 {
        if stream
            .write_all(&[0x1f])
            .and_then(|_| stream.flush())
            .is_err()
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_trickling_server_fails_after_the_timeout_for_the_whole_file() {
    let url = serve(trickle);
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_trainer"));
    command.args([
        "data",
        "fetch",
        "--dir",
        dir.path().to_str().unwrap(),
        "--base-url",
        &url,
        "--timeout",
        "2",
        "--retries",
        "0",
    ]);
    let (out, elapsed) = run_with_deadline(command, Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}: {err}");
    assert!(
        err.contains("timed out") && err.contains("whole file took longer than 2 s"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing left"
    );
}

fn gzip_best(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A 4 MB gzip (many members) holding an IDX header that claims 5,000,000 x 28 x 28 images
/// and 4 GiB of zeros: small enough to pass the download's byte cap, enough to justify
/// reserving the 3.9 GB the header claims.
fn bomb() -> Vec<u8> {
    let mut out = gzip_best(&[0, 0, 8, 3, 0, 0x4c, 0x4b, 0x40, 0, 0, 0, 28, 0, 0, 0, 28]);
    let zeros = gzip_best(&vec![0u8; 64 << 20]);
    for _ in 0..64 {
        out.extend_from_slice(&zeros);
    }
    out
}

fn serve_bomb(path: &str, mut stream: TcpStream) {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    if path != "train-images-idx3-ubyte.gz" {
        let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    let body = BOMB.get_or_init(bomb);
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(body));
}

#[test]
fn a_gzip_bomb_from_a_mirror_is_refused_from_its_header_within_bounded_memory() {
    let url = serve(serve_bomb);
    let dir = tempfile::tempdir().unwrap();
    // 1 GiB of address space: inflating (or reserving) what the header claims cannot fit.
    let mut command = Command::new("sh");
    command.args([
        "-c",
        "ulimit -v 1048576 && exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_trainer"),
        "data",
        "fetch",
        "--dir",
        dir.path().to_str().unwrap(),
        "--base-url",
        &url,
        "--retries",
        "0",
    ]);
    let (out, elapsed) = run_with_deadline(command, Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("[5000000, 28, 28]") && err.contains("larger than"),
        "{err}"
    );
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing left"
    );
}
