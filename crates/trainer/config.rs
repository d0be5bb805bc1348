//! The run configuration: a TOML file with PyTorch's names, plus command-line overrides.
//!
//! ```toml
//! epochs = 5            # top level: epochs, seed, max_steps, trace
//! seed = 0
//! [data]                # dir, batch_size, shuffle
//! batch_size = 256
//! [model]               # hidden
//! hidden = 100
//! [optimizer]           # torch.optim.SGD's, Adam's or AdamW's keyword arguments
//! name = "SGD"         # or "Adam", "AdamW" (betas = [0.9, 0.999], eps, amsgrad, ...)
//! lr = 0.1
//! momentum = 0.9
//! nesterov = true
//! [scheduler]           # a torch.optim.lr_scheduler class and its keyword arguments,
//! name = "StepLR"       # plus `interval` (when step() is called) and, for ReduceLROnPlateau,
//! step_size = 4         # `monitor` (which metric it is fed)
//! gamma = 0.96
//! interval = "epoch"
//! ```
//!
//! Rules: a table you leave out is the default job's (the tutorial's StepLR experiment); a key
//! you leave out of a table you wrote takes PyTorch's default, as it would in Python. Unknown
//! keys are errors. Flags override single keys. `name = "none"` in `[scheduler]` means no
//! scheduler.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

#[path = "config_check.rs"]
mod check;
pub use check::{at_value_line, check_tables};

/// The keys of `[scheduler]` that belong to the trainer, not to the PyTorch class.
const TRAINER_SCHEDULER_KEYS: [&str; 2] = ["interval", "monitor"];

/// A whole run, as read from (and written back to) `config.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Passes over the training set.
    #[serde(default = "default_epochs")]
    pub epochs: u64,
    /// Seeds the initial weights and the per-epoch shuffle.
    #[serde(default)]
    pub seed: u64,
    /// Stop after this many optimizer steps (across epochs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u64>,
    /// Write `trace.csv` (one row per optimizer step). Part of the config so that a resumed run
    /// keeps tracing.
    #[serde(default)]
    pub trace: bool,
    /// `[data]`.
    #[serde(default)]
    pub data: DataConfig,
    /// `[model]`.
    #[serde(default)]
    pub model: ModelConfig,
    /// `[optimizer]`: `name = "SGD"` and `torch.optim.SGD`'s keyword arguments.
    #[serde(default = "default_optimizer")]
    pub optimizer: Table,
    /// `[scheduler]`: a scheduler class, its keyword arguments, `interval` and `monitor`.
    #[serde(default = "default_scheduler")]
    pub scheduler: Table,
}

/// `[data]`: where the IDX files are and how batches are drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// The folder with the four Fashion-MNIST files; absent means "search the usual places".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// Samples per optimizer step (the last batch of an epoch may be smaller, as in PyTorch).
    #[serde(default = "default_batch_size")]
    pub batch_size: u64,
    /// Draw batches in a seeded random order each epoch (false: file order).
    #[serde(default = "default_true")]
    pub shuffle: bool,
}

/// `[model]`: the 784-hidden-10 MLP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Width of the hidden layer.
    #[serde(default = "default_hidden")]
    pub hidden: u64,
    /// Start from these weights (safetensors) instead of a seeded initialisation
    /// (`--init-weights`). Part of the config so that a run resumed before its first checkpoint
    /// starts from them again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_weights: Option<PathBuf>,
}

fn default_epochs() -> u64 {
    5
}
fn default_batch_size() -> u64 {
    256
}
fn default_true() -> bool {
    true
}
fn default_hidden() -> u64 {
    100
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            dir: None,
            batch_size: default_batch_size(),
            shuffle: true,
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            hidden: default_hidden(),
            init_weights: None,
        }
    }
}

impl Default for RunConfig {
    /// The tutorial's first experiment: SGD(lr=0.1, momentum=0.9, nesterov=True), batch 256,
    /// 5 epochs, StepLR(step_size=4, gamma=0.96) stepped after every epoch, seed 0.
    fn default() -> Self {
        RunConfig {
            epochs: default_epochs(),
            seed: 0,
            max_steps: None,
            trace: false,
            data: DataConfig::default(),
            model: ModelConfig::default(),
            optimizer: default_optimizer(),
            scheduler: default_scheduler(),
        }
    }
}

fn default_optimizer() -> Table {
    table(&[
        ("name", "SGD".into()),
        ("lr", 0.1.into()),
        ("momentum", 0.9.into()),
        ("nesterov", true.into()),
    ])
}

fn default_scheduler() -> Table {
    scheduler_shorthand("step").unwrap_or_default()
}

fn table(entries: &[(&str, Value)]) -> Table {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// The table a `--scheduler` value stands for: the shorthands `step`, `plateau` and `none`
/// (the tutorial's two experiments and no schedule), or a PyTorch class name alone.
pub fn scheduler_shorthand(name: &str) -> Option<Table> {
    let t = match name {
        "step" => table(&[
            ("name", "StepLR".into()),
            ("step_size", 4.into()),
            ("gamma", 0.96.into()),
            ("interval", "epoch".into()),
        ]),
        "plateau" => table(&[
            ("name", "ReduceLROnPlateau".into()),
            ("mode", "max".into()),
            ("factor", 0.5.into()),
            ("patience", 1.into()),
            ("interval", "epoch".into()),
            ("monitor", "test_accuracy".into()),
        ]),
        "none" => table(&[("name", "none".into())]),
        _ => return None,
    };
    Some(t)
}

impl RunConfig {
    /// Reads a config file; errors name the file, the key and what is allowed.
    pub fn load(path: &Path) -> anyhow::Result<RunConfig> {
        let text = crate::input_file::read_text(
            path,
            "the config file",
            crate::input_file::CONFIG_MAX_BYTES,
        )?;
        RunConfig::parse(&text).with_context(|| format!("in the config file {}", path.display()))
    }

    /// Parses the TOML text of a config.
    pub fn parse(text: &str) -> anyhow::Result<RunConfig> {
        let config: RunConfig = toml::from_str(text).map_err(|e| {
            let message = e
                .message()
                .trim()
                .replace("expected u64", "expected a whole number >= 0");
            anyhow::anyhow!(check::shorten_quoted(&message)).context(location(text, e.span()))
        })?;
        check::check_tables(text)?;
        // The optimizer's keys and values are checked here, where the text can say where
        // they are; `name` is "SGD" when left out.
        let mut config = config;
        config
            .optimizer
            .entry("name")
            .or_insert_with(|| Value::String("SGD".into()));
        if let Err(e) = crate::training::optimizer_config(&config.optimizer) {
            return Err(match optimizer_key_location(text, &format!("{e:#}")) {
                Some(at) => e.context(at),
                None => e,
            });
        }
        Ok(config)
    }

    /// The TOML text written to a run's `config.toml`.
    pub fn to_toml(&self) -> anyhow::Result<String> {
        toml::to_string(self).context("cannot write the run configuration as TOML")
    }

    /// The `[scheduler]` table without the trainer's own keys: what the PyTorch class receives.
    /// `None` when the run has no scheduler.
    pub fn scheduler_class_table(&self) -> Option<Table> {
        let mut t = self.scheduler.clone();
        for key in TRAINER_SCHEDULER_KEYS {
            t.remove(key);
        }
        match t.get("name").and_then(Value::as_str) {
            Some("none") => None,
            _ => Some(t),
        }
    }

    /// The scheduler's class name (`"none"` when there is none).
    pub fn scheduler_name(&self) -> &str {
        self.scheduler
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("none")
    }

    /// When `scheduler.step()` is called.
    pub fn interval(&self) -> anyhow::Result<Interval> {
        match self.scheduler.get("interval") {
            None => Ok(Interval::Epoch),
            Some(Value::String(s)) if s == "epoch" => Ok(Interval::Epoch),
            Some(Value::String(s)) if s == "step" => Ok(Interval::Step),
            Some(v) => bail!("scheduler.interval = {v} is not allowed: use \"epoch\" (after every epoch) or \"step\" (after every optimizer step)"),
        }
    }

    /// Which metric ReduceLROnPlateau is fed. Defaults to `test_accuracy` for `mode = "max"`
    /// and `test_loss` for `mode = "min"` (PyTorch's default mode).
    pub fn monitor(&self) -> anyhow::Result<Option<Monitor>> {
        let is_plateau = self.scheduler_name() == "ReduceLROnPlateau";
        match (self.scheduler.get("monitor"), is_plateau) {
            (None, false) => Ok(None),
            (Some(_), false) => bail!(
                "scheduler.monitor only applies to ReduceLROnPlateau, not to {}; remove it",
                self.scheduler_name()
            ),
            (None, true) => {
                let max = self.scheduler.get("mode").and_then(Value::as_str) == Some("max");
                Ok(Some(if max {
                    Monitor::TestAccuracy
                } else {
                    Monitor::TestLoss
                }))
            }
            (Some(v), true) => {
                let name = v.as_str().unwrap_or_default();
                match Monitor::ALL.iter().find(|m| m.name() == name) {
                    Some(m) => Ok(Some(*m)),
                    None => bail!(
                        "scheduler.monitor = {v} is not a metric: use one of {}",
                        Monitor::ALL.map(|m| format!("\"{}\"", m.name())).join(", ")
                    ),
                }
            }
        }
    }

    /// Checks the trainer's own settings (the optimizer and scheduler check theirs when built).
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.epochs == 0 {
            bail!("epochs = 0 is not allowed: train for at least 1 epoch");
        }
        if self.data.batch_size == 0 {
            bail!("data.batch_size = 0 is not allowed: use a batch size of at least 1 (the tutorial uses 256)");
        }
        if self.model.hidden == 0 {
            bail!("model.hidden = 0 is not allowed: the hidden layer needs at least 1 unit (the tutorial uses 100)");
        }
        if self.max_steps == Some(0) {
            bail!("max_steps = 0 is not allowed: leave it out to train every step, or give at least 1");
        }
        crate::limits::check_model(self.model.hidden, self.data.batch_size)?;
        crate::training::optimizer_config(&self.optimizer)?;
        let interval = self.interval()?;
        if let Some(monitor) = self.monitor()? {
            if interval == Interval::Step {
                bail!(
                    "scheduler.interval = \"step\" does not work with ReduceLROnPlateau: it is fed {} once per epoch; use interval = \"epoch\"",
                    monitor.name()
                );
            }
        }
        Ok(())
    }
}

/// [`at_value_line`] for the config file at `path`, naming the file too; the error as it is
/// when there is no file, it cannot be read again, or the value is not the file's.
pub fn in_config_file(path: Option<&Path>, e: anyhow::Error) -> anyhow::Error {
    let Some(path) = path else {
        return e;
    };
    let limit = crate::input_file::CONFIG_MAX_BYTES;
    match crate::input_file::read_text(path, "the config file", limit) {
        Ok(text) => match at_value_line(&text, e) {
            Ok(located) => located.context(format!("in the config file {}", path.display())),
            Err(e) => e,
        },
        Err(_) => e,
    }
}

/// Where in the TOML text an error is: "at line L, column C `the line`", so that the key is
/// named even when the parser's message only describes the value.
/// (A line longer than 80 characters is cut, so a hostile 1 MB line is not echoed whole.)
pub fn location(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return "in the TOML text".to_string();
    };
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = text[..start].matches('\n').count() + 1;
    let column = text[line_start..start].chars().count() + 1;
    let shown = text[line_start..line_end].trim();
    let cut: String = shown.chars().take(80).collect();
    let more = if cut.len() < shown.len() { "..." } else { "" };
    format!("at line {line}, column {column} `{cut}{more}`")
}

/// Where in the text the `[optimizer]` key an error names is (the first name in backquotes:
/// "unknown field `nesterov`", "invalid `betas[0]` = 1"), if the text has it.
fn optimizer_key_location(text: &str, message: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Spans {
        #[serde(default)]
        optimizer: std::collections::BTreeMap<String, toml::Spanned<Value>>,
    }
    let key = message.split('`').nth(1)?.split('[').next()?;
    let spans: Spans = toml::from_str(text).ok()?;
    // The line of the key (its value may be a multi-line array): the line's start.
    let value_start = spans.optimizer.get(key)?.span().start;
    let line_start = text[..value_start].rfind('\n').map_or(0, |i| i + 1);
    Some(location(text, Some(line_start..line_start)))
}

/// When the scheduler steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// After every epoch's optimizer steps (and its test pass).
    Epoch,
    /// After every optimizer step.
    Step,
}

/// A metric ReduceLROnPlateau can be fed at the end of an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Monitor {
    /// Accuracy (percent) on the 10,000 test images, computed fresh at the end of the epoch.
    TestAccuracy,
    /// Mean cross-entropy on the test images.
    TestLoss,
    /// Mean cross-entropy of the epoch's training batches.
    TrainLoss,
    /// Accuracy (percent) on the epoch's training batches.
    TrainAccuracy,
}

impl Monitor {
    /// Every metric, in the order the error message lists them.
    pub const ALL: [Monitor; 4] = [
        Monitor::TestAccuracy,
        Monitor::TestLoss,
        Monitor::TrainLoss,
        Monitor::TrainAccuracy,
    ];

    /// The name used in configs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Monitor::TestAccuracy => "test_accuracy",
            Monitor::TestLoss => "test_loss",
            Monitor::TrainLoss => "train_loss",
            Monitor::TrainAccuracy => "train_accuracy",
        }
    }
}

impl fmt::Display for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_tutorial_step_experiment() {
        let c = RunConfig::default();
        assert_eq!(c.epochs, 5);
        assert_eq!(c.data.batch_size, 256);
        assert_eq!(c.scheduler_name(), "StepLR");
        assert_eq!(c.scheduler.get("step_size"), Some(&Value::Integer(4)));
        assert_eq!(c.interval().ok(), Some(Interval::Epoch));
        assert_eq!(c.optimizer.get("nesterov"), Some(&Value::Boolean(true)));
    }

    #[test]
    fn round_trips_through_toml() {
        let mut c = RunConfig {
            max_steps: Some(40),
            ..RunConfig::default()
        };
        c.data.dir = Some(PathBuf::from("somewhere"));
        let text = c.to_toml().unwrap();
        assert_eq!(RunConfig::parse(&text).unwrap(), c);
    }

    #[test]
    fn unknown_keys_are_errors_that_name_the_key_and_the_line() {
        let err = RunConfig::parse("epochs = 3\n[data]\nbatchsize = 64\n").unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("batchsize"), "{msg}");
        assert!(
            msg.contains("batch_size"),
            "the allowed keys are listed: {msg}"
        );
        assert!(msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn left_out_tables_are_the_default_job() {
        let c = RunConfig::parse("epochs = 2\n").unwrap();
        assert_eq!(c.optimizer, default_optimizer());
        assert_eq!(c.scheduler, default_scheduler());
    }

    #[test]
    fn monitor_defaults_follow_the_mode_and_is_checked() {
        let plateau = |extra: &str| {
            RunConfig::parse(&format!(
                "[scheduler]\nname = \"ReduceLROnPlateau\"\n{extra}"
            ))
            .unwrap()
        };
        assert_eq!(plateau("").monitor().unwrap(), Some(Monitor::TestLoss));
        assert_eq!(
            plateau("mode = \"max\"").monitor().unwrap(),
            Some(Monitor::TestAccuracy)
        );
        assert_eq!(
            plateau("monitor = \"train_loss\"").monitor().unwrap(),
            Some(Monitor::TrainLoss)
        );
        let err = plateau("monitor = \"val_acc\"")
            .monitor()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("val_acc") && err.contains("test_accuracy"),
            "{err}"
        );
        let err = plateau("interval = \"step\"")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("interval"), "{err}");
        let step = RunConfig::parse(
            "[scheduler]\nname = \"StepLR\"\nstep_size = 2\nmonitor = \"test_loss\"\n",
        )
        .unwrap();
        assert!(step.monitor().is_err());
    }

    #[test]
    fn trainer_keys_are_stripped_before_the_class_sees_them() {
        let c = RunConfig::default();
        let t = c.scheduler_class_table().unwrap();
        assert!(!t.contains_key("interval"));
        assert_eq!(t.get("gamma"), Some(&Value::Float(0.96)));
        let none = RunConfig::parse("[scheduler]\nname = \"none\"\n").unwrap();
        assert_eq!(none.scheduler_class_table(), None);
    }

    #[test]
    fn zero_sizes_are_rejected_with_the_key() {
        for (text, key) in [
            ("epochs = 0", "epochs"),
            ("[data]\nbatch_size = 0", "data.batch_size"),
            ("[model]\nhidden = 0", "model.hidden"),
            ("max_steps = 0", "max_steps"),
        ] {
            let err = RunConfig::parse(text)
                .unwrap()
                .validate()
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{text}: {err}");
        }
        // An optimizer the crate does not have is an error of the file, with its line.
        let err = format!(
            "{:#}",
            RunConfig::parse("[optimizer]\nname = \"Adagrad\"").unwrap_err()
        );
        assert!(err.contains("line 2") && err.contains("Adagrad"), "{err}");
    }

    #[test]
    fn optimizer_errors_name_the_key_and_its_line() {
        for (text, needles) in [
            (
                "epochs = 1\n[optimizer]\nname = \"Adam\"\nlr = 0.01\nnesterov = true\n",
                &["line 5", "nesterov", "betas"][..],
            ),
            (
                "[optimizer]\nname = \"AdamW\"\nbetas = [0.9, 1.0]\n",
                &["line 3", "betas[1]", "[0, 1)"][..],
            ),
            (
                "[optimizer]\nname = \"Adam\"\neps = -1.0\n",
                &["line 3", "`eps`"][..],
            ),
            (
                "[optimizer]\nname = \"Adagrad\"\n",
                &["Adagrad", "AdamW"][..],
            ),
        ] {
            let err = format!("{:#}", RunConfig::parse(text).unwrap_err());
            for needle in needles {
                assert!(err.contains(needle), "{text}: {needle} not in {err}");
            }
        }
        // An SGD table without `name` is SGD, and the other optimizers' keys take PyTorch's
        // defaults.
        let c = RunConfig::parse("[optimizer]\nlr = 0.05\nmomentum = 0.9\n").unwrap();
        assert_eq!(c.optimizer.get("name"), Some(&Value::String("SGD".into())));
        c.validate().unwrap();
        let adamw = RunConfig::parse("[optimizer]\nname = \"AdamW\"\n").unwrap();
        assert_eq!(
            crate::training::optimizer_config(&adamw.optimizer).unwrap(),
            optim::OptimizerConfig::AdamW(optim::AdamConfig::adamw_default())
        );
    }
}
