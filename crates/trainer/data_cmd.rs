//! `trainer data inspect|verify|fetch`: look inside IDX files, check the dataset against its
//! published checksums, and download it (verified, atomically) when it is missing.

use crate::console;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use fashion::download::{fetch_with, FetchOptions, Progress};
use fashion::idx::{self, IdxArray, IdxData};
use fashion::verify::{verify_dir, Verified};
use fashion::{DatasetKind, CLASS_NAMES, NUM_CLASSES};
use indicatif::{ProgressBar, ProgressStyle};

/// The datasets `verify` and `fetch` know.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DatasetArg {
    /// Zalando's Fashion-MNIST (checked against its published SHA-256).
    FashionMnist,
    /// LeCun's MNIST digits (checked by header and counts).
    Mnist,
}

impl DatasetArg {
    fn kind(self) -> DatasetKind {
        match self {
            DatasetArg::FashionMnist => DatasetKind::FashionMnist,
            DatasetArg::Mnist => DatasetKind::Mnist,
        }
    }
}

/// `trainer data` subcommands.
#[derive(Subcommand)]
pub enum DataCommand {
    /// Print an IDX file's header (type, dims) and a summary of its contents: a per-class
    /// count for a labels file, min/max/mean otherwise. Exits non-zero if the file is invalid.
    #[command(
        after_help = "Example:\n  trainer data inspect data/fashion-mnist/train-labels-idx1-ubyte.gz"
    )]
    Inspect {
        /// The IDX file, plain or gzipped (detected by content).
        file: PathBuf,
    },
    /// Check the four files of a dataset (header, counts, SHA-256 of the decompressed bytes),
    /// one line per file. Exits non-zero if any file fails.
    #[command(
        after_help = "Examples:\n  trainer data verify\n  trainer data verify --dir data/fashion-mnist"
    )]
    Verify {
        /// Directory holding the files [default: the first of $FASHION_MNIST_DIR,
        /// data/fashion-mnist (here or in a parent directory), /usr/share/datasets/fashion-mnist;
        /// data/mnist for --dataset mnist].
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Which dataset the files are.
        #[arg(long, value_enum, default_value = "fashion-mnist")]
        dataset: DatasetArg,
    },
    /// Download a dataset's four files over HTTPS (from built-in mirrors, or from --base-url),
    /// verify each before moving it into place, and do nothing for files already present and valid.
    #[command(
        after_help = "Examples:\n  trainer data fetch\n  trainer data fetch --dataset mnist --dir /tmp/mnist\n  trainer data fetch --base-url http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
    )]
    Fetch {
        /// Which dataset to fetch.
        #[arg(long, value_enum, default_value = "fashion-mnist")]
        dataset: DatasetArg,
        /// Where to put the files [default: data/fashion-mnist or data/mnist].
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Fetch URL/train-images-idx3-ubyte.gz and so on instead of the built-in HTTPS
        /// mirrors. Plain http:// is allowed here, by your explicit choice; the files are
        /// still verified before use.
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Seconds to wait for a response, for more of the body, and for each whole file
        /// before giving up (the default lets the 26 MB training images come at 220 KB/s).
        #[arg(long, value_name = "SECS", default_value_t = fashion::download::DEFAULT_TIMEOUT.as_secs())]
        timeout: u64,
        /// Retries per mirror after a transient failure (timeout, dropped connection, 5xx).
        #[arg(long, value_name = "N", default_value_t = 3)]
        retries: u32,
    },
}

/// Run one `trainer data` subcommand.
pub fn run(cmd: DataCommand) -> anyhow::Result<()> {
    match cmd {
        DataCommand::Inspect { file } => inspect(&file),
        DataCommand::Verify { dir, dataset } => verify(dir.as_deref(), dataset.kind()),
        DataCommand::Fetch {
            dataset,
            dir,
            base_url,
            timeout,
            retries,
        } => fetch(dataset.kind(), dir, base_url.as_deref(), timeout, retries),
    }
}

/// The largest IDX payload `data inspect` reads: 1 GiB, twice the largest MNIST-family file
/// (EMNIST ByClass, 0.55 GB), so any real file fits and no header can ask for more.
const INSPECT_MAX_PAYLOAD: usize = 1 << 30;

fn inspect(file: &Path) -> anyhow::Result<()> {
    let limit = idx::Limit::bytes(INSPECT_MAX_PAYLOAD);
    let bytes = fashion::regular_file::read_bounded(file, limit.max_file_len())?;
    let gzipped = idx::is_gzip(&bytes);
    let array = idx::decode_within(&bytes, file, &limit)?;
    console::println(format_args!(
        "file: {}{}",
        file.display(),
        if gzipped { " (gzip)" } else { "" }
    ));
    console::println(format_args!(
        "type: {} (0x{:02x})",
        array.element_type.name(),
        array.element_type.code()
    ));
    console::println(format_args!("dims: {:?}", array.dims));
    console::println(format_args!("elements: {}", array.data.len()));
    match as_labels(&array) {
        Some(labels) => {
            console::println(format_args!("labels per class:"));
            let mut counts = [0usize; NUM_CLASSES];
            for &l in labels {
                counts[usize::from(l)] += 1;
            }
            for (class, (name, count)) in CLASS_NAMES.iter().zip(counts).enumerate() {
                console::println(format_args!("  {class} {name:<12} {count}"));
            }
        }
        None => {
            let (min, max, mean) = summary(&array.data);
            console::println(format_args!("min: {min}"));
            console::println(format_args!("max: {max}"));
            console::println(format_args!("mean: {mean:.6}"));
        }
    }
    Ok(())
}

/// A 1-D u8 array whose values are all class indices is a labels file.
fn as_labels(array: &IdxArray) -> Option<&[u8]> {
    match &array.data {
        IdxData::U8(v)
            if array.dims.len() == 1 && v.iter().all(|&l| usize::from(l) < NUM_CLASSES) =>
        {
            Some(v)
        }
        _ => None,
    }
}

/// Min, max and mean of the elements, as f64 (NaNs ignored for min/max).
fn summary(data: &IdxData) -> (f64, f64, f64) {
    fn stats(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
        let (mut min, mut max, mut sum, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
        for v in values {
            min = min.min(v);
            max = max.max(v);
            sum += v;
            n += 1;
        }
        (min, max, sum / n.max(1) as f64)
    }
    match data {
        IdxData::U8(v) => stats(v.iter().map(|&x| f64::from(x))),
        IdxData::I8(v) => stats(v.iter().map(|&x| f64::from(x))),
        IdxData::I16(v) => stats(v.iter().map(|&x| f64::from(x))),
        IdxData::I32(v) => stats(v.iter().map(|&x| f64::from(x))),
        IdxData::F32(v) => stats(v.iter().map(|&x| f64::from(x))),
        IdxData::F64(v) => stats(v.iter().copied()),
    }
}

/// One line describing a verified file.
/// Width of the file-name column of `verify` and `fetch`: `train-images-idx3-ubyte.gz`.
const NAME_WIDTH: usize = 26;
/// Width of the shape column: `u8 [60000, 28, 28]`.
const SHAPE_WIDTH: usize = 18;

fn ok_line(v: &Verified) -> String {
    let name = v.path.file_name().map_or_else(
        || v.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let check = if v.checksum_known {
        "matches the published value"
    } else {
        "no published value; header and counts checked"
    };
    let shape = format!("{} {:?}", v.header.element_type.name(), v.header.dims);
    // Padded to the longest name and shape of the four files (`train-images-idx3-ubyte.gz`,
    // `u8 [60000, 28, 28]`) so that the columns line up whatever the file.
    format!(
        "ok    {name:<NAME_WIDTH$}  {shape:<SHAPE_WIDTH$}  sha256 {} ({check})",
        v.sha256
    )
}

fn default_dir(kind: DatasetKind) -> PathBuf {
    Path::new("data").join(kind.name())
}

fn verify(dir: Option<&Path>, kind: DatasetKind) -> anyhow::Result<()> {
    let dir = match (dir, kind) {
        (Some(d), _) => d.to_path_buf(),
        (None, DatasetKind::FashionMnist) => crate::data_dir::find(None)?,
        (None, DatasetKind::Mnist) => default_dir(kind),
    };
    console::println(format_args!("{} in {}", kind.name(), dir.display()));
    let specs = kind.files();
    let mut failed = 0;
    for (spec, result) in specs.iter().zip(verify_dir(&dir, &specs)) {
        match result {
            Ok(v) => console::println(format_args!("{}", ok_line(&v))),
            Err(e) => {
                failed += 1;
                console::println(format_args!("FAIL  {}: {e}", spec.name));
            }
        }
    }
    if failed > 0 {
        bail!(
            "{failed} of {} files failed verification; re-download them with `trainer data fetch --dataset {} --dir {}`",
            specs.len(),
            kind.name(),
            dir.display()
        );
    }
    Ok(())
}

fn fetch(
    kind: DatasetKind,
    dir: Option<PathBuf>,
    base_url: Option<&str>,
    timeout: u64,
    retries: u32,
) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| default_dir(kind));
    let mut options = FetchOptions::new(kind, base_url);
    options.timeout = Duration::from_secs(timeout.max(1));
    options.connect_timeout = Duration::from_secs(timeout.clamp(1, 15));
    options.retries = retries;
    if base_url.is_some_and(|u| u.starts_with("http://")) {
        console::eprintln(format_args!(
            "note: fetching over plain HTTP as asked; each file is still verified ({}) before it is moved into place",
            if kind == DatasetKind::FashionMnist { "SHA-256, header and counts" } else { "header and counts" }
        ));
    }
    let style = ProgressStyle::with_template(
        "{msg:28} {bar:30} {bytes:>10}/{total_bytes:10} {bytes_per_sec}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    let mut bar: Option<ProgressBar> = None;
    let fetched = fetch_with(&dir, &options, &mut |event| match event {
        Progress::AlreadyValid { file } => {
            console::println(format_args!("present and valid: {file}"))
        }
        Progress::Started { file, total, .. } => {
            let pb = match total {
                Some(t) => ProgressBar::new(t).with_style(style.clone()),
                None => ProgressBar::new_spinner(),
            };
            pb.set_message(file.to_string());
            bar = Some(pb);
        }
        Progress::Bytes { done, .. } => {
            if let Some(pb) = &bar {
                pb.set_position(done);
            }
        }
        Progress::AttemptFailed {
            url,
            error,
            retry_in,
            ..
        } => {
            if let Some(pb) = bar.take() {
                pb.finish_and_clear();
            }
            match retry_in {
                Some(wait) => {
                    console::eprintln(format_args!("warning: {error}; retrying {url} in {wait:?}"))
                }
                None => console::eprintln(format_args!("warning: {error}")),
            }
        }
        Progress::Done { file, path } => {
            if let Some(pb) = bar.take() {
                pb.finish_and_clear();
            }
            console::println(format_args!("downloaded {file} -> {}", path.display()));
        }
    })?;
    for f in &fetched {
        console::println(format_args!("{}", ok_line(&f.verified)));
    }
    Ok(())
}
