//! Every file the user names is read through here: a config, weights for `--init-weights` or
//! `eval`, a checkpoint, a `metrics.csv` or `trace.csv` read back. Each must be a regular
//! file (symlinks followed; a directory, FIFO or device is refused before it is opened, so
//! nothing blocks), no larger than the most a valid file of its kind can hold (checked from
//! its size before reading, and the read itself is bounded), and the error names the file and
//! what is wrong once.

use std::path::Path;

use anyhow::bail;
use autograd_lite::Mlp;

/// The largest config file: real ones are under 1 KB.
pub const CONFIG_MAX_BYTES: u64 = 1 << 20;

/// The largest `metrics.csv` or `trace.csv` read back: a trace row is under 600 bytes, so
/// this holds about 400,000 steps (170 epochs of the default job).
pub const CSV_MAX_BYTES: u64 = 256 << 20;

/// Room in a safetensors file beyond the tensors: its JSON header (PyTorch's is under 1 KB;
/// a checkpoint adds its training state there).
pub const SAFETENSORS_HEADER_BYTES: u64 = 64 << 20;

/// The largest safetensors file holding a 784-`hidden`-10 MLP (plus a checkpoint's optimizer
/// tensors: SGD's momentum buffers, or Adam's two moments and AMSGrad's maximum, which make
/// four times the weights).
pub fn weights_max_bytes(hidden: u64) -> u64 {
    let floats = hidden.saturating_mul(784 + 1 + 10).saturating_add(10);
    floats
        .saturating_mul(4)
        .saturating_mul(4)
        .saturating_add(SAFETENSORS_HEADER_BYTES)
}

/// Reads `path` whole if it is a regular file of at most `limit` bytes. `what` names the
/// file's role in errors ("the config file", "--init-weights"), which read
/// "`what` `path`: problem".
pub fn read_bounded(path: &Path, what: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
    fashion::regular_file::read_bounded(path, limit).map_err(|e| describe(e, path, what))
}

/// [`read_bounded`], or `None` when nothing is at `path` (not even a dangling symlink).
pub fn read_optional(path: &Path, what: &str, limit: u64) -> anyhow::Result<Option<Vec<u8>>> {
    if path.symlink_metadata().is_err() {
        return Ok(None);
    }
    read_bounded(path, what, limit).map(Some)
}

/// The largest checkpoint: the weights (with their momentum) of the widest model that fits
/// in memory, plus the header.
pub fn checkpoint_max_bytes() -> u64 {
    let (available, _) = crate::limits::available_memory();
    weights_max_bytes(crate::limits::widest_hidden(1, available))
}

/// [`read_bounded`], and the bytes must be UTF-8 text.
pub fn read_text(path: &Path, what: &str, limit: u64) -> anyhow::Result<String> {
    let bytes = read_bounded(path, what, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{what} {}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// The fashion crate's error for a file, reworded with its role and said once.
fn describe(e: fashion::Error, path: &Path, what: &str) -> anyhow::Error {
    let shown = path.display();
    match e {
        fashion::Error::NotRegularFile { kind, .. } => {
            anyhow::anyhow!("{what} {shown}: is {kind}, not a regular file; only a regular file (or a symlink to one) can be read")
        }
        fashion::Error::FileTooLarge { size, limit, .. } => anyhow::anyhow!(
            "{what} {shown}: {size} bytes, more than the {limit} a valid file of this kind can hold; refusing to read it"
        ),
        fashion::Error::Io { source, .. } => {
            anyhow::anyhow!("{what} {shown}: cannot read: {source}")
        }
        other => anyhow::anyhow!("{what} {shown}: {other}"),
    }
}

/// Refuses NaN or infinite values in `values`, naming the tensor and the first bad index.
pub fn check_finite(what: &str, path: &Path, tensor: &str, values: &[f32]) -> anyhow::Result<()> {
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        bail!(
            "{what} {}: tensor `{tensor}` holds {v} at index {i}; weights must be finite numbers (the file is damaged, or was saved from a run that diverged)",
            path.display()
        );
    }
    Ok(())
}

/// Refuses an MLP with a NaN or infinite parameter, naming the tensor.
pub fn check_finite_mlp(what: &str, path: &Path, mlp: &Mlp) -> anyhow::Result<()> {
    for (name, values) in Mlp::PARAM_NAMES.iter().zip(mlp.params()) {
        check_finite(what, path, name, values)?;
    }
    Ok(())
}

/// Reads an MLP from a safetensors file of at most `limit` bytes, with finite weights.
pub fn load_weights(path: &Path, what: &str, limit: u64) -> anyhow::Result<Mlp> {
    let bytes = read_bounded(path, what, limit)?;
    let mlp = Mlp::from_safetensors(&bytes)
        .map_err(|e| anyhow::anyhow!("{what} {}: {e}", path.display()))?;
    check_finite_mlp(what, path, &mlp)?;
    Ok(mlp)
}
