//! Hostile files in place of the data: a gzip bomb whose header claims 5,000,000 images, a
//! sparse 6 GB plain file, and things that are not regular files at all (a directory, a FIFO,
//! a symlink to a directory). Each is refused with an error naming what is wrong, quickly, and
//! without reserving or inflating more than a valid file of its kind could hold.

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fashion::idx::{self, IdxArray, IdxData, Limit};
use fashion::verify::verify_file;
use fashion::{Dataset, DatasetKind, Error, Split};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn header(dims: &[u32]) -> Vec<u8> {
    let mut h = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        h.extend_from_slice(&d.to_be_bytes());
    }
    h
}

/// A gzip bomb: one member with an IDX header claiming `images` x 28 x 28, then `members`
/// members of 64 MiB of zeros each (about 64 KiB compressed apiece). gzip readers inflate
/// concatenated members as one stream.
fn bomb(images: u32, members: usize) -> Vec<u8> {
    let mut out = gzip(&header(&[images, 28, 28]));
    let zeros = gzip(&vec![0u8; 64 << 20]);
    for _ in 0..members {
        out.extend_from_slice(&zeros);
    }
    out
}

fn labels_file(n: usize) -> Vec<u8> {
    idx::encode(&IdxArray::new(vec![n], IdxData::U8(vec![1; n])).unwrap())
}

/// Run `f` on another thread and fail (rather than hang the test run) if it takes longer than
/// `limit`: a FIFO opened for reading blocks until a writer appears.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("still running after {limit:?}: blocked or unbounded"))
}

#[test]
fn a_gzip_bomb_claiming_five_million_images_is_refused_from_its_header() {
    let dir = tempfile::tempdir().unwrap();
    // 16 members: 1 GiB of zeros behind a header that claims 3.9 GB.
    let bytes = bomb(5_000_000, 16);
    assert!(bytes.len() < 4 << 20, "the bomb is small: {}", bytes.len());
    std::fs::write(dir.path().join("train-images-idx3-ubyte.gz"), &bytes).unwrap();
    std::fs::write(dir.path().join("train-labels-idx1-ubyte"), labels_file(5)).unwrap();
    let path = dir.path().to_path_buf();
    let start = Instant::now();
    let e = within(Duration::from_secs(20), move || {
        Dataset::load(&path, Split::Train).unwrap_err()
    });
    // Refused after inflating the 16-byte header: well under the ~1 s that inflating 1 GiB takes.
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
    assert!(
        matches!(&e, Error::LargerThanExpected { dims, .. } if dims == &[5_000_000, 28, 28]),
        "{e}"
    );
    let text = e.to_string();
    assert!(text.contains("train-images-idx3-ubyte.gz"), "{text}");
    assert!(text.contains("[60000, 28, 28]"), "{text}");
}

#[test]
fn a_bomb_within_the_claimed_dims_stops_inflating_one_byte_past_the_payload() {
    // A header that claims a legal 10000 x 28 x 28, followed by 1 GiB: inflating stops at
    // 7,840,001 bytes and the file is refused as too long, without inflating the rest.
    let bytes = bomb(10_000, 16);
    let start = Instant::now();
    let e =
        idx::decode_raw_within(&bytes, Path::new("t10k"), &Split::Test.images_limit()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::PayloadTooLong {
                expected: 7_840_000,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn verifying_a_bomb_against_its_spec_stops_at_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t10k-images-idx3-ubyte.gz");
    std::fs::write(&path, bomb(5_000_000, 16)).unwrap();
    let spec = DatasetKind::FashionMnist.files()[2].clone();
    let start = Instant::now();
    let e = verify_file(&path, &spec).unwrap_err();
    assert!(matches!(e, Error::LargerThanExpected { .. }), "{e}");
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_sparse_six_gigabyte_plain_file_is_refused_by_its_size_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train-images-idx3-ubyte");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(&header(&[60000, 28, 28])).unwrap();
    f.set_len(6 << 30).unwrap();
    drop(f);
    std::fs::write(dir.path().join("train-labels-idx1-ubyte"), labels_file(5)).unwrap();
    let start = Instant::now();
    let e = Dataset::load(dir.path(), Split::Train).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "{:?}",
        start.elapsed()
    );
    assert!(
        matches!(e, Error::FileTooLarge { size, .. } if size == 6 << 30),
        "{e}"
    );
    assert!(e.to_string().contains("train-images-idx3-ubyte"), "{e}");
}

#[test]
fn a_file_grown_past_its_limit_is_not_read_beyond_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x");
    std::fs::write(&path, vec![7u8; 1001]).unwrap();
    let e = fashion::regular_file::read_bounded(&path, 1000).unwrap_err();
    assert!(
        matches!(
            e,
            Error::FileTooLarge {
                size: 1001,
                limit: 1000,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        fashion::regular_file::read_bounded(&path, 1001)
            .unwrap()
            .len(),
        1001
    );
}

/// A data directory whose training images are `make(path)` instead of a file.
fn load_with_images(make: impl FnOnce(&Path)) -> Error {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("train-labels-idx1-ubyte"), labels_file(5)).unwrap();
    make(&dir.path().join("train-images-idx3-ubyte.gz"));
    let path = dir.path().to_path_buf();
    let e = within(Duration::from_secs(5), move || {
        Dataset::load(&path, Split::Train).unwrap_err()
    });
    drop(dir);
    e
}

#[test]
fn a_directory_in_place_of_a_data_file_is_named_as_one_not_missing() {
    let e = load_with_images(|p| std::fs::create_dir(p).unwrap());
    assert!(
        matches!(
            e,
            Error::NotRegularFile {
                kind: "a directory",
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("train-images-idx3-ubyte.gz: is a directory"),
        "{e}"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_in_place_of_a_data_file_is_refused_without_blocking() {
    let e = load_with_images(|p| {
        let status = std::process::Command::new("mkfifo")
            .arg(p)
            .status()
            .unwrap();
        assert!(status.success());
    });
    assert!(
        matches!(
            e,
            Error::NotRegularFile {
                kind: "a FIFO (named pipe)",
                ..
            }
        ),
        "{e}"
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_to_a_directory_or_device_is_refused_as_what_it_points_to() {
    let e = load_with_images(|p| std::os::unix::fs::symlink("/", p).unwrap());
    assert!(
        matches!(
            e,
            Error::NotRegularFile {
                kind: "a directory",
                ..
            }
        ),
        "{e}"
    );
    let e = load_with_images(|p| std::os::unix::fs::symlink("/dev/zero", p).unwrap());
    assert!(
        matches!(
            e,
            Error::NotRegularFile {
                kind: "a character device",
                ..
            }
        ),
        "{e}"
    );
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_is_reported_as_unreadable_not_missing() {
    let e = load_with_images(|p| std::os::unix::fs::symlink("/nonexistent/file", p).unwrap());
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert!(e.to_string().contains("train-images-idx3-ubyte.gz"), "{e}");
}

#[test]
fn limits_check_type_rank_and_every_dimension() {
    let limit = Limit::u8_at_most(&[10, 28, 28]);
    let f = Path::new("f");
    let plain = |dims: &[u32], ty: u8| {
        let mut h = header(dims);
        h[2] = ty;
        h
    };
    let e = idx::decode_raw_within(&plain(&[10, 28, 28], 0x0D), f, &limit).unwrap_err();
    assert!(matches!(e, Error::WrongElementType { .. }), "{e}");
    let e = idx::decode_raw_within(&plain(&[10, 784], 0x08), f, &limit).unwrap_err();
    assert!(matches!(e, Error::WrongShape { .. }), "{e}");
    let e = idx::decode_raw_within(&plain(&[10, 29, 28], 0x08), f, &limit).unwrap_err();
    assert!(matches!(e, Error::LargerThanExpected { .. }), "{e}");
    let e = idx::decode_raw_within(&plain(&[1000], 0x0E), f, &Limit::bytes(7999)).unwrap_err();
    assert!(matches!(e, Error::LargerThanExpected { .. }), "{e}");
}

#[cfg(unix)]
#[test]
fn a_data_directory_that_is_a_fifo_or_file_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let e = fashion::find_data_dir(Some(&fifo)).unwrap_err();
    assert!(
        e.to_string().contains("not a directory: it is a FIFO"),
        "{e}"
    );
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let e = fashion::find_data_dir(Some(&file)).unwrap_err();
    assert!(
        e.to_string()
            .contains("not a directory: it is a regular file"),
        "{e}"
    );
}
