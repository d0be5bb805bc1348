//! The real Fashion-MNIST files shipped in `data/fashion-mnist`: counts, shapes, per-class
//! balance, and the published SHA-256 of the decompressed bytes.

use fashion::verify::verify_dir;
use fashion::{find_data_dir, Dataset, DatasetKind, Split, CLASS_NAMES};

#[test]
fn train_split_is_60000_balanced_28x28_images() {
    let dir = find_data_dir(None).unwrap();
    let train = Dataset::load(&dir, Split::Train).unwrap();
    assert_eq!(train.len(), 60000);
    assert_eq!((train.rows, train.cols), (28, 28));
    assert_eq!(train.pixels_per_image(), 784);
    assert_eq!(train.images.len(), 60000 * 784);
    assert_eq!(train.class_counts(), [6000; 10]);
    // The first training example of Fashion-MNIST is an ankle boot (label 9).
    assert_eq!(train.labels[0], 9);
    assert_eq!(CLASS_NAMES[usize::from(train.labels[0])], "Ankle boot");
    // Pixels span the full byte range.
    assert_eq!(train.images.iter().min(), Some(&0));
    assert_eq!(train.images.iter().max(), Some(&255));
}

#[test]
fn test_split_is_10000_balanced_28x28_images() {
    let dir = find_data_dir(None).unwrap();
    let test = Dataset::load(&dir, Split::Test).unwrap();
    assert_eq!(test.len(), 10000);
    assert_eq!((test.rows, test.cols), (28, 28));
    assert_eq!(test.class_counts(), [1000; 10]);
    // The first test example is an ankle boot too, the second a pullover.
    assert_eq!(&test.labels[..2], &[9, 2]);
}

#[test]
fn decompressed_bytes_have_the_published_sha256() {
    let dir = find_data_dir(None).unwrap();
    let results = verify_dir(&dir, &DatasetKind::FashionMnist.files());
    assert_eq!(results.len(), 4);
    for (spec, result) in DatasetKind::FashionMnist.files().iter().zip(results) {
        let verified = result.unwrap();
        assert!(verified.checksum_known);
        assert_eq!(
            Some(&verified.sha256),
            spec.sha256.as_ref(),
            "{}",
            spec.name
        );
    }
}
