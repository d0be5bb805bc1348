//! Where the data is looked for, in order: an explicit directory, `$FASHION_MNIST_DIR`,
//! `data/fashion-mnist` in the current directory or any ancestor of it, and
//! `/usr/share/datasets/fashion-mnist` (Debian's `dataset-fashion-mnist` package).

use std::path::{Path, PathBuf};

use crate::dataset::{resolve_file, Split};
use crate::Error;

/// The environment variable naming a Fashion-MNIST directory.
pub const DATA_DIR_ENV: &str = "FASHION_MNIST_DIR";

/// The directory, relative to the project root, where the repository keeps the data.
pub const PROJECT_DATA_DIR: &str = "data/fashion-mnist";

/// Where Debian's `dataset-fashion-mnist` package installs the files.
pub const SYSTEM_DATA_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The four base names (without `.gz`) a complete directory holds.
pub const FILE_NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Why `dir` is not a complete data directory, or `None` if it holds all four files
/// (each plain or `.gz`). Only existence is checked here; [`crate::Dataset::load`] validates.
pub fn missing_files(dir: &Path) -> Option<String> {
    match std::fs::metadata(dir) {
        Err(_) => return Some("no such directory".to_string()),
        Ok(meta) if !meta.is_dir() => {
            let kind = crate::regular_file::kind_of(meta.file_type());
            return Some(format!("not a directory: it is {kind}"));
        }
        Ok(_) => {}
    }
    let missing: Vec<&str> = [Split::Train, Split::Test]
        .iter()
        .flat_map(|s| [s.images_name(), s.labels_name()])
        .filter(|name| resolve_file(dir, name).is_err())
        .collect();
    (!missing.is_empty()).then(|| format!("missing {}", missing.join(", ")))
}

/// `$FASHION_MNIST_DIR` and why it is not a complete data directory, if it is set (non-empty)
/// and is not one. [`find_data_dir`] passes over such a directory to the next place; a program
/// should say so, since the user named it on purpose.
pub fn env_dir_problem() -> Option<(PathBuf, String)> {
    let dir = PathBuf::from(std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty())?);
    let why = missing_files(&dir)?;
    Some((dir, why))
}

/// Find the Fashion-MNIST directory.
///
/// With `explicit`, that directory must hold the files (it is not a first guess to fall back
/// from: a user who names a directory means it). Otherwise the first complete directory of
/// `$FASHION_MNIST_DIR`, `data/fashion-mnist` in the current directory or any ancestor (so
/// tests run from `crates/fashion` find the repository's copy), and
/// `/usr/share/datasets/fashion-mnist`. The error lists every place looked and why it was
/// rejected, and says how to fetch the data.
pub fn find_data_dir(explicit: Option<&Path>) -> Result<PathBuf, Error> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(dir) => vec![dir.to_path_buf()],
        None => {
            let mut c = Vec::new();
            if let Some(env) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
                c.push(PathBuf::from(env));
            }
            if let Ok(cwd) = std::env::current_dir() {
                c.extend(cwd.ancestors().map(|a| a.join(PROJECT_DATA_DIR)));
            }
            c.push(PathBuf::from(SYSTEM_DATA_DIR));
            c
        }
    };
    let mut looked = Vec::new();
    for dir in candidates {
        match missing_files(&dir) {
            None => return Ok(dir),
            Some(why) => looked.push((dir, why)),
        }
    }
    Err(Error::DataNotFound { looked })
}
