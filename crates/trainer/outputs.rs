//! What a run writes: atomic file writes, the default folder name, `metrics.csv` and `trace.csv`.
//!
//! Every file is written whole to a temporary name in the same folder and then renamed over
//! the old one, so a run killed at any moment leaves either the old or the new complete file.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// `runs/<timestamp>-<scheduler>/`, the default output folder.
pub fn default_out_dir(scheduler_name: &str) -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let stamp: String = stamp
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    let stamp = stamp.replace('T', "-");
    PathBuf::from("runs").join(format!("{stamp}-{}", scheduler_name.to_lowercase()))
}

/// The header of `metrics.csv` (a contract: see DESIGN.md).
pub const METRICS_HEADER: &str =
    "epoch,lr,train_loss,train_accuracy,test_loss,test_accuracy,train_seconds,epoch_seconds";

/// One row of `metrics.csv`: one epoch (accuracy in percent, loss = mean cross-entropy).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: u64,
    /// The lr the epoch's first optimizer step used.
    pub lr: f64,
    /// Mean cross-entropy over the epoch's training samples, each measured before its update.
    pub train_loss: f64,
    /// Percent of the epoch's training samples classified correctly (before each update).
    pub train_accuracy: f64,
    /// Mean cross-entropy on the test set after the epoch.
    pub test_loss: f64,
    /// Percent of the test set classified correctly after the epoch.
    pub test_accuracy: f64,
    /// Seconds spent in the epoch's training steps.
    pub train_seconds: f64,
    /// Seconds for the whole epoch, test pass included.
    pub epoch_seconds: f64,
}

impl EpochMetrics {
    fn csv_row(&self) -> String {
        format!(
            "{},{},{},{},{},{},{:.6},{:.6}",
            self.epoch,
            self.lr,
            self.train_loss,
            self.train_accuracy,
            self.test_loss,
            self.test_accuracy,
            self.train_seconds,
            self.epoch_seconds
        )
    }
}

/// The text of `metrics.csv` for these epochs.
pub fn metrics_csv(rows: &[EpochMetrics]) -> String {
    let mut text = String::with_capacity(64 * (rows.len() + 1));
    text.push_str(METRICS_HEADER);
    text.push('\n');
    for row in rows {
        text.push_str(&row.csv_row());
        text.push('\n');
    }
    text
}

/// `trace.csv`: one row per optimizer step, kept in memory and written whole at every epoch end.
#[derive(Debug)]
pub struct Trace {
    text: String,
    columns: TraceColumns,
}

/// The per-tensor columns of a trace: SGD's norms, or Adam's (the same three, then its moments
/// and step instead of a momentum buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceColumns {
    /// `grad_norm`, `update_norm`, `param_norm`, `buffer_norm`.
    Sgd,
    /// `grad_norm`, `update_norm`, `param_norm`, `exp_avg_norm`, `exp_avg_sq_norm`,
    /// `step_norm` (see `optim::AdamNorms`).
    Adam,
}

impl TraceColumns {
    /// The columns of this optimizer's trace.
    pub fn of(optimizer: &optim::Optimizer) -> TraceColumns {
        match optimizer {
            optim::Optimizer::Sgd(_) => TraceColumns::Sgd,
            optim::Optimizer::Adam(_) => TraceColumns::Adam,
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            TraceColumns::Sgd => &["grad_norm", "update_norm", "param_norm", "buffer_norm"],
            TraceColumns::Adam => &[
                "grad_norm",
                "update_norm",
                "param_norm",
                "exp_avg_norm",
                "exp_avg_sq_norm",
                "step_norm",
            ],
        }
    }
}

impl Trace {
    /// A trace with the header for these parameter tensors.
    pub fn new(param_names: &[&str], columns: TraceColumns) -> Trace {
        let mut text = String::from("step,epoch,lr,loss");
        for name in param_names {
            for what in columns.names() {
                let _ = write!(text, ",{name}.{what}");
            }
        }
        text.push('\n');
        Trace { text, columns }
    }

    /// Continues an existing `trace.csv`, keeping only the rows of steps `<= last_step`. The
    /// file must hold every step from 1 to `last_step` (a run writes it before each
    /// checkpoint): a missing, foreign or cut trace is an error, not a trace with a gap.
    pub fn resume(
        path: &Path,
        param_names: &[&str],
        columns: TraceColumns,
        last_step: u64,
    ) -> anyhow::Result<Trace> {
        let mut trace = Trace::new(param_names, columns);
        let limit = crate::input_file::CSV_MAX_BYTES;
        let old = crate::input_file::read_text(path, "the trace", limit).with_context(|| {
            format!(
                "cannot continue the trace: {} cannot be read, and the run has taken {last_step} steps",
                path.display()
            )
        })?;
        let mut lines = old.lines();
        if lines.next() != Some(trace.text.trim_end()) {
            anyhow::bail!(
                "cannot continue the trace: {} does not start with this model's trace header",
                path.display()
            );
        }
        let mut kept = 0;
        for line in lines {
            let step = line.split(',').next().and_then(|s| s.parse::<u64>().ok());
            match step {
                Some(s) if s <= last_step && s == kept + 1 => {
                    trace.text.push_str(line);
                    trace.text.push('\n');
                    kept = s;
                }
                _ => break,
            }
        }
        if kept != last_step {
            anyhow::bail!(
                "cannot continue the trace: {} holds steps 1 to {kept} in order, but the checkpoint is after step {last_step}; the trace would have a gap (put back the run's trace.csv, or start the run again)",
                path.display()
            );
        }
        Ok(trace)
    }

    /// Appends one step: `lr` is the lr the step used, `loss` the batch's loss before the update.
    /// Per tensor: the norms of gradient, applied update and parameters, then of SGD's momentum
    /// buffer or of Adam's moments and step.
    pub fn push(
        &mut self,
        step: u64,
        epoch: u64,
        lr: f64,
        loss: f32,
        tensors: &[optim::TensorReport],
    ) {
        let _ = write!(self.text, "{step},{epoch},{lr},{loss}");
        for t in tensors {
            let _ = write!(
                self.text,
                ",{},{},{}",
                t.grad_norm as f32, t.update_norm as f32, t.param_norm as f32
            );
            match self.columns {
                TraceColumns::Sgd => {
                    let _ = write!(self.text, ",{}", t.buffer_norm as f32);
                }
                TraceColumns::Adam => {
                    let a = t.adam.unwrap_or_default();
                    let _ = write!(
                        self.text,
                        ",{},{},{}",
                        a.exp_avg_norm as f32, a.exp_avg_sq_norm as f32, a.step_norm as f32
                    );
                }
            }
        }
        self.text.push('\n');
    }

    /// The whole CSV text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new contents").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new contents");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn trace_resume_keeps_rows_up_to_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trace.csv");
        let mut t = Trace::new(&["w"], TraceColumns::Sgd);
        let n = || optim::TensorReport {
            lr: 0.1,
            grad_norm: 1.0,
            update_norm: 2.0,
            param_norm: 3.0,
            buffer_norm: 4.0,
            adam: None,
        };
        for step in 1..=5 {
            t.push(step, 1, 0.1, 0.5, &[n()]);
        }
        fs::write(&path, t.as_str()).unwrap();
        let r = Trace::resume(&path, &["w"], TraceColumns::Sgd, 3).unwrap();
        assert_eq!(r.as_str().lines().count(), 4);
        assert!(r
            .as_str()
            .lines()
            .last()
            .unwrap()
            .starts_with("3,1,0.1,0.5,1,2,3,4"));
    }

    #[test]
    fn trace_resume_refuses_a_trace_with_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trace.csv");
        let err = Trace::resume(&path, &["w"], TraceColumns::Sgd, 3)
            .unwrap_err()
            .to_string();
        assert!(err.contains("trace.csv"), "{err}");
        let n = optim::TensorReport::default();
        let mut t = Trace::new(&["w"], TraceColumns::Sgd);
        for step in [1, 2, 4] {
            t.push(step, 1, 0.1, 0.5, &[n]);
        }
        fs::write(&path, t.as_str()).unwrap();
        let err = Trace::resume(&path, &["w"], TraceColumns::Sgd, 4)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("steps 1 to 2") && err.contains("step 4"),
            "{err}"
        );
        fs::write(&path, "step,epoch,lr,loss,other\n1,1,0.1,0.5\n").unwrap();
        assert!(Trace::resume(&path, &["w"], TraceColumns::Sgd, 1).is_err());
    }

    #[test]
    fn metrics_csv_has_the_contract_header() {
        let row = EpochMetrics {
            epoch: 1,
            lr: 0.1,
            train_loss: 0.5,
            train_accuracy: 80.0,
            test_loss: 0.6,
            test_accuracy: 79.5,
            train_seconds: 0.25,
            epoch_seconds: 0.3,
        };
        let text = metrics_csv(&[row]);
        assert_eq!(text.lines().next().unwrap(), METRICS_HEADER);
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "1,0.1,0.5,80,0.6,79.5,0.250000,0.300000"
        );
    }
}
