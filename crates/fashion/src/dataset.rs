//! The Fashion-MNIST (or MNIST) dataset in memory: u8 images `N x rows x cols` plus u8 labels.

use std::path::{Path, PathBuf};

use crate::idx::{self, ElementType, IdxArray, IdxData, Limit};
use crate::Error;

/// Number of classes in Fashion-MNIST (and MNIST).
pub const NUM_CLASSES: usize = 10;

/// Fashion-MNIST's class names, indexed by label (from Zalando's README).
pub const CLASS_NAMES: [&str; NUM_CLASSES] = [
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
];

/// Rows and columns of a Fashion-MNIST (and MNIST) image: the most a data file may claim.
pub const IMAGE_SIDE: usize = 28;

/// Which half of the dataset: the 60000 training or the 10000 test examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// `train-*` files.
    Train,
    /// `t10k-*` files.
    Test,
}

impl Split {
    /// Base name of the images file, without `.gz`: `train-images-idx3-ubyte` or `t10k-images-idx3-ubyte`.
    pub fn images_name(self) -> &'static str {
        match self {
            Split::Train => "train-images-idx3-ubyte",
            Split::Test => "t10k-images-idx3-ubyte",
        }
    }

    /// Base name of the labels file, without `.gz`: `train-labels-idx1-ubyte` or `t10k-labels-idx1-ubyte`.
    pub fn labels_name(self) -> &'static str {
        match self {
            Split::Train => "train-labels-idx1-ubyte",
            Split::Test => "t10k-labels-idx1-ubyte",
        }
    }

    /// The most examples a file of this split holds: 60000 for training, 10000 for test.
    pub fn max_items(self) -> usize {
        match self {
            Split::Train => 60_000,
            Split::Test => 10_000,
        }
    }

    /// The largest images file of this split: u8 `[max_items, 28, 28]`.
    pub fn images_limit(self) -> Limit {
        Limit::u8_at_most(&[self.max_items(), IMAGE_SIDE, IMAGE_SIDE])
    }

    /// The largest labels file of this split: u8 `[max_items]`.
    pub fn labels_limit(self) -> Limit {
        Limit::u8_at_most(&[self.max_items()])
    }
}

/// The path of `name` in `dir`: `name.gz` if it exists, else `name`, else [`Error::MissingFile`].
///
/// Anything at those paths counts as existing (a directory, a FIFO, a dangling symlink), so
/// that reading it reports what it is rather than "missing".
pub fn resolve_file(dir: &Path, name: &str) -> Result<PathBuf, Error> {
    let gz = dir.join(format!("{name}.gz"));
    if gz.symlink_metadata().is_ok() {
        return Ok(gz);
    }
    let plain = dir.join(name);
    if plain.symlink_metadata().is_ok() {
        return Ok(plain);
    }
    Err(Error::MissingFile {
        dir: dir.to_path_buf(),
        name: name.to_string(),
    })
}

/// One split of the dataset: images as u8, row-major, `len() * rows * cols` bytes, and labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// All images, one after another, each `rows * cols` bytes, row-major.
    pub images: Vec<u8>,
    /// One label per image, each `< NUM_CLASSES`.
    pub labels: Vec<u8>,
    /// Image height (28).
    pub rows: usize,
    /// Image width (28).
    pub cols: usize,
}

impl Dataset {
    /// Load one split from `dir`, which holds `{train,t10k}-{images-idx3,labels-idx1}-ubyte`
    /// (each either gzipped with a `.gz` suffix or plain). Checks the headers, that images
    /// and labels agree in number, and that every label is a class index.
    pub fn load(dir: &Path, split: Split) -> Result<Dataset, Error> {
        let images_file = resolve_file(dir, split.images_name())?;
        let labels_file = resolve_file(dir, split.labels_name())?;
        Dataset::load_files(&images_file, &labels_file, split)
    }

    /// Load from an explicit images file and labels file (plain or gzipped). Each must be a
    /// regular file, and its header may claim no more than `split` holds (see
    /// [`Split::images_limit`]): that is checked before anything is reserved or inflated.
    pub fn load_files(
        images_file: &Path,
        labels_file: &Path,
        split: Split,
    ) -> Result<Dataset, Error> {
        // The labels file is tiny; read it first so a mismatch is found before inflating 47 MB.
        let labels = idx::read_file(labels_file, &split.labels_limit())?;
        let labels = check_labels(labels, labels_file)?;
        let images = idx::read_file(images_file, &split.images_limit())?;
        Dataset::from_parts(images, images_file, labels, labels_file)
    }

    /// Build a dataset from parsed IDX arrays (images `[N, rows, cols]` u8, labels `[N]` u8);
    /// the paths only name the files in errors.
    ///
    /// Three 2 x 2 images, then a batch of two of them gathered into flat buffers:
    /// ```
    /// use std::path::Path;
    /// use fashion::idx::{IdxArray, IdxData};
    /// use fashion::Dataset;
    ///
    /// let pixels = (0..12).collect::<Vec<u8>>();
    /// let images = IdxArray::new(vec![3, 2, 2], IdxData::U8(pixels)).expect("3 x 2 x 2");
    /// let labels = IdxArray::new(vec![3], IdxData::U8(vec![9, 0, 4])).expect("3 labels");
    /// let data = Dataset::from_arrays(images, Path::new("images"), labels, Path::new("labels"))?;
    /// assert_eq!((data.len(), data.pixels_per_image()), (3, 4));
    ///
    /// let (mut x, mut y) = (Vec::new(), Vec::new());
    /// data.gather(&[2, 0], &mut x, &mut y);
    /// assert_eq!(x, [8, 9, 10, 11, 0, 1, 2, 3]); // image 2, then image 0: a [2, 4] batch
    /// assert_eq!(y, [4, 9]);
    ///
    /// // A label that is not a class is refused, naming the file.
    /// let images = IdxArray::new(vec![1, 2, 2], IdxData::U8(vec![0; 4])).expect("1 x 2 x 2");
    /// let labels = IdxArray::new(vec![1], IdxData::U8(vec![10])).expect("1 label");
    /// let err = Dataset::from_arrays(images, Path::new("images"), labels, Path::new("labels"));
    /// assert!(err.unwrap_err().to_string().contains("labels"));
    /// # Ok::<(), fashion::Error>(())
    /// ```
    pub fn from_arrays(
        images: IdxArray,
        images_file: &Path,
        labels: IdxArray,
        labels_file: &Path,
    ) -> Result<Dataset, Error> {
        let labels = check_labels(labels, labels_file)?;
        Dataset::from_parts(images, images_file, labels, labels_file)
    }

    fn from_parts(
        images: IdxArray,
        images_file: &Path,
        labels: Vec<u8>,
        labels_file: &Path,
    ) -> Result<Dataset, Error> {
        let (dims, data) = match images.data {
            IdxData::U8(data) if images.dims.len() == 3 => (images.dims, data),
            IdxData::U8(_) => {
                return Err(Error::WrongShape {
                    file: images_file.to_path_buf(),
                    expected: "3 dimensions [images, rows, cols]".to_string(),
                    dims: images.dims,
                })
            }
            other => {
                return Err(Error::WrongElementType {
                    file: images_file.to_path_buf(),
                    expected: ElementType::U8.name(),
                    found: other.element_type().name(),
                })
            }
        };
        if dims[0] != labels.len() {
            return Err(Error::CountMismatch {
                images_file: images_file.to_path_buf(),
                images: dims[0],
                labels_file: labels_file.to_path_buf(),
                labels: labels.len(),
            });
        }
        Ok(Dataset {
            images: data,
            labels,
            rows: dims[1],
            cols: dims[2],
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True if there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Bytes (pixels) per image: `rows * cols` (784).
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.cols
    }

    /// The pixels of image `i`, row-major. Panics if `i >= len()`.
    pub fn image(&self, i: usize) -> &[u8] {
        let p = self.pixels_per_image();
        &self.images[i * p..(i + 1) * p]
    }

    /// How many examples carry each label.
    pub fn class_counts(&self) -> [usize; NUM_CLASSES] {
        let mut counts = [0; NUM_CLASSES];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }

    /// Copy the images and labels at `indices` into the (reused, resized) buffers: no
    /// allocation once they have grown to the largest batch. Afterwards `images` holds
    /// `indices.len() * pixels_per_image()` bytes and `labels` `indices.len()` labels, in the
    /// order of `indices`. Panics if an index is `>= len()`.
    pub fn gather(&self, indices: &[usize], images: &mut Vec<u8>, labels: &mut Vec<u8>) {
        let p = self.pixels_per_image();
        images.resize(indices.len() * p, 0);
        labels.resize(indices.len(), 0);
        for ((&i, dst), label) in indices
            .iter()
            .zip(images.chunks_exact_mut(p))
            .zip(labels.iter_mut())
        {
            dst.copy_from_slice(self.image(i));
            *label = self.labels[i];
        }
    }
}

/// Check that a labels array is `[N]` u8 with every label `< NUM_CLASSES`; return the labels.
fn check_labels(labels: IdxArray, file: &Path) -> Result<Vec<u8>, Error> {
    let data = match labels.data {
        IdxData::U8(data) if labels.dims.len() == 1 => data,
        IdxData::U8(_) => {
            return Err(Error::WrongShape {
                file: file.to_path_buf(),
                expected: "1 dimension [labels]".to_string(),
                dims: labels.dims,
            })
        }
        other => {
            return Err(Error::WrongElementType {
                file: file.to_path_buf(),
                expected: ElementType::U8.name(),
                found: other.element_type().name(),
            })
        }
    };
    if let Some(index) = data.iter().position(|&l| usize::from(l) >= NUM_CLASSES) {
        return Err(Error::LabelOutOfRange {
            file: file.to_path_buf(),
            index,
            label: data[index],
            classes: NUM_CLASSES,
        });
    }
    Ok(data)
}
