//! TensorBoard event files: a run's scalars in the format `tensorboard --logdir` reads, so that
//! our runs sit beside a user's PyTorch runs (`torch.utils.tensorboard.SummaryWriter`).
//!
//! An event file is a sequence of TFRecords, each one serialised `Event` protocol buffer:
//! ```text
//! record  = len: u64 LE | masked_crc32c(len bytes): u32 LE | data: len bytes | masked_crc32c(data): u32 LE
//! masked  = ((crc >> 15) | (crc << 17)) + 0xa282ead8          (wrapping, as TensorFlow's crc32c::Mask)
//! Event   = { 1: wall_time (double), 2: step (int64), 3: file_version (string) | 5: summary (Summary) }
//! Summary = { 1: value (repeated Value) }
//! Value   = { 1: tag (string), 2: simple_value (float) }
//! ```
//! The first record names the format (`file_version = "brain.Event:2"`); every scalar is then one
//! `Event` holding one `Value`, as `SummaryWriter.add_scalar` writes it. Only these few fields are
//! needed, so they are encoded by hand (protobuf's wire format: a key `field << 3 | wire type`,
//! varints for integers and lengths, little-endian fixed-width floats).
//!
//! TensorBoard reads every file whose name contains `tfevents`; [`FILE_NAME`] is fixed so that
//! rewriting a run's events replaces its file instead of adding a second one.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use autograd_lite::Mlp;
use optim::TensorReport;

use crate::outputs::EpochMetrics;

/// The name of a run's event file inside its folder.
pub const FILE_NAME: &str = "events.out.tfevents.trainer";

/// One scalar at one step, as `SummaryWriter.add_scalar(tag, value, step, walltime)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// The chart it belongs to, PyTorch style: `train/loss`, `lr/group0`, ...
    pub tag: String,
    /// The x position (optimizer step or epoch).
    pub step: i64,
    /// The value (TensorBoard stores scalars as f32).
    pub value: f32,
    /// Seconds since the Unix epoch when the value was recorded.
    pub wall_time: f64,
}

/// A run's scalars, kept in memory and written whole (atomically) at every checkpoint, so that
/// the event file always matches the checkpoint beside it: a resumed run reads it back, drops
/// what came after the checkpoint, and carries on without duplicate steps.
///
/// Tags, as a PyTorch user would name them (x = optimizer step unless said):
/// `train/loss`, `lr/group0`, `momentum/group0`, `update_ratio/<param>` (‖Δp‖ / ‖p‖ of the
/// step, per tensor), and per epoch (x = epoch) `epoch/train_loss`, `epoch/train_accuracy`,
/// `epoch/test_loss`, `epoch/test_accuracy`.
pub struct Board {
    start_wall_time: f64,
    scalars: Vec<Scalar>,
}

/// Seconds since the Unix epoch, now.
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Board {
    /// The scalars of a run that has taken `steps_done` optimizer steps and finished
    /// `epochs_done` epochs: read back from `dir`'s event file when it has one (anything after
    /// those counts is dropped), else empty. A file that cannot be read starts a fresh board.
    pub fn resume(dir: &Path, steps_done: u64, epochs_done: u64) -> Board {
        let mut board = Board {
            start_wall_time: now(),
            scalars: Vec::new(),
        };
        if steps_done == 0 && epochs_done == 0 {
            return board;
        }
        let limit = crate::input_file::CSV_MAX_BYTES;
        let Ok(bytes) = crate::input_file::read_bounded(&dir.join(FILE_NAME), "the events", limit)
        else {
            return board;
        };
        if let Some((start, scalars)) = decode_file(&bytes) {
            board.start_wall_time = start;
            board.scalars = scalars
                .into_iter()
                .filter(|s| match s.tag.starts_with("epoch/") {
                    true => s.step <= epochs_done as i64,
                    false => s.step <= steps_done as i64,
                })
                .collect();
        }
        board
    }

    /// One optimizer step: the lr and momentum it used, its batch loss, and its report.
    pub fn record_step(
        &mut self,
        step: u64,
        lr: f64,
        momentum: f64,
        loss: f32,
        tensors: &[TensorReport],
    ) {
        let wall_time = now();
        let step = step as i64;
        let mut push = |tag: String, value: f32| {
            self.scalars.push(Scalar {
                tag,
                step,
                value,
                wall_time,
            })
        };
        push("train/loss".into(), loss);
        push("lr/group0".into(), lr as f32);
        push("momentum/group0".into(), momentum as f32);
        for (name, t) in Mlp::PARAM_NAMES.iter().zip(tensors) {
            let ratio = if t.param_norm > 0.0 {
                t.update_norm / t.param_norm
            } else {
                0.0
            };
            push(format!("update_ratio/{name}"), ratio as f32);
        }
    }

    /// One finished epoch (x = its 1-based number).
    pub fn record_epoch(&mut self, row: &EpochMetrics) {
        let wall_time = now();
        for (tag, value) in [
            ("epoch/train_loss", row.train_loss),
            ("epoch/train_accuracy", row.train_accuracy),
            ("epoch/test_loss", row.test_loss),
            ("epoch/test_accuracy", row.test_accuracy),
        ] {
            self.scalars.push(Scalar {
                tag: tag.into(),
                step: row.epoch as i64,
                value: value as f32,
                wall_time,
            });
        }
    }

    /// Writes the event file into `dir` (atomically, replacing the previous one).
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        use anyhow::Context;
        write_file(dir, self.start_wall_time, &self.scalars)
            .with_context(|| format!("cannot write {}", dir.join(FILE_NAME).display()))
    }
}

/// The bytes of a whole event file: the version record, then one record per scalar in order.
pub fn encode_file(start_wall_time: f64, scalars: &[Scalar]) -> Vec<u8> {
    let mut file = Vec::new();
    let mut version = Vec::new();
    put_double(&mut version, 1, start_wall_time);
    put_bytes(&mut version, 3, b"brain.Event:2");
    put_record(&mut file, &version);
    for scalar in scalars {
        put_record(&mut file, &scalar_event(scalar));
    }
    file
}

/// Writes the event file of a run into `dir` atomically (a temporary file renamed over
/// [`FILE_NAME`]), so that a reader or a crash never sees half a file.
pub fn write_file(dir: &Path, start_wall_time: f64, scalars: &[Scalar]) -> std::io::Result<()> {
    let path = dir.join(FILE_NAME);
    let tmp = dir.join(format!(".{FILE_NAME}.tmp"));
    std::fs::write(&tmp, encode_file(start_wall_time, scalars))?;
    std::fs::rename(&tmp, &path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// `Event { wall_time, step, summary: Summary { value: [Value { tag, simple_value }] } }`.
fn scalar_event(scalar: &Scalar) -> Vec<u8> {
    let mut value = Vec::new();
    put_bytes(&mut value, 1, scalar.tag.as_bytes());
    put_key(&mut value, 2, FIXED32);
    value.extend_from_slice(&scalar.value.to_le_bytes());
    let mut summary = Vec::new();
    put_bytes(&mut summary, 1, &value);
    let mut event = Vec::new();
    put_double(&mut event, 1, scalar.wall_time);
    put_key(&mut event, 2, VARINT);
    // int64 is encoded as the two's-complement u64 (negative steps take 10 bytes, as in protobuf).
    put_varint(&mut event, scalar.step as u64);
    put_bytes(&mut event, 5, &summary);
    event
}

const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LENGTH_DELIMITED: u64 = 2;
const FIXED32: u64 = 5;

fn put_key(out: &mut Vec<u8>, field: u64, wire_type: u64) {
    put_varint(out, field << 3 | wire_type);
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_double(out: &mut Vec<u8>, field: u64, v: f64) {
    put_key(out, field, FIXED64);
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_key(out, field, LENGTH_DELIMITED);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// TensorFlow's masked CRC-32C: a CRC stored next to the data it covers is rotated and offset,
/// so that the CRC of a string that itself holds CRCs stays well distributed.
fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

fn put_record(out: &mut Vec<u8>, data: &[u8]) {
    let len = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
}

/// Reads back a file written by [`encode_file`]: its start time and scalars, or `None` if it is
/// not such a file (a CRC, a length or a field that does not fit).
fn decode_file(mut file: &[u8]) -> Option<(f64, Vec<Scalar>)> {
    let mut start = None;
    let mut scalars = Vec::new();
    while !file.is_empty() {
        let len_bytes: [u8; 8] = file.get(..8)?.try_into().ok()?;
        let crc = u32::from_le_bytes(file.get(8..12)?.try_into().ok()?);
        if crc != masked_crc(&len_bytes) {
            return None;
        }
        let len = usize::try_from(u64::from_le_bytes(len_bytes)).ok()?;
        let end = len.checked_add(16)?;
        let data = file.get(12..12 + len)?;
        let crc = u32::from_le_bytes(file.get(12 + len..end)?.try_into().ok()?);
        if crc != masked_crc(data) {
            return None;
        }
        let event = decode_event(data)?;
        match (start, event) {
            (None, Decoded::Version(wall_time)) => start = Some(wall_time),
            (Some(_), Decoded::Scalar(scalar)) => scalars.push(scalar),
            _ => return None,
        }
        file = &file[end..];
    }
    Some((start?, scalars))
}

enum Decoded {
    Version(f64),
    Scalar(Scalar),
}

/// The fields this module writes, in the order it writes them.
fn decode_event(mut data: &[u8]) -> Option<Decoded> {
    let wall_time = f64::from_le_bytes(expect_key(&mut data, 1, FIXED64, 8)?.try_into().ok()?);
    if data.first() == Some(&((3 << 3) | LENGTH_DELIMITED as u8)) {
        let version = take_bytes(&mut data, 3)?;
        return (version == b"brain.Event:2" && data.is_empty())
            .then_some(Decoded::Version(wall_time));
    }
    expect_key(&mut data, 2, VARINT, 0)?;
    let step = take_varint(&mut data)? as i64;
    let mut summary = take_bytes(&mut data, 5)?;
    let mut value = take_bytes(&mut summary, 1)?;
    let tag = String::from_utf8(take_bytes(&mut value, 1)?.to_vec()).ok()?;
    let float = f32::from_le_bytes(expect_key(&mut value, 2, FIXED32, 4)?.try_into().ok()?);
    let done = data.is_empty() && summary.is_empty() && value.is_empty();
    done.then_some(Decoded::Scalar(Scalar {
        tag,
        step,
        value: float,
        wall_time,
    }))
}

/// Takes the key `field`/`wire_type`, then `width` bytes (0: none).
fn expect_key<'a>(
    data: &mut &'a [u8],
    field: u64,
    wire_type: u64,
    width: usize,
) -> Option<&'a [u8]> {
    if take_varint(data)? != field << 3 | wire_type {
        return None;
    }
    let (taken, rest) = (data.get(..width)?, data.get(width..)?);
    *data = rest;
    Some(taken)
}

fn take_bytes<'a>(data: &mut &'a [u8], field: u64) -> Option<&'a [u8]> {
    expect_key(data, field, LENGTH_DELIMITED, 0)?;
    let len = usize::try_from(take_varint(data)?).ok()?;
    let (taken, rest) = (data.get(..len)?, data.get(len..)?);
    *data = rest;
    Some(taken)
}

fn take_varint(data: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..70).step_by(7) {
        let (&byte, rest) = data.split_first()?;
        *data = rest;
        value |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the records back, checking both CRCs of each: the TFRecord reader's own checks.
    fn records(mut file: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while !file.is_empty() {
            let len_bytes: [u8; 8] = file[..8].try_into().expect("8 bytes");
            let len = u64::from_le_bytes(len_bytes) as usize;
            let crc = u32::from_le_bytes(file[8..12].try_into().expect("4 bytes"));
            assert_eq!(crc, masked_crc(&len_bytes), "length CRC");
            let data = &file[12..12 + len];
            let crc = u32::from_le_bytes(file[12 + len..16 + len].try_into().expect("4 bytes"));
            assert_eq!(crc, masked_crc(data), "data CRC");
            out.push(data.to_vec());
            file = &file[16 + len..];
        }
        out
    }

    #[test]
    fn crc32c_is_the_castagnoli_polynomial() {
        // RFC 3720, B.4: 32 bytes of zeros, and the check value of "123456789".
        assert_eq!(crc32c::crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        // TensorFlow's mask of 0 (crc32c_test.cc: Mask(crc) != crc, Unmask(Mask(crc)) == crc).
        let crc = crc32c::crc32c(b"foo");
        let masked = masked_crc(b"foo");
        assert_ne!(masked, crc);
        assert_eq!(masked.wrapping_sub(0xa282_ead8).rotate_left(15), crc);
    }

    #[test]
    fn the_version_record_is_byte_for_byte_what_tensorflow_writes() {
        // Python's event_pb2.Event(wall_time=1.5, file_version="brain.Event:2")
        // .SerializeToString(): key 0x09 (field 1, fixed64) and the double, then key 0x1a
        // (field 3, length-delimited), the length and the text.
        let file = encode_file(1.5, &[]);
        let records = records(&file);
        assert_eq!(records.len(), 1);
        let mut want = vec![0x09];
        want.extend_from_slice(&1.5f64.to_le_bytes());
        want.extend_from_slice(&[0x1a, 13]);
        want.extend_from_slice(b"brain.Event:2");
        assert_eq!(records[0], want);
        assert_eq!(file.len(), 16 + want.len());
    }

    #[test]
    fn a_scalar_is_an_event_with_one_summary_value() {
        let scalar = Scalar {
            tag: "train/loss".into(),
            step: 300,
            value: 0.25,
            wall_time: 2.0,
        };
        let file = encode_file(1.0, std::slice::from_ref(&scalar));
        let records = records(&file);
        assert_eq!(records.len(), 2);
        let mut value = vec![0x0a, 10];
        value.extend_from_slice(b"train/loss");
        value.push(0x15);
        value.extend_from_slice(&0.25f32.to_le_bytes());
        let mut want = vec![0x09];
        want.extend_from_slice(&2.0f64.to_le_bytes());
        // step 300 = 0b10_0101100: varint bytes 0xac 0x02.
        want.extend_from_slice(&[0x10, 0xac, 0x02]);
        want.extend_from_slice(&[0x2a, value.len() as u8 + 2, 0x0a, value.len() as u8]);
        want.extend_from_slice(&value);
        assert_eq!(records[1], want);
    }

    #[test]
    fn a_file_reads_back_as_written_and_damage_is_noticed() {
        let scalars = vec![
            Scalar {
                tag: "update_ratio/fc1.weight".into(),
                step: 1_000_000_000_000,
                value: 1e-3,
                wall_time: 1.7e9,
            },
            Scalar {
                tag: "epoch/test_accuracy".into(),
                step: -3,
                value: 86.5,
                wall_time: 1.7e9 + 0.25,
            },
        ];
        let file = encode_file(1.6e9, &scalars);
        assert_eq!(decode_file(&file), Some((1.6e9, scalars)));
        for at in [3, 9, 14, file.len() - 1] {
            let mut damaged = file.clone();
            damaged[at] ^= 1;
            assert_eq!(decode_file(&damaged), None, "a flipped bit at {at}");
        }
        assert_eq!(decode_file(&file[..file.len() - 2]), None, "a cut file");
    }

    #[test]
    fn a_resumed_board_keeps_what_its_checkpoint_covers() {
        let dir = tempfile::tempdir().expect("temp dir");
        let scalar = |tag: &str, step| Scalar {
            tag: tag.into(),
            step,
            value: step as f32,
            wall_time: 5.0,
        };
        let written = vec![
            scalar("train/loss", 1),
            scalar("train/loss", 2),
            scalar("epoch/test_loss", 1),
            scalar("train/loss", 3),
            scalar("epoch/test_loss", 2),
        ];
        write_file(dir.path(), 4.0, &written).expect("write");
        // A checkpoint after step 2 and epoch 1: step 3 and epoch 2 came after it.
        let board = Board::resume(dir.path(), 2, 1);
        assert_eq!(board.start_wall_time, 4.0);
        assert_eq!(board.scalars, written[..3].to_vec());
        // A damaged file starts a fresh board (the checkpoint, not the chart, is the record).
        std::fs::write(dir.path().join(FILE_NAME), b"not an event file").expect("write");
        assert!(Board::resume(dir.path(), 2, 1).scalars.is_empty());
        assert!(Board::resume(dir.path(), 0, 0).scalars.is_empty());
    }
}
