//! Verified downloads: mirrors, retries with backoff, timeouts, atomic writes.
//!
//! For each file of the dataset, in order:
//! 1. if `DIR/NAME.gz` (or `DIR/NAME`) already passes [`verify_file`], nothing is fetched;
//! 2. otherwise each base URL is tried in turn: `GET <base>/NAME.gz` streams into a fresh
//!    temporary file `DIR/.NAME.gz.<pid>.<n>.part`; a transient failure (timeout, connection
//!    error, body cut short, 5xx or 429) is retried on the same URL after `backoff`, doubled
//!    each time, up to `retries` times; any other failure (404, checksum mismatch, oversize
//!    body) moves on to the next URL;
//! 3. the downloaded file is verified (header, dims, labels, SHA-256 of the decompressed
//!    bytes), synced, and only then renamed over `DIR/NAME.gz`.
//!
//! The temporary file is removed on every failure path (a drop guard), so nothing partial is
//! left behind. Default mirrors must be HTTPS; plain HTTP is accepted only for a base URL the
//! user gave explicitly ([`BaseUrl::Explicit`]), and a redirect from HTTPS to HTTP is refused.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::dataset::resolve_file;
use crate::sources::{DatasetKind, FileSpec};
use crate::verify::{verify_file, Verified};
use crate::Error;

/// Where to fetch from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaseUrl {
    /// A built-in mirror: must be `https://`.
    Mirror(String),
    /// A base URL the user gave explicitly: `https://`, or `http://` by their choice.
    Explicit(String),
}

impl BaseUrl {
    /// The URL text.
    pub fn as_str(&self) -> &str {
        match self {
            BaseUrl::Mirror(u) | BaseUrl::Explicit(u) => u,
        }
    }

    /// The URL of file `name` under this base, after checking the scheme.
    pub fn file_url(&self, name: &str) -> Result<String, Error> {
        let base = self.as_str();
        let parsed = reqwest::Url::parse(base).map_err(|e| Error::BadUrl {
            url: base.to_string(),
            reason: format!("not a valid URL ({e})"),
        })?;
        let allowed = match self {
            BaseUrl::Mirror(_) => parsed.scheme() == "https",
            BaseUrl::Explicit(_) => matches!(parsed.scheme(), "https" | "http"),
        };
        if !allowed {
            return Err(Error::BadUrl {
                url: base.to_string(),
                reason: match self {
                    BaseUrl::Mirror(_) => "built-in mirrors must use https://".to_string(),
                    BaseUrl::Explicit(_) => {
                        "only https:// (or an explicit http://) base URLs are supported".to_string()
                    }
                },
            });
        }
        Ok(format!("{}/{name}", base.trim_end_matches('/')))
    }
}

/// The default [`FetchOptions::timeout`]: 120 s, for each read and for each whole file. The
/// largest file (26 MB of training images) then needs at least 220 KB/s, and a stalled server
/// is given up on after two minutes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Everything [`fetch_with`] needs; [`FetchOptions::new`] gives the defaults for a dataset.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Base URLs tried in order.
    pub base_urls: Vec<BaseUrl>,
    /// The files to fetch and what they must contain (injectable for tests).
    pub files: Vec<FileSpec>,
    /// Longest wait for a response, for each read of the body (a stalled server), and for
    /// each whole file (a server that trickles bytes just fast enough never stalls).
    pub timeout: Duration,
    /// Longest wait to establish a connection.
    pub connect_timeout: Duration,
    /// Extra attempts per URL after a transient failure.
    pub retries: u32,
    /// Wait before the first retry; doubled before each further one.
    pub backoff: Duration,
}

impl FetchOptions {
    /// Defaults for `kind`: its HTTPS mirrors, or only `base_url` when one is given (which
    /// may then be plain HTTP, by the caller's explicit choice); a [`DEFAULT_TIMEOUT`] for
    /// each read and each whole file, 15 s to connect, 3 retries, backoff from 1 s.
    pub fn new(kind: DatasetKind, base_url: Option<&str>) -> FetchOptions {
        let base_urls = match base_url {
            Some(url) => vec![BaseUrl::Explicit(url.to_string())],
            None => kind
                .mirrors()
                .iter()
                .map(|m| BaseUrl::Mirror(m.to_string()))
                .collect(),
        };
        FetchOptions {
            base_urls,
            files: kind.files(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: Duration::from_secs(15),
            retries: 3,
            backoff: Duration::from_secs(1),
        }
    }
}

/// Progress events, for a progress bar or a log.
#[derive(Debug)]
pub enum Progress<'a> {
    /// The file is already present and valid; nothing is downloaded.
    AlreadyValid {
        /// File name.
        file: &'a str,
    },
    /// A request succeeded and the body is starting.
    Started {
        /// File name.
        file: &'a str,
        /// URL being fetched.
        url: &'a str,
        /// Content-Length, if the server sent one.
        total: Option<u64>,
    },
    /// More of the body has arrived.
    Bytes {
        /// File name.
        file: &'a str,
        /// Bytes received so far.
        done: u64,
        /// Content-Length, if known.
        total: Option<u64>,
    },
    /// An attempt failed; `retry_in` is `Some(wait)` when the same URL is retried after
    /// `wait`, `None` when the next URL (if any) is tried instead.
    AttemptFailed {
        /// File name.
        file: &'a str,
        /// URL that failed.
        url: &'a str,
        /// Why.
        error: &'a Error,
        /// Wait before retrying the same URL, if it is retried.
        retry_in: Option<Duration>,
    },
    /// The file was downloaded, verified and moved into place.
    Done {
        /// File name.
        file: &'a str,
        /// Where it now is.
        path: &'a Path,
    },
}

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It was already present and valid.
    AlreadyValid,
    /// It was downloaded from this URL.
    Downloaded {
        /// The URL it came from.
        url: String,
    },
}

/// One file's result: where it is, how it got there, and its verification.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The file's base name.
    pub name: String,
    /// What happened.
    pub outcome: Outcome,
    /// The verification of the file now in place.
    pub verified: Verified,
}

/// Fetch the four files of `kind` into `dir` (created if needed) from its HTTPS mirrors, or
/// from `base_url` only when one is given, with the default timeouts and retries.
pub fn fetch(
    kind: DatasetKind,
    dir: &Path,
    base_url: Option<&str>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<Fetched>, Error> {
    fetch_with(dir, &FetchOptions::new(kind, base_url), progress)
}

/// Fetch every file of `options.files` into `dir`; see the module docs for the procedure.
/// Stops at the first file that cannot be obtained.
pub fn fetch_with(
    dir: &Path,
    options: &FetchOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<Fetched>, Error> {
    for base in &options.base_urls {
        base.file_url("")?;
    }
    fs::create_dir_all(dir).map_err(|source| Error::Io {
        file: dir.to_path_buf(),
        source,
    })?;
    let client = build_client(options)?;
    let mut fetched = Vec::with_capacity(options.files.len());
    for spec in &options.files {
        if let Ok(verified) = resolve_file(dir, &spec.name).and_then(|p| verify_file(&p, spec)) {
            progress(Progress::AlreadyValid { file: &spec.name });
            fetched.push(Fetched {
                name: spec.name.clone(),
                outcome: Outcome::AlreadyValid,
                verified,
            });
            continue;
        }
        fetched.push(fetch_file(&client, dir, spec, options, progress)?);
    }
    Ok(fetched)
}

fn build_client(options: &FetchOptions) -> Result<reqwest::blocking::Client, Error> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let downgrade = attempt.url().scheme() == "http"
            && attempt.previous().iter().any(|u| u.scheme() == "https");
        if downgrade {
            attempt.error("refusing a redirect from https:// to http://")
        } else if attempt.previous().len() > 10 {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    });
    reqwest::blocking::Client::builder()
        .timeout(options.timeout)
        .connect_timeout(options.connect_timeout)
        .redirect(policy)
        .user_agent(concat!("fashion-trainer/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Network {
            url: String::new(),
            detail: format!("cannot set up the HTTP client: {e}"),
        })
}

/// Try every base URL (with retries) for one file.
fn fetch_file(
    client: &reqwest::blocking::Client,
    dir: &Path,
    spec: &FileSpec,
    options: &FetchOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Fetched, Error> {
    let gz_name = format!("{}.gz", spec.name);
    let final_path = dir.join(&gz_name);
    // Neither gzip nor a plain copy can legitimately be much larger than the data.
    let bounds = Bounds {
        max_bytes: spec.decompressed_len().saturating_mul(65) / 64 + 65536,
        timeout: options.timeout,
    };
    let mut attempts = Vec::new();
    for base in &options.base_urls {
        let url = base.file_url(&gz_name)?;
        let mut wait = options.backoff;
        for attempt in 0..=options.retries {
            match download_verified(client, &url, dir, &final_path, spec, bounds, progress) {
                Ok(verified) => {
                    progress(Progress::Done {
                        file: &spec.name,
                        path: &final_path,
                    });
                    return Ok(Fetched {
                        name: spec.name.clone(),
                        outcome: Outcome::Downloaded { url },
                        verified,
                    });
                }
                Err(error) => {
                    let retry = error.is_transient() && attempt < options.retries;
                    progress(Progress::AttemptFailed {
                        file: &spec.name,
                        url: &url,
                        error: &error,
                        retry_in: retry.then_some(wait),
                    });
                    attempts.push(error);
                    if !retry {
                        break;
                    }
                    std::thread::sleep(wait);
                    wait = wait.saturating_mul(2);
                }
            }
        }
    }
    Err(Error::DownloadFailed {
        file: gz_name,
        attempts,
    })
}

/// A temporary file that is deleted when dropped unless it has been renamed into place.
struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    fn create(dir: &Path, name: &str) -> Result<TempFile, Error> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".{name}.{}.{n}.part", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| Error::Io {
                file: path.clone(),
                source,
            })?;
        Ok(TempFile {
            path,
            file: Some(file),
        })
    }

    /// Sync and rename over `dest`; afterwards there is nothing left to delete.
    fn persist(mut self, dest: &Path) -> Result<(), Error> {
        let io = |file: &Path| {
            let file = file.to_path_buf();
            move |source| Error::Io { file, source }
        };
        if let Some(file) = self.file.take() {
            file.sync_all().map_err(io(&self.path))?;
        }
        fs::rename(&self.path, dest).map_err(io(dest))?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.file.take();
        if !self.path.as_os_str().is_empty() {
            // Best effort: the file may not exist if creation raced; nothing else to do.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// One attempt: download `url` into a temporary file, verify it, move it to `final_path`.
fn download_verified(
    client: &reqwest::blocking::Client,
    url: &str,
    dir: &Path,
    final_path: &Path,
    spec: &FileSpec,
    bounds: Bounds,
    progress: &mut dyn FnMut(Progress),
) -> Result<Verified, Error> {
    let name = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| spec.name.clone());
    let mut temp = TempFile::create(dir, &name)?;
    download_into(client, url, &mut temp, &spec.name, bounds, progress)?;
    let verified = verify_file(&temp.path, spec).map_err(|e| match e {
        // Report the URL, not the temporary name, for what came over the wire.
        Error::ChecksumMismatch {
            expected, actual, ..
        } => Error::ChecksumMismatch {
            file: PathBuf::from(url),
            expected,
            actual,
        },
        other => other,
    })?;
    temp.persist(final_path)?;
    Ok(Verified {
        path: final_path.to_path_buf(),
        ..verified
    })
}

/// How much one download may take: bytes received, and time for the whole file.
#[derive(Clone, Copy)]
struct Bounds {
    /// The most bytes the body may have (the decompressed file plus gzip's framing): the
    /// decompressed size is bounded separately, by the file's dims, when it is verified.
    max_bytes: u64,
    /// The longest the whole file may take.
    timeout: Duration,
}

/// Stream the body of `url` into `temp`, enforcing the status, the size limit, the
/// Content-Length and the whole-file timeout. The client's own timeout bounds each wait for
/// the server; the whole file is checked after every read, so it takes at most the timeout
/// plus one read's wait.
fn download_into(
    client: &reqwest::blocking::Client,
    url: &str,
    temp: &mut TempFile,
    file: &str,
    bounds: Bounds,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), Error> {
    let start = Instant::now();
    let Bounds {
        max_bytes: limit,
        timeout,
    } = bounds;
    let mut response = client.get(url).send().map_err(|e| classify(url, &e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::HttpStatus {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let total = response.content_length();
    if total.is_some_and(|t| t > limit) {
        return Err(Error::DownloadTooLarge {
            url: url.to_string(),
            limit,
        });
    }
    progress(Progress::Started { file, url, total });
    let out = temp.file.as_mut().ok_or_else(|| Error::Network {
        url: url.to_string(),
        detail: "temporary file already closed".to_string(),
    })?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut done = 0u64;
    loop {
        let n = match response.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(classify_io(url, &e)),
        };
        done += n as u64;
        if start.elapsed() > timeout {
            return Err(Error::Timeout {
                url: url.to_string(),
                detail: format!(
                    "the whole file took longer than {} s; {done} bytes received",
                    timeout.as_secs_f64()
                ),
            });
        }
        if done > limit {
            return Err(Error::DownloadTooLarge {
                url: url.to_string(),
                limit,
            });
        }
        out.write_all(&buf[..n]).map_err(|source| Error::Io {
            file: temp.path.clone(),
            source,
        })?;
        progress(Progress::Bytes { file, done, total });
    }
    if let Some(total) = total.filter(|&t| t != done) {
        return Err(Error::Network {
            url: url.to_string(),
            detail: format!("body cut short: received {done} of {total} bytes"),
        });
    }
    Ok(())
}

/// Map a request error to a timeout, a refused redirect, or a network error.
fn classify(url: &str, e: &reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout {
            url: url.to_string(),
            detail: "no response within the timeout".to_string(),
        }
    } else if e.is_redirect() {
        Error::BadUrl {
            url: url.to_string(),
            reason: format!("bad redirect: {}", error_chain(e)),
        }
    } else {
        Error::Network {
            url: url.to_string(),
            detail: error_chain(e),
        }
    }
}

/// Map an error reading the body to a timeout (a stalled server) or a network error.
fn classify_io(url: &str, e: &std::io::Error) -> Error {
    let reqwest_timeout = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
        .is_some_and(reqwest::Error::is_timeout);
    if reqwest_timeout || e.kind() == std::io::ErrorKind::TimedOut {
        Error::Timeout {
            url: url.to_string(),
            detail: "the server stopped sending".to_string(),
        }
    } else {
        Error::Network {
            url: url.to_string(),
            detail: format!("body cut short: {}", error_chain(e)),
        }
    }
}

/// An error and its sources, joined with ": ".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
