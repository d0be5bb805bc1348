//! The crate's one error type: a variant per problem, each naming the file (or URL) involved
//! and saying what to do about it.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong while reading, checking, locating or downloading IDX data.
///
/// `file` fields hold the path (or, for in-memory bytes, the name the caller gave them), so
/// that every message says which file is at fault.
#[derive(Debug)]
pub enum Error {
    /// The file could not be opened or read.
    Io {
        /// The file involved.
        file: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The path is not a regular file (after following symlinks): a directory, a FIFO, a
    /// device or a socket. It is refused before it is opened.
    NotRegularFile {
        /// The file involved.
        file: PathBuf,
        /// What it is instead, in words ("a directory", "a FIFO (named pipe)", ...).
        kind: &'static str,
    },
    /// The file is larger than any valid file of its kind can be.
    FileTooLarge {
        /// The file involved.
        file: PathBuf,
        /// Its size in bytes (or the bytes read before giving up).
        size: u64,
        /// The most a valid file can hold.
        limit: u64,
    },
    /// Memory for an array the input justifies could not be reserved.
    OutOfMemory {
        /// The file involved.
        file: PathBuf,
        /// Bytes asked for.
        bytes: u64,
    },
    /// The header claims a larger array than the caller accepts (checked before anything is
    /// reserved or inflated).
    LargerThanExpected {
        /// The file involved.
        file: PathBuf,
        /// All dimensions as read.
        dims: Vec<usize>,
        /// What the caller accepts, in words.
        limit: String,
    },
    /// Fewer bytes than the 4-byte magic plus the 4 bytes per dimension the magic announces.
    TruncatedHeader {
        /// The file involved.
        file: PathBuf,
        /// Header bytes required.
        needed: usize,
        /// Bytes available.
        found: usize,
    },
    /// The first two bytes are not `00 00`, so this is not an IDX file.
    BadMagic {
        /// The file involved.
        file: PathBuf,
        /// The first two bytes found.
        found: [u8; 2],
    },
    /// The third byte is not one of the IDX element types (0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E).
    UnknownElementType {
        /// The file involved.
        file: PathBuf,
        /// The type byte found.
        code: u8,
    },
    /// The fourth byte says the array has no dimensions at all.
    NoDimensions {
        /// The file involved.
        file: PathBuf,
    },
    /// More dimensions than any sensible IDX file has (see [`crate::idx::MAX_DIMS`]).
    TooManyDimensions {
        /// The file involved.
        file: PathBuf,
        /// Dimensions announced.
        ndim: usize,
        /// The limit.
        max: usize,
    },
    /// One dimension is zero, so the array would be empty.
    ZeroDimension {
        /// The file involved.
        file: PathBuf,
        /// Which dimension (0-based).
        axis: usize,
        /// All dimensions as read.
        dims: Vec<usize>,
    },
    /// The product of the dimensions times the element size does not fit in memory addresses.
    SizeOverflow {
        /// The file involved.
        file: PathBuf,
        /// All dimensions as read.
        dims: Vec<usize>,
    },
    /// The payload is shorter than the header says.
    PayloadTooShort {
        /// The file involved.
        file: PathBuf,
        /// Payload bytes the header announces.
        expected: usize,
        /// Payload bytes present.
        found: usize,
    },
    /// There are bytes after the payload the header announces.
    PayloadTooLong {
        /// The file involved.
        file: PathBuf,
        /// Payload bytes the header announces.
        expected: usize,
    },
    /// The file starts with the gzip magic but its stream is corrupt or truncated.
    CorruptGzip {
        /// The file involved.
        file: PathBuf,
        /// What the decoder reported.
        detail: String,
    },
    /// The file is a valid IDX file of the wrong element type for its role (images and labels are u8).
    WrongElementType {
        /// The file involved.
        file: PathBuf,
        /// The type required.
        expected: &'static str,
        /// The type found.
        found: &'static str,
    },
    /// The file is a valid IDX file of the wrong shape for its role.
    WrongShape {
        /// The file involved.
        file: PathBuf,
        /// The shape required, in words.
        expected: String,
        /// The dimensions found.
        dims: Vec<usize>,
    },
    /// The images and labels files hold different numbers of items.
    CountMismatch {
        /// The images file.
        images_file: PathBuf,
        /// Images it holds.
        images: usize,
        /// The labels file.
        labels_file: PathBuf,
        /// Labels it holds.
        labels: usize,
    },
    /// A label is not a class index (0..10).
    LabelOutOfRange {
        /// The labels file.
        file: PathBuf,
        /// Position of the first bad label.
        index: usize,
        /// Its value.
        label: u8,
        /// Number of classes.
        classes: usize,
    },
    /// Neither `NAME` nor `NAME.gz` exists in the data directory.
    MissingFile {
        /// The directory searched.
        dir: PathBuf,
        /// The file's base name (without `.gz`).
        name: String,
    },
    /// No data directory was found: every place looked, and why each was rejected.
    DataNotFound {
        /// `(place, reason)` for every candidate, in search order.
        looked: Vec<(PathBuf, String)>,
    },
    /// The decompressed bytes do not have the published SHA-256.
    ChecksumMismatch {
        /// The file (or URL) involved.
        file: PathBuf,
        /// Published SHA-256 (lowercase hex).
        expected: String,
        /// SHA-256 of the bytes received (lowercase hex).
        actual: String,
    },
    /// A URL that is not `https://` (or `http://` given explicitly), or that does not parse.
    BadUrl {
        /// The URL.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// The server answered with an HTTP error status.
    HttpStatus {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The server did not answer, or stopped sending, within the timeout.
    Timeout {
        /// The URL.
        url: String,
        /// What timed out.
        detail: String,
    },
    /// A connection or transfer error (refused, reset, body cut short).
    Network {
        /// The URL.
        url: String,
        /// What the HTTP client reported.
        detail: String,
    },
    /// The server sent more bytes than the file can possibly need.
    DownloadTooLarge {
        /// The URL.
        url: String,
        /// The byte limit.
        limit: u64,
    },
    /// Every mirror (and every retry) failed for one file.
    DownloadFailed {
        /// The file's name.
        file: String,
        /// Each attempt's error, in order.
        attempts: Vec<Error>,
    },
}

impl Error {
    /// True for failures worth retrying on the same server: timeouts, connection problems,
    /// cut-short bodies, 5xx and 429 responses.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Network { .. } => true,
            Error::HttpStatus { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { file, source } => write!(f, "{}: cannot read: {source}", file.display()),
            Error::NotRegularFile { file, kind } => write!(
                f,
                "{}: is {kind}, not a regular file; name the data file itself",
                file.display()
            ),
            Error::FileTooLarge { file, size, limit } => write!(
                f,
                "{}: {size} bytes, more than the {limit} a valid file of this kind can hold; refusing to read it",
                file.display()
            ),
            Error::OutOfMemory { file, bytes } => write!(
                f,
                "{}: cannot reserve {bytes} bytes of memory for its contents",
                file.display()
            ),
            Error::LargerThanExpected { file, dims, limit } => write!(
                f,
                "{}: the header claims dims {dims:?}, larger than {limit}; the file is corrupt or not what its name says",
                file.display()
            ),
            Error::TruncatedHeader { file, needed, found } => write!(
                f,
                "{}: truncated IDX header: needs {needed} bytes, file has {found}; the file is cut short, fetch it again (`trainer data fetch`)",
                file.display()
            ),
            Error::BadMagic { file, found } => write!(
                f,
                "{}: not an IDX file: the magic must start with bytes 00 00, found {:02x} {:02x}",
                file.display(),
                found[0],
                found[1]
            ),
            Error::UnknownElementType { file, code } => write!(
                f,
                "{}: unknown IDX element type byte 0x{code:02x} (allowed: 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32, 0x0e f64)",
                file.display()
            ),
            Error::NoDimensions { file } => write!(
                f,
                "{}: the IDX header declares 0 dimensions; a data file needs at least one",
                file.display()
            ),
            Error::TooManyDimensions { file, ndim, max } => write!(
                f,
                "{}: the IDX header declares {ndim} dimensions, more than the {max} this reader accepts; the file is probably corrupt",
                file.display()
            ),
            Error::ZeroDimension { file, axis, dims } => write!(
                f,
                "{}: dimension {axis} is 0 (dims {dims:?}); the array would be empty",
                file.display()
            ),
            Error::SizeOverflow { file, dims } => write!(
                f,
                "{}: dims {dims:?} describe more bytes than can be addressed; the header is corrupt",
                file.display()
            ),
            Error::PayloadTooShort { file, expected, found } => write!(
                f,
                "{}: the header announces {expected} payload bytes but only {found} are present; the file is truncated, fetch it again (`trainer data fetch`)",
                file.display()
            ),
            Error::PayloadTooLong { file, expected } => write!(
                f,
                "{}: there are bytes after the {expected} payload bytes the header announces; the file is corrupt or not what its header says",
                file.display()
            ),
            Error::CorruptGzip { file, detail } => write!(
                f,
                "{}: corrupt gzip stream ({detail}); fetch the file again (`trainer data fetch`)",
                file.display()
            ),
            Error::WrongElementType { file, expected, found } => write!(
                f,
                "{}: element type is {found}, expected {expected}",
                file.display()
            ),
            Error::WrongShape { file, expected, dims } => write!(
                f,
                "{}: dims {dims:?}, expected {expected}",
                file.display()
            ),
            Error::CountMismatch { images_file, images, labels_file, labels } => write!(
                f,
                "{} holds {images} images but {} holds {labels} labels; the two files must come from the same split",
                images_file.display(),
                labels_file.display()
            ),
            Error::LabelOutOfRange { file, index, label, classes } => write!(
                f,
                "{}: label {label} at index {index} is not a class index (0..{classes}); this is not a {classes}-class labels file",
                file.display()
            ),
            Error::MissingFile { dir, name } => write!(
                f,
                "{}: neither {name}.gz nor {name} exists; run `trainer data fetch --dir {}` or copy the files there",
                dir.display(),
                dir.display()
            ),
            Error::DataNotFound { looked } => {
                writeln!(f, "no Fashion-MNIST data found; looked in:")?;
                for (place, why) in looked {
                    writeln!(f, "  {}: {why}", place.display())?;
                }
                write!(
                    f,
                    "get it with `trainer data fetch` (into data/fashion-mnist/), set $FASHION_MNIST_DIR, or install Debian's dataset-fashion-mnist package"
                )
            }
            Error::ChecksumMismatch { file, expected, actual } => write!(
                f,
                "{}: SHA-256 of the decompressed bytes is {actual}, expected {expected}; the file is damaged or not the published one, fetch it again",
                file.display()
            ),
            Error::BadUrl { url, reason } => write!(f, "{url}: {reason}"),
            Error::HttpStatus { url, status } => write!(f, "{url}: HTTP status {status}"),
            Error::Timeout { url, detail } => write!(f, "{url}: timed out ({detail})"),
            Error::Network { url, detail } => write!(f, "{url}: {detail}"),
            Error::DownloadTooLarge { url, limit } => write!(
                f,
                "{url}: the server sent more than {limit} bytes, more than this file can be; refusing it"
            ),
            Error::DownloadFailed { file, attempts } => {
                write!(f, "could not download {file}; every attempt failed:")?;
                for attempt in attempts {
                    write!(f, "\n  {attempt}")?;
                }
                write!(f, "\ncheck the network, or pass --base-url pointing at a mirror that holds the files")
            }
        }
    }
}

/// No `source()`: every message already includes its cause (the operating system's words for
/// [`Error::Io`]), and a report that walks the chain (anyhow's `{:#}`) would say it twice.
impl std::error::Error for Error {}
