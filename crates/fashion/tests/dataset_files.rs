//! Dataset loading from hand-built files: the dataset-level errors (count mismatch, label out
//! of range, wrong type or shape, missing file), plain and gzipped files, gather, and where
//! data is looked for.

use std::io::Write;
use std::path::Path;

use fashion::idx::{self, IdxArray, IdxData};
use fashion::{find_data_dir, Dataset, Error, Split};

fn images(n: usize, rows: usize, cols: usize) -> IdxArray {
    let data = (0..n * rows * cols).map(|i| (i % 251) as u8).collect();
    IdxArray::new(vec![n, rows, cols], IdxData::U8(data)).unwrap()
}

fn labels(values: &[u8]) -> IdxArray {
    IdxArray::new(vec![values.len()], IdxData::U8(values.to_vec())).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Write a complete tiny dataset (train: 5 images 2x3, test: 3 images) into `dir`.
fn write_tiny(dir: &Path, gzipped: bool) {
    let files = [
        ("train-images-idx3-ubyte", idx::encode(&images(5, 2, 3))),
        (
            "train-labels-idx1-ubyte",
            idx::encode(&labels(&[0, 9, 3, 3, 1])),
        ),
        ("t10k-images-idx3-ubyte", idx::encode(&images(3, 2, 3))),
        ("t10k-labels-idx1-ubyte", idx::encode(&labels(&[2, 2, 7]))),
    ];
    for (name, bytes) in files {
        if gzipped {
            std::fs::write(dir.join(format!("{name}.gz")), gzip(&bytes)).unwrap();
        } else {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

#[test]
fn loads_plain_and_gzipped_directories_identically() {
    let plain = tempfile::tempdir().unwrap();
    let gz = tempfile::tempdir().unwrap();
    write_tiny(plain.path(), false);
    write_tiny(gz.path(), true);
    for split in [Split::Train, Split::Test] {
        let a = Dataset::load(plain.path(), split).unwrap();
        let b = Dataset::load(gz.path(), split).unwrap();
        assert_eq!(a, b);
    }
    let train = Dataset::load(gz.path(), Split::Train).unwrap();
    assert_eq!((train.len(), train.rows, train.cols), (5, 2, 3));
    assert_eq!(train.pixels_per_image(), 6);
    assert_eq!(train.image(1), &[6, 7, 8, 9, 10, 11]);
    assert_eq!(train.labels, vec![0, 9, 3, 3, 1]);
    assert_eq!(train.class_counts(), [1, 1, 0, 2, 0, 0, 0, 0, 0, 1]);
    assert!(!train.is_empty());
}

#[test]
fn gather_copies_in_index_order_and_reuses_buffers() {
    let ds = Dataset::from_arrays(
        images(5, 2, 3),
        Path::new("i"),
        labels(&[0, 9, 3, 3, 1]),
        Path::new("l"),
    )
    .unwrap();
    let mut imgs = Vec::new();
    let mut labs = Vec::new();
    ds.gather(&[4, 0, 4], &mut imgs, &mut labs);
    let expected: Vec<u8> = [ds.image(4), ds.image(0), ds.image(4)].concat();
    assert_eq!(imgs, expected);
    assert_eq!(labs, vec![1, 0, 1]);
    // A smaller batch into the same buffers: resized down, storage kept.
    let (cap_i, cap_l) = (imgs.capacity(), labs.capacity());
    let ptr = imgs.as_ptr();
    ds.gather(&[2], &mut imgs, &mut labs);
    assert_eq!(imgs, ds.image(2));
    assert_eq!(labs, vec![3]);
    assert_eq!(
        (imgs.capacity(), labs.capacity(), imgs.as_ptr()),
        (cap_i, cap_l, ptr)
    );
}

#[test]
fn image_and_label_counts_must_agree() {
    let e = Dataset::from_arrays(
        images(4, 2, 2),
        Path::new("imgs.idx"),
        labels(&[1, 2, 3]),
        Path::new("labs.idx"),
    )
    .unwrap_err();
    assert!(matches!(
        e,
        Error::CountMismatch {
            images: 4,
            labels: 3,
            ..
        }
    ));
    let msg = e.to_string();
    assert!(
        msg.contains("imgs.idx") && msg.contains("labs.idx"),
        "{msg}"
    );
}

#[test]
fn labels_must_be_class_indices() {
    let e = Dataset::from_arrays(
        images(3, 2, 2),
        Path::new("imgs.idx"),
        labels(&[1, 10, 3]),
        Path::new("labs.idx"),
    )
    .unwrap_err();
    assert!(matches!(
        e,
        Error::LabelOutOfRange {
            index: 1,
            label: 10,
            ..
        }
    ));
    assert!(e.to_string().contains("labs.idx"));
}

#[test]
fn images_must_be_3d_u8_and_labels_1d_u8() {
    let flat = IdxArray::new(vec![12], IdxData::U8(vec![0; 12])).unwrap();
    let e = Dataset::from_arrays(flat, Path::new("i"), labels(&[0]), Path::new("l")).unwrap_err();
    assert!(matches!(e, Error::WrongShape { .. }));
    let floats = IdxArray::new(vec![1, 1, 1], IdxData::F32(vec![0.5])).unwrap();
    let e = Dataset::from_arrays(floats, Path::new("i"), labels(&[0]), Path::new("l")).unwrap_err();
    assert!(matches!(e, Error::WrongElementType { found: "f32", .. }));
    let l2 = IdxArray::new(vec![1, 1], IdxData::U8(vec![0])).unwrap();
    let e = Dataset::from_arrays(images(1, 1, 1), Path::new("i"), l2, Path::new("l")).unwrap_err();
    assert!(matches!(e, Error::WrongShape { .. }));
    let li = IdxArray::new(vec![1], IdxData::I32(vec![0])).unwrap();
    let e = Dataset::from_arrays(images(1, 1, 1), Path::new("i"), li, Path::new("l")).unwrap_err();
    assert!(matches!(e, Error::WrongElementType { found: "i32", .. }));
}

#[test]
fn a_missing_file_is_named_with_how_to_fetch_it() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny(dir.path(), true);
    std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte.gz")).unwrap();
    assert!(Dataset::load(dir.path(), Split::Train).is_ok());
    let e = Dataset::load(dir.path(), Split::Test).unwrap_err();
    assert!(matches!(&e, Error::MissingFile { name, .. } if name == "t10k-labels-idx1-ubyte"));
    assert!(e.to_string().contains("trainer data fetch"), "{e}");
}

#[test]
fn a_corrupt_file_in_the_directory_is_reported_by_name() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny(dir.path(), true);
    let path = dir.path().join("train-images-idx3-ubyte.gz");
    let gz = std::fs::read(&path).unwrap();
    std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
    let e = Dataset::load(dir.path(), Split::Train).unwrap_err();
    assert!(matches!(e, Error::CorruptGzip { .. }));
    assert!(e.to_string().contains("train-images-idx3-ubyte.gz"));
}

#[test]
fn explicit_data_dir_is_used_or_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny(dir.path(), true);
    assert_eq!(find_data_dir(Some(dir.path())).unwrap(), dir.path());
    let empty = tempfile::tempdir().unwrap();
    let e = find_data_dir(Some(empty.path())).unwrap_err();
    match &e {
        Error::DataNotFound { looked } => {
            assert_eq!(looked.len(), 1);
            assert_eq!(looked[0].0, empty.path());
            assert!(looked[0].1.contains("train-images-idx3-ubyte"));
        }
        other => panic!("unexpected {other}"),
    }
    assert!(e.to_string().contains("trainer data fetch"));
}

#[test]
fn the_repository_data_is_found_from_the_crate_directory() {
    // cargo runs integration tests in crates/fashion; the data is two levels up.
    if std::env::var_os(fashion::locate::DATA_DIR_ENV).is_some() {
        return; // an explicit environment choice takes precedence over the search
    }
    let dir = find_data_dir(None).unwrap();
    assert!(dir.ends_with("data/fashion-mnist"), "{}", dir.display());
}
