//! Downloads against a tiny HTTP server on 127.0.0.1 started inside each test: success,
//! no-op when present, 404, checksum mismatch, truncated body, stalls (before the headers and
//! mid-body), retries with backoff on 5xx and dropped connections, mirror fallback, oversize
//! bodies, URL scheme rules; and after every failure no partial or temporary file remains.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fashion::download::{fetch_with, BaseUrl, FetchOptions, Outcome, Progress};
use fashion::idx::{self, IdxArray, IdxData};
use fashion::verify::sha256_hex;
use fashion::{Dataset, Error, FileRole, FileSpec, Split};

/// What the server does with one request.
#[derive(Clone)]
enum Reply {
    /// 200 with this body.
    Body(Vec<u8>),
    /// This status, empty body.
    Status(u16),
    /// 200 claiming `claimed` bytes, sending `body`, then closing.
    Truncated { body: Vec<u8>, claimed: usize },
    /// Accept, read the request, answer nothing for a long time.
    StallBeforeHeaders,
    /// Send the headers and half the body, then go silent.
    StallMidBody(Vec<u8>),
    /// Close the connection without answering.
    Hangup,
    /// Send the headers, then the body one byte every 100 ms: never silent long enough for
    /// a per-read timeout.
    Trickle(Vec<u8>),
}

/// A server whose reply depends on the request path and the number of earlier requests.
struct Server {
    url: String,
    requests: Arc<AtomicUsize>,
}

fn serve(reply: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    let reply = Arc::new(reply);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let reply = Arc::clone(&reply);
            std::thread::spawn(move || handle(stream, n, &*reply));
        }
    });
    Server { url, requests }
}

fn handle(mut stream: TcpStream, n: usize, reply: &(dyn Fn(&str, usize) -> Reply + Sync)) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(k) => request.extend_from_slice(&buf[..k]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let ok = |len: usize| {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
    };
    let _ = match reply(&path, n) {
        Reply::Body(body) => stream
            .write_all(ok(body.len()).as_bytes())
            .and_then(|_| stream.write_all(&body)),
        Reply::Status(code) => stream.write_all(
            format!("HTTP/1.1 {code} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        ),
        Reply::Truncated { body, claimed } => stream
            .write_all(ok(claimed).as_bytes())
            .and_then(|_| stream.write_all(&body)),
        Reply::StallBeforeHeaders => {
            std::thread::sleep(Duration::from_secs(10));
            Ok(())
        }
        Reply::StallMidBody(body) => {
            let half = body.len() / 2;
            let r = stream
                .write_all(ok(body.len()).as_bytes())
                .and_then(|_| stream.write_all(&body[..half]))
                .and_then(|_| stream.flush());
            std::thread::sleep(Duration::from_secs(10));
            r
        }
        Reply::Hangup => Ok(()),
        Reply::Trickle(body) => {
            let mut r = stream.write_all(ok(body.len()).as_bytes());
            for byte in &body {
                if r.is_err() {
                    break;
                }
                r = stream.write_all(&[*byte]).and_then(|_| stream.flush());
                std::thread::sleep(Duration::from_millis(100));
            }
            r
        }
    };
}

/// A tiny dataset (train 6 images 2x2, test 2 images) as gzipped files, with its specs.
struct Tiny {
    files: Vec<(String, Vec<u8>)>,
    specs: Vec<FileSpec>,
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn tiny() -> Tiny {
    let arrays = [
        (
            "train-images-idx3-ubyte",
            FileRole::Images,
            vec![6, 2, 2],
            (0..24).collect::<Vec<u8>>(),
        ),
        (
            "train-labels-idx1-ubyte",
            FileRole::Labels,
            vec![6],
            vec![0, 1, 2, 3, 4, 9],
        ),
        (
            "t10k-images-idx3-ubyte",
            FileRole::Images,
            vec![2, 2, 2],
            vec![200; 8],
        ),
        (
            "t10k-labels-idx1-ubyte",
            FileRole::Labels,
            vec![2],
            vec![5, 6],
        ),
    ];
    let mut files = Vec::new();
    let mut specs = Vec::new();
    for (name, role, dims, data) in arrays {
        let plain = idx::encode(&IdxArray::new(dims.clone(), IdxData::U8(data)).unwrap());
        specs.push(FileSpec {
            name: name.to_string(),
            role,
            dims,
            sha256: Some(sha256_hex(&[&plain])),
        });
        files.push((format!("/{name}.gz"), gzip(&plain)));
    }
    Tiny { files, specs }
}

impl Tiny {
    fn body(&self, path: &str) -> Option<Vec<u8>> {
        self.files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
    }
}

fn options(base_urls: Vec<BaseUrl>, specs: Vec<FileSpec>) -> FetchOptions {
    FetchOptions {
        base_urls,
        files: specs,
        timeout: Duration::from_millis(300),
        connect_timeout: Duration::from_millis(300),
        retries: 2,
        backoff: Duration::from_millis(10),
    }
}

/// Every entry of `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn attempts(e: Error) -> Vec<Error> {
    match e {
        Error::DownloadFailed { attempts, .. } => attempts,
        other => panic!("expected DownloadFailed, got {other}"),
    }
}

#[test]
fn downloads_verifies_and_then_is_a_no_op() {
    let data = Arc::new(tiny());
    let served = Arc::clone(&data);
    let server = serve(move |path, _| served.body(path).map_or(Reply::Status(404), Reply::Body));
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("nested/tiny");
    let opts = options(
        vec![BaseUrl::Explicit(server.url.clone())],
        data.specs.clone(),
    );
    let mut bytes_events = 0;
    let fetched = fetch_with(&target, &opts, &mut |p| {
        if let Progress::Bytes { done, total, .. } = p {
            assert!(total.is_some_and(|t| done <= t));
            bytes_events += 1;
        }
    })
    .unwrap();
    assert_eq!(fetched.len(), 4);
    assert!(bytes_events >= 4);
    for (f, (path, body)) in fetched.iter().zip(&data.files) {
        assert_eq!(
            f.outcome,
            Outcome::Downloaded {
                url: format!("{}{}", server.url, &path[1..])
            }
        );
        assert_eq!(std::fs::read(target.join(&path[1..])).unwrap(), *body);
    }
    assert_eq!(
        listing(&target),
        [
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz"
        ]
    );
    let train = Dataset::load(&target, Split::Train).unwrap();
    assert_eq!(train.labels, vec![0, 1, 2, 3, 4, 9]);

    // Second run: everything valid, no request made.
    let before = server.requests.load(Ordering::SeqCst);
    let again = fetch_with(&target, &opts, &mut |_| {}).unwrap();
    assert!(again.iter().all(|f| f.outcome == Outcome::AlreadyValid));
    assert_eq!(server.requests.load(Ordering::SeqCst), before);

    // A damaged file is replaced; the valid ones are left alone.
    std::fs::write(target.join("t10k-labels-idx1-ubyte.gz"), b"junk").unwrap();
    let repaired = fetch_with(&target, &opts, &mut |_| {}).unwrap();
    assert_eq!(server.requests.load(Ordering::SeqCst), before + 1);
    assert!(matches!(repaired[3].outcome, Outcome::Downloaded { .. }));
    assert!(Dataset::load(&target, Split::Test).is_ok());
}

#[test]
fn not_found_fails_at_once_and_leaves_nothing() {
    let server = serve(|_, _| Reply::Status(404));
    let dir = tempfile::tempdir().unwrap();
    let opts = options(vec![BaseUrl::Explicit(server.url.clone())], tiny().specs);
    let e = fetch_with(dir.path(), &opts, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("train-images-idx3-ubyte.gz"), "{e}");
    let a = attempts(e);
    assert_eq!(a.len(), 1, "a 404 is not retried");
    assert!(matches!(a[0], Error::HttpStatus { status: 404, .. }));
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn checksum_mismatch_is_refused_and_leaves_nothing() {
    let data = tiny();
    let mut specs = data.specs.clone();
    // Same dims, different published checksum: the file served is "not the published one".
    specs[0].sha256 = Some("00".repeat(32));
    let served = data.files.clone();
    let server = serve(move |path, _| {
        Reply::Body(served.iter().find(|(p, _)| p == path).unwrap().1.clone())
    });
    let dir = tempfile::tempdir().unwrap();
    let e = fetch_with(
        dir.path(),
        &options(vec![BaseUrl::Explicit(server.url.clone())], specs),
        &mut |_| {},
    )
    .unwrap_err();
    let a = attempts(e);
    assert_eq!(
        a.len(),
        1,
        "a checksum mismatch is not retried on the same server"
    );
    match &a[0] {
        Error::ChecksumMismatch {
            file,
            expected,
            actual,
        } => {
            assert!(file
                .to_string_lossy()
                .contains("train-images-idx3-ubyte.gz"));
            assert_eq!(*expected, "00".repeat(32));
            assert_eq!(Some(actual), data.specs[0].sha256.as_ref());
        }
        other => panic!("unexpected {other}"),
    }
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn truncated_body_is_retried_then_fails_leaving_nothing() {
    let body = tiny().files[0].1.clone();
    let server = serve(move |_, _| Reply::Truncated {
        body: body[..body.len() / 2].to_vec(),
        claimed: body.len(),
    });
    let dir = tempfile::tempdir().unwrap();
    let opts = options(vec![BaseUrl::Explicit(server.url.clone())], tiny().specs);
    let a = attempts(fetch_with(dir.path(), &opts, &mut |_| {}).unwrap_err());
    assert_eq!(a.len(), 3, "one try and two retries");
    assert!(
        a.iter().all(|e| matches!(e, Error::Network { .. })),
        "{a:?}"
    );
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn a_stalled_server_times_out_quickly_and_leaves_nothing() {
    for stall_mid_body in [false, true] {
        let body = tiny().files[0].1.clone();
        let server = serve(move |_, _| {
            if stall_mid_body {
                Reply::StallMidBody(body.clone())
            } else {
                Reply::StallBeforeHeaders
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let mut opts = options(vec![BaseUrl::Explicit(server.url.clone())], tiny().specs);
        opts.retries = 1;
        let start = Instant::now();
        let a = attempts(fetch_with(dir.path(), &opts, &mut |_| {}).unwrap_err());
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "took {:?}",
            start.elapsed()
        );
        assert_eq!(a.len(), 2);
        assert!(
            a.iter().all(|e| matches!(e, Error::Timeout { .. })),
            "{a:?}"
        );
        assert!(listing(dir.path()).is_empty(), "mid-body {stall_mid_body}");
    }
}

#[test]
fn transient_errors_are_retried_with_doubling_backoff() {
    let data = Arc::new(tiny());
    let served = Arc::clone(&data);
    // First request: 503; second: connection dropped; then the files.
    let server = serve(move |path, n| match n {
        0 => Reply::Status(503),
        1 => Reply::Hangup,
        _ => Reply::Body(served.body(path).unwrap()),
    });
    let dir = tempfile::tempdir().unwrap();
    let opts = options(
        vec![BaseUrl::Explicit(server.url.clone())],
        data.specs.clone(),
    );
    let mut waits = Vec::new();
    let fetched = fetch_with(dir.path(), &opts, &mut |p| {
        if let Progress::AttemptFailed {
            error, retry_in, ..
        } = p
        {
            assert!(error.is_transient());
            waits.push(retry_in);
        }
    })
    .unwrap();
    assert_eq!(
        waits,
        vec![
            Some(Duration::from_millis(10)),
            Some(Duration::from_millis(20))
        ]
    );
    assert_eq!(server.requests.load(Ordering::SeqCst), 6);
    assert!(fetched
        .iter()
        .all(|f| matches!(f.outcome, Outcome::Downloaded { .. })));
    assert_eq!(listing(dir.path()).len(), 4);
}

#[test]
fn falls_back_to_the_next_mirror() {
    let data = Arc::new(tiny());
    let served = Arc::clone(&data);
    let broken = serve(|_, _| Reply::Status(404));
    let good = serve(move |path, _| Reply::Body(served.body(path).unwrap()));
    let dir = tempfile::tempdir().unwrap();
    let opts = options(
        vec![
            BaseUrl::Explicit(broken.url.clone()),
            BaseUrl::Explicit(good.url.clone()),
        ],
        data.specs.clone(),
    );
    let fetched = fetch_with(dir.path(), &opts, &mut |_| {}).unwrap();
    for f in &fetched {
        match &f.outcome {
            Outcome::Downloaded { url } => assert!(url.starts_with(&good.url), "{url}"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(broken.requests.load(Ordering::SeqCst), 4);
}

#[test]
fn an_oversized_body_is_refused() {
    // 2 MB of zeros for a file that can be at most a few hundred bytes.
    let server = serve(|_, _| Reply::Body(vec![0; 2 << 20]));
    let dir = tempfile::tempdir().unwrap();
    let opts = options(vec![BaseUrl::Explicit(server.url.clone())], tiny().specs);
    let a = attempts(fetch_with(dir.path(), &opts, &mut |_| {}).unwrap_err());
    assert!(matches!(a[0], Error::DownloadTooLarge { .. }), "{a:?}");
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn plain_http_only_when_given_explicitly() {
    let server = serve(|_, _| Reply::Status(500));
    let dir = tempfile::tempdir().unwrap();
    // A built-in mirror over plain HTTP is refused before any request.
    let opts = options(vec![BaseUrl::Mirror(server.url.clone())], tiny().specs);
    let e = fetch_with(dir.path(), &opts, &mut |_| {}).unwrap_err();
    assert!(matches!(e, Error::BadUrl { .. }), "{e}");
    assert!(e.to_string().contains("https"));
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);
    // Other schemes and garbage are refused even when explicit.
    for bad in ["ftp://example.invalid/", "file:///etc/", "not a url"] {
        let opts = options(vec![BaseUrl::Explicit(bad.to_string())], tiny().specs);
        assert!(matches!(
            fetch_with(dir.path(), &opts, &mut |_| {}),
            Err(Error::BadUrl { .. })
        ));
    }
    assert!(listing(dir.path()).is_empty());
    // The built-in mirrors are all HTTPS.
    for kind in [
        fashion::DatasetKind::FashionMnist,
        fashion::DatasetKind::Mnist,
    ] {
        for url in FetchOptions::new(kind, None).base_urls {
            assert!(
                matches!(&url, BaseUrl::Mirror(u) if u.starts_with("https://")),
                "{url:?}"
            );
        }
    }
}

#[test]
fn a_trickling_server_is_bounded_by_the_timeout_for_the_whole_file() {
    let body = tiny().files[0].1.clone();
    let server = serve(move |_, _| Reply::Trickle(body.clone()));
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(vec![BaseUrl::Explicit(server.url.clone())], tiny().specs);
    opts.timeout = Duration::from_millis(700);
    opts.retries = 0;
    let start = Instant::now();
    let a = attempts(fetch_with(dir.path(), &opts, &mut |_| {}).unwrap_err());
    // Each byte comes well within the 700 ms per-read timeout; the body (~60 bytes) would
    // take 6 s. The whole-file bound ends it after 0.7 s plus at most one read's wait.
    assert!(
        start.elapsed() < Duration::from_millis(1600),
        "{:?}",
        start.elapsed()
    );
    assert!(
        matches!(&a[..], [Error::Timeout { detail, .. }] if detail.contains("whole file")),
        "{a:?}"
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn a_mirror_serving_a_gzip_bomb_is_refused_from_its_header() {
    // Within the byte cap on what is downloaded, but its header claims 5,000,000 images
    // where the spec holds 6: refused before any payload is inflated.
    let mut bomb = gzip(&[0, 0, 8, 3, 0, 0x4c, 0x4b, 0x40, 0, 0, 0, 2, 0, 0, 0, 2]);
    bomb.extend_from_slice(&gzip(&[0u8; 64]));
    let server = serve(move |_, _| Reply::Body(bomb.clone()));
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(vec![BaseUrl::Explicit(server.url.clone())], tiny().specs);
    opts.retries = 0;
    let a = attempts(fetch_with(dir.path(), &opts, &mut |_| {}).unwrap_err());
    assert!(
        matches!(&a[..], [Error::LargerThanExpected { dims, .. }] if dims == &[5_000_000, 2, 2]),
        "{a:?}"
    );
    assert!(listing(dir.path()).is_empty());
}
