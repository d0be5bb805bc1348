//! Opening a file the user named, safely: only a regular file (after following symlinks) is
//! opened, and never more is read than the most a valid file of its kind can hold.
//!
//! A directory, a FIFO, a socket or a device in place of a data file would otherwise be read
//! until memory runs out, block for ever, or be reported as "missing". Checking the metadata
//! before opening means a FIFO is never opened (opening one blocks until a writer appears);
//! the size in the metadata lets a file far larger than any valid one (a 6 GB sparse file)
//! be refused without reading a byte of it.

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use crate::Error;

/// What a path is, in words, when it is not a regular file: `"a directory"`, `"a FIFO"`, ...
pub fn kind_of(file_type: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Open `path` for reading if it is a regular file (symlinks followed), and return it with
/// its size. Anything else is [`Error::NotRegularFile`], a missing file [`Error::Io`].
pub fn open_regular(path: &Path) -> Result<(File, u64), Error> {
    let io = |source| Error::Io {
        file: path.to_path_buf(),
        source,
    };
    let meta = fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(Error::NotRegularFile {
            file: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    let file = File::open(path).map_err(io)?;
    // The path may have been replaced between the two looks; what was opened is what counts.
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(Error::NotRegularFile {
            file: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    Ok((file, meta.len()))
}

/// Read the regular file `path` whole if it holds at most `limit` bytes, else
/// [`Error::FileTooLarge`] before reading anything. The read itself is bounded too (the file
/// may grow while it is read), and the buffer is reserved fallibly.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    let (file, len) = open_regular(path)?;
    let too_large = |size| Error::FileTooLarge {
        file: path.to_path_buf(),
        size,
        limit,
    };
    if len > limit {
        return Err(too_large(len));
    }
    let mut bytes = Vec::new();
    let want = usize::try_from(len).unwrap_or(usize::MAX);
    bytes
        .try_reserve_exact(want)
        .map_err(|_| Error::OutOfMemory {
            file: path.to_path_buf(),
            bytes: len,
        })?;
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io {
            file: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}
