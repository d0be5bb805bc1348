//! `trainer train`: the command line of a training run, resolved into a [`RunConfig`].

use crate::console;
use std::path::PathBuf;

use anyhow::bail;
use clap::{ArgAction, Args};
use toml::Value;

use crate::config::RunConfig;
use crate::horizon;
use crate::optimizer_flag::OptimizerFlags;
use crate::outputs::{default_out_dir, write_atomic};
use crate::plural::plural;
use crate::resume;
use crate::run_folder::RunFolder;
use crate::scheduler_flag;
use crate::training::{self, RunOptions, Start};

/// Flags of `trainer train` (and of `trainer` alone). Flags override the config file.
#[derive(Args, Debug, Default, Clone)]
#[command(
    after_help = "Examples:\n  trainer train                                  the tutorial's StepLR experiment\n  trainer train --scheduler plateau              ReduceLROnPlateau(mode='max', factor=0.5, patience=1) on test accuracy\n  trainer train --config configs/cosine.toml --epochs 10 --trace --out runs/cosine\n  trainer train --config configs/adamw-cosine.toml --epochs 2 --betas 0.9,0.99   AdamW + cosine; --optimizer sgd|adam|adamw switches\n  trainer train --resume runs/cosine                 carry on from the run's last checkpoint (after Ctrl-C, say)"
)]
pub struct TrainArgs {
    /// Run configuration (TOML with PyTorch's names); flags override its keys.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Passes over the training set [default: 5].
    #[arg(long, value_name = "N")]
    pub epochs: Option<u64>,
    /// Samples per optimizer step [default: 256].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<u64>,
    /// Learning rate [default: 0.1, the default job's SGD; PyTorch's 1e-3 for Adam and AdamW].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// SGD momentum [default: 0.9].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub momentum: Option<f64>,
    /// Nesterov momentum [default: true].
    #[arg(long, value_name = "true|false", action = ArgAction::Set)]
    pub nesterov: Option<bool>,
    /// Weight decay: SGD's and Adam's L2 penalty added to the gradient [default: 0], AdamW's
    /// decoupled decay [default: 1e-2].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub weight_decay: Option<f64>,
    /// Momentum dampening [default: 0].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub dampening: Option<f64>,
    #[command(flatten)]
    pub optimizer_flags: OptimizerFlags,
    /// Width of the hidden layer [default: 100].
    #[arg(long, value_name = "N")]
    pub hidden: Option<u64>,
    /// Seed of the initial weights and of the shuffle [default: 0].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Worker threads (the result is bit-identical for any count) [default: all cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Folder with the Fashion-MNIST files [default: searched, see `trainer data verify`].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Run folder [default: runs/TIMESTAMP-SCHEDULER/]; it must be new or empty.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the run in --out DIR; the old one is kept until the new run writes its first
    /// checkpoint.
    #[arg(long, requires = "out")]
    pub overwrite: bool,
    /// A PyTorch scheduler class name (StepLR, CosineAnnealingLR, ...), or `step`, `plateau`, `none`.
    #[arg(long, value_name = "NAME")]
    pub scheduler: Option<String>,
    /// StepLR's step_size.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub step_size: Option<i64>,
    /// The scheduler's gamma.
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub gamma: Option<f64>,
    /// ReduceLROnPlateau's mode.
    #[arg(long, value_name = "min|max")]
    pub mode: Option<String>,
    /// ReduceLROnPlateau's factor.
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub factor: Option<f64>,
    /// ReduceLROnPlateau's patience (in scheduler steps, that is epochs).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub patience: Option<i64>,
    /// The metric ReduceLROnPlateau is fed: test_accuracy, test_loss, train_loss, train_accuracy.
    #[arg(long, value_name = "METRIC")]
    pub monitor: Option<String>,
    /// When the scheduler steps: after each epoch or after each optimizer step.
    #[arg(long, value_name = "epoch|step")]
    pub interval: Option<String>,
    /// Start from these weights (safetensors, PyTorch names) instead of a fresh initialisation.
    #[arg(long, value_name = "FILE.safetensors")]
    pub init_weights: Option<PathBuf>,
    /// Take batches in file order instead of a seeded shuffle.
    #[arg(long)]
    pub no_shuffle: bool,
    /// Stop after N optimizer steps (across epochs).
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u64>,
    /// Write trace.csv: one row per optimizer step with the optimizer's internals.
    #[arg(long)]
    pub trace: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Continue the run stored in DIR (its config.toml and latest checkpoint).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
}

impl TrainArgs {
    /// The flags that change what the run computes (not allowed with --resume).
    fn changes_the_run(&self) -> bool {
        self.config.is_some()
            || self.batch_size.is_some()
            || self.lr.is_some()
            || self.momentum.is_some()
            || self.nesterov.is_some()
            || self.weight_decay.is_some()
            || self.dampening.is_some()
            || self.optimizer_flags.given()
            || self.hidden.is_some()
            || self.seed.is_some()
            || self.scheduler.is_some()
            || self.step_size.is_some()
            || self.gamma.is_some()
            || self.mode.is_some()
            || self.factor.is_some()
            || self.patience.is_some()
            || self.monitor.is_some()
            || self.interval.is_some()
            || self.init_weights.is_some()
            || self.no_shuffle
            || self.out.is_some()
            || self.overwrite
    }

    /// The run configuration: the config file (or the default job) with the flags applied.
    pub fn resolve(&self) -> anyhow::Result<RunConfig> {
        let mut c = match &self.config {
            Some(path) => RunConfig::load(path)?,
            None => RunConfig::default(),
        };
        self.apply(&mut c)?;
        c.validate()?;
        Ok(c)
    }

    fn apply(&self, c: &mut RunConfig) -> anyhow::Result<()> {
        if let Some(v) = self.epochs {
            c.epochs = v;
        }
        if let Some(v) = self.seed {
            c.seed = v;
        }
        if let Some(v) = self.max_steps {
            c.max_steps = Some(v);
        }
        if let Some(v) = self.batch_size {
            c.data.batch_size = v;
        }
        if self.no_shuffle {
            c.data.shuffle = false;
        }
        if let Some(v) = &self.data_dir {
            c.data.dir = Some(v.clone());
        }
        if self.trace {
            c.trace = true;
        }
        if let Some(v) = &self.init_weights {
            c.model.init_weights = Some(v.clone());
        }
        if let Some(v) = self.hidden {
            c.model.hidden = v;
        }
        let sgd_flags: Vec<&str> = [
            ("--momentum", self.momentum.is_some()),
            ("--nesterov", self.nesterov.is_some()),
            ("--dampening", self.dampening.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect();
        self.optimizer_flags
            .apply(&mut c.optimizer, &sgd_flags, |o| {
                set(o, "lr", self.lr.map(Value::Float));
                set(o, "momentum", self.momentum.map(Value::Float));
                set(o, "nesterov", self.nesterov.map(Value::Boolean));
                set(o, "weight_decay", self.weight_decay.map(Value::Float));
                set(o, "dampening", self.dampening.map(Value::Float));
            })?;
        if let Some(name) = &self.scheduler {
            c.scheduler = scheduler_flag::table_of(name)?;
        }
        let s = &mut c.scheduler;
        set(s, "step_size", self.step_size.map(Value::Integer));
        set(s, "gamma", self.gamma.map(Value::Float));
        set(s, "mode", self.mode.clone().map(Value::String));
        set(s, "factor", self.factor.map(Value::Float));
        set(s, "patience", self.patience.map(Value::Integer));
        set(s, "monitor", self.monitor.clone().map(Value::String));
        set(s, "interval", self.interval.clone().map(Value::String));
        let given = [
            self.step_size.is_some(),
            self.gamma.is_some(),
            self.mode.is_some(),
            self.factor.is_some(),
            self.patience.is_some(),
            self.monitor.is_some(),
            self.interval.is_some(),
        ];
        let flags: Vec<&str> = scheduler_flag::FLAG_KEYS
            .iter()
            .zip(given)
            .filter_map(|((flag, _), given)| given.then_some(*flag))
            .collect();
        if self.scheduler.is_some() || !flags.is_empty() {
            scheduler_flag::check_flags(&c.scheduler, &flags)?;
        }
        Ok(())
    }
}

fn set(table: &mut toml::Table, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        table.insert(key.to_string(), v);
    }
}

/// What to do about an `--out` folder that holds files, for the refusal message.
fn new_run_hint(dir: &std::path::Path) -> String {
    format!(
        "continue that run with `trainer train --resume {}`, or replace it with `--overwrite` (the old run is kept until the new one writes its first checkpoint)",
        dir.display()
    )
}

/// Runs `trainer train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    if args.resume.is_some() && args.changes_the_run() {
        bail!("--resume continues the run exactly as its config.toml says; only --epochs, --max-steps, --threads, --data-dir, --trace and --quiet may be given with it");
    }
    // A folder to resume is locked first: a second writer is refused before any work.
    let resumed_folder = args.resume.as_deref().map(RunFolder::resume).transpose()?;
    let (mut config, resume_from, write_config) = match &args.resume {
        Some(dir) => {
            let resumed = resume::resume(dir, |c| args.apply(c), args.trace)?;
            (resumed.config, resumed.checkpoint, resumed.config_changed)
        }
        None => {
            let config = args.resolve()?;
            if let Some(out) = &args.out {
                RunFolder::check_new(out, args.overwrite, &new_run_hint(out))?;
            }
            (config, None, true)
        }
    };
    if let Some(threads) = args.threads {
        training::use_threads(threads)?;
    }
    let data = training::load_data(config.data.dir.as_deref())?;
    // "auto" horizons become the run's number of scheduler steps (which needs the data's size),
    // and horizons that do not fit the run are named before anything is written.
    let in_file = |e| crate::config::in_config_file(args.config.as_deref(), e);
    for warning in horizon::settle(&mut config, data.train.len()).map_err(in_file)? {
        console::eprintln(format_args!("warning: {warning}"));
    }
    // Check the optimizer and scheduler settings before anything is written.
    let probe = autograd_lite::Mlp::new(training::INPUTS, 1, training::CLASSES, 0);
    training::build_optimizer(&config, &probe).map_err(in_file)?;
    // The weights are loaded (and checked) once, before anything is written.
    let start = match resume_from {
        Some((mlp, state)) => Start::Resume(mlp, Box::new(state)),
        None => Start::fresh(&config)?,
    };
    let mut folder = match (resumed_folder, &args.out) {
        (Some(folder), _) => folder,
        (None, Some(out)) => RunFolder::create(out, args.overwrite, &new_run_hint(out))?,
        (None, None) => RunFolder::create_fresh(&default_out_dir(config.scheduler_name()))?,
    };
    if write_config {
        write_atomic(
            &folder.dir().join("config.toml"),
            config.to_toml()?.as_bytes(),
        )?;
    }
    training::install_ctrl_c_handler();
    let opts = RunOptions {
        config,
        quiet: args.quiet,
        console: training::Console::Lines,
        resume_from: None,
        progress: None,
    };
    let summary = match training::run_from(&opts, start, &mut folder, &data) {
        Err(e) if folder.is_staged() => {
            return Err(e.context(format!(
                "the new run stopped before its first checkpoint, so --overwrite did not happen: {} still holds the previous run",
                folder.path().display()
            )))
        }
        result => result?,
    };
    print_summary(&opts, folder.path(), &summary);
    Ok(())
}

fn print_summary(opts: &RunOptions, out: &std::path::Path, summary: &training::RunSummary) {
    let Some(last) = summary.metrics.last() else {
        return;
    };
    let best = summary
        .metrics
        .iter()
        .max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
        .unwrap_or(last);
    let train_seconds: f64 = summary.metrics.iter().map(|m| m.train_seconds).sum();
    console::println(format_args!(
        "done: {} in {} ({:.2} s training); final test accuracy {:.2}% (loss {:.4}), best {:.2}% at epoch {}",
        plural(summary.steps, "step"),
        plural(summary.metrics.len() as u64, "epoch"),
        train_seconds,
        last.test_accuracy,
        last.test_loss,
        best.test_accuracy,
        best.epoch
    ));
    let trace = if opts.config.trace { ", trace.csv" } else { "" };
    console::println(format_args!(
        "wrote {}: config.toml, metrics.csv, model.safetensors, checkpoint.safetensors{trace}",
        out.display()
    ));
}
