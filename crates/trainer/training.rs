//! The training loop: batches -> forward/backward -> optimizer step (SGD, Adam or AdamW) ->
//! scheduler, with a test pass, a metrics row and a checkpoint after every epoch.
//!
//! Order of calls, as PyTorch expects since 1.1: within a step `optimizer.step()` and then (with
//! `interval = "step"`) `scheduler.step()`; after an epoch the fresh test pass, then (with
//! `interval = "epoch"`) `scheduler.step()` or, for ReduceLROnPlateau, `scheduler.step(metric)`.
//!
//! On two cores a step keeps both busy: `TrainStep` runs the two halves of the batch as two
//! rayon tasks, and `TrainStep::update` runs the optimizer's update (and then copies the
//! weights for the next step's second half) on one core while the other gathers the next batch
//! (its 256 scattered image reads do not depend on the weights).

use crate::console;
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{bail, Context};
use autograd_lite::{evaluate, Mlp, TrainStep};
use fashion::{Dataset, DropLast};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use optim::{Optimizer, OptimizerConfig, Scheduler};

use crate::checkpoint::{self, TrainingState};
use crate::config::{Interval, Monitor, RunConfig};
use crate::outputs::{metrics_csv, write_atomic, EpochMetrics, Trace, TraceColumns};
use crate::run_folder::RunFolder;
use crate::tensorboard::Board;

/// Inputs of the model: 28 x 28 pixels.
pub const INPUTS: usize = 784;
/// Outputs of the model: the ten Fashion-MNIST classes.
pub const CLASSES: usize = 10;

/// A batch loss above this is taken as divergence, like NaN or inf: it is 100 times the loss of
/// a uniform guess over the ten classes (ln 10 = 2.30), which no run that is learning comes near.
pub const DIVERGED_LOSS: f64 = 100.0 * std::f64::consts::LN_10;

/// How a run is carried out (none of this changes its result).
pub struct RunOptions {
    /// The resolved configuration.
    pub config: RunConfig,
    /// No progress bar.
    pub quiet: bool,
    /// Whether the run prints its header and one line per epoch.
    pub console: Console,
    /// Continue from this checkpoint (weights and state, as read from the run folder); read by
    /// [`run`], not by [`run_from`], which takes the start as an argument.
    pub resume_from: Option<(Mlp, TrainingState)>,
    /// Show the per-epoch progress bar (epoch i/n, step j/m) inside this caller's display, even
    /// when `console` is silent (`trainer compare` puts it under its bar over the runs).
    pub progress: Option<MultiProgress>,
}

/// Set by the Ctrl-C (SIGINT, SIGTERM, SIGHUP) handler: the run finishes its current step,
/// writes a checkpoint and stops with [`Interrupted`].
pub static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

/// The error a run stops with after Ctrl-C, once its checkpoint is written.
#[derive(Debug)]
pub struct Interrupted {
    /// The last optimizer step taken.
    pub step: u64,
    /// The run folder holding the checkpoint.
    pub out: PathBuf,
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "interrupted after step {}; the checkpoint is saved. Continue with: trainer train --resume {}",
            self.step,
            self.out.display()
        )
    }
}

impl std::error::Error for Interrupted {}

/// The first Ctrl-C (SIGINT), SIGTERM or SIGHUP asks the run to stop after its current step
/// (with a checkpoint; the process then exits with status 130); a second one ends the process at
/// once, also with 130 (every file on disk is complete: they are written atomically).
pub fn install_ctrl_c_handler() {
    let result = ctrlc::set_handler(|| {
        if STOP_REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        console::eprintln_above_bars(format_args!(
            "stopping after the current step (press Ctrl-C again, or send the signal again, to quit at once)"
        ));
    });
    if let Err(e) = result {
        console::eprintln(format_args!(
            "warning: Ctrl-C and SIGTERM will end the run without a checkpoint ({e})"
        ));
    }
}

/// What a run prints on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// A header, one line per epoch, a line whenever ReduceLROnPlateau lowers the lr.
    Lines,
    /// Nothing (for callers such as `trainer compare` that print their own summary).
    Silent,
}

/// What a finished run reports.
pub struct RunSummary {
    /// One row per epoch.
    pub metrics: Vec<EpochMetrics>,
    /// Optimizer steps taken.
    pub steps: u64,
}

/// The training and test sets, loaded once.
pub struct Data {
    /// 60,000 training images.
    pub train: Dataset,
    /// 10,000 test images.
    pub test: Dataset,
    /// Where they were found.
    pub dir: PathBuf,
}

/// Finds and loads both splits.
pub fn load_data(dir: Option<&Path>) -> anyhow::Result<Data> {
    let dir = crate::data_dir::find(dir)?;
    let train = Dataset::load(&dir, fashion::Split::Train)?;
    let test = Dataset::load(&dir, fashion::Split::Test)?;
    if train.pixels_per_image() != INPUTS || test.pixels_per_image() != INPUTS {
        bail!(
            "the images in {} are not 28 x 28; this model takes 784 inputs",
            dir.display()
        );
    }
    Ok(Data { train, test, dir })
}

/// Runs every parallel part of the process on `threads` worker threads (the results do not
/// depend on the count). Call it once, before any parallel work.
pub fn use_threads(threads: usize) -> anyhow::Result<()> {
    crate::limits::check_threads(threads)?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .context("cannot start the worker threads")
}

/// The weights `[model] init_weights` (`--init-weights`) names, checked against the model
/// (`None` when the run starts from a seeded initialisation).
fn initial_weights(config: &RunConfig) -> anyhow::Result<Option<Mlp>> {
    let Some(path) = &config.model.init_weights else {
        return Ok(None);
    };
    let hidden = config.model.hidden as usize;
    let limit = crate::input_file::weights_max_bytes(config.model.hidden);
    let mlp = crate::input_file::load_weights(path, "--init-weights", limit)?;
    if mlp.inputs() != INPUTS || mlp.classes() != CLASSES {
        bail!(
            "--init-weights {} is a {}-{}-{} network; this trainer's model takes {INPUTS} inputs (28 x 28 pixels) and has {CLASSES} outputs, one per Fashion-MNIST class",
            path.display(),
            mlp.inputs(),
            mlp.hidden(),
            mlp.classes()
        );
    }
    if mlp.hidden() != hidden {
        bail!(
            "--init-weights {} has a hidden layer of {} units but model.hidden = {hidden}; pass --hidden {}",
            path.display(),
            mlp.hidden(),
            mlp.hidden()
        );
    }
    Ok(Some(mlp))
}

/// The config's `[optimizer]` table as PyTorch's class and keyword arguments (`name` is
/// `"SGD"` when left out), checked as PyTorch checks them.
pub fn optimizer_config(table: &toml::Table) -> anyhow::Result<OptimizerConfig> {
    let mut table = table.clone();
    table
        .entry("name")
        .or_insert_with(|| toml::Value::String("SGD".into()));
    let name = table
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or("?")
        .to_string();
    let config: OptimizerConfig =
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| {
                anyhow::anyhow!("in [optimizer]: {name}: {}", e.message().trim())
            })?;
    config
        .validate()
        .with_context(|| format!("in [optimizer]: {}", config.name()))?;
    Ok(config)
}

/// The optimizer the config's `[optimizer]` table describes, for `mlp`'s parameters.
pub fn new_optimizer(config: &RunConfig, mlp: &Mlp) -> anyhow::Result<Optimizer> {
    let optimizer = optimizer_config(&config.optimizer)?;
    let lens: Vec<usize> = mlp.params().iter().map(|p| p.len()).collect();
    optimizer
        .build(&lens)
        .with_context(|| format!("in [optimizer]: {}", optimizer.name()))
}

/// The optimizer and scheduler a config describes.
pub fn build_optimizer(
    config: &RunConfig,
    mlp: &Mlp,
) -> anyhow::Result<(Optimizer, Option<Scheduler>)> {
    let mut optimizer = new_optimizer(config, mlp)?;
    let scheduler = match scheduler_config(config)? {
        None => None,
        Some(sched_config) => {
            let groups = optimizer.param_groups_mut();
            Some(Scheduler::new(&sched_config, groups).context("in [scheduler]")?)
        }
    };
    Ok((optimizer, scheduler))
}

/// The scheduler class and arguments of the config's `[scheduler]` table (without the
/// trainer's keys); `None` for `name = "none"`.
pub fn scheduler_config(config: &RunConfig) -> anyhow::Result<Option<optim::SchedulerConfig>> {
    let Some(table) = config.scheduler_class_table() else {
        return Ok(None);
    };
    let sched_config = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("in [scheduler]: {}", e.message().trim()))?;
    Ok(Some(sched_config))
}

/// Where a run starts, before the "start or resume" phase has built the optimizer around it.
pub enum Start {
    /// A new run from these weights (`--init-weights`, or the seeded initialisation).
    Fresh(Mlp),
    /// A run continued after its checkpoint: the weights and the state read from it.
    Resume(Mlp, Box<TrainingState>),
}

impl Start {
    /// A new run's start: the weights `[model] init_weights` names, loaded and checked once,
    /// else the seeded initialisation. `trainer train` builds it before it creates the run
    /// folder, so that a bad weights file leaves nothing behind.
    pub fn fresh(config: &RunConfig) -> anyhow::Result<Start> {
        let mlp = match initial_weights(config)? {
            Some(mlp) => mlp,
            None => Mlp::new(INPUTS, config.model.hidden as usize, CLASSES, config.seed),
        };
        Ok(Start::Fresh(mlp))
    }
}

/// Trains as `opts` says, writing into `folder`: from `opts.resume_from` when it is given,
/// else from [`Start::fresh`].
pub fn run(opts: &RunOptions, folder: &mut RunFolder, data: &Data) -> anyhow::Result<RunSummary> {
    let start = match opts.resume_from.clone() {
        Some((mlp, state)) => Start::Resume(mlp, Box::new(state)),
        None => Start::fresh(&opts.config)?,
    };
    run_from(opts, start, folder, data)
}

/// Trains as `opts` says from `start` (`opts.resume_from` is not read), writing into `folder`.
///
/// The loop runs on a worker thread of the current rayon pool (the global one, unless the
/// caller is inside `ThreadPool::install`). From any other thread every parallel GEMM would be
/// a job sent through rayon's global queue: a thread wake-up per call, and a new block of
/// queue slots allocated every 63 calls, where the training step must allocate nothing.
pub fn run_from(
    opts: &RunOptions,
    start: Start,
    folder: &mut RunFolder,
    data: &Data,
) -> anyhow::Result<RunSummary> {
    rayon::scope(|_| train(opts, start, folder, data))
}

/// What does not change during a run: its settings and data, resolved once.
struct Job<'a> {
    opts: &'a RunOptions,
    config: &'a RunConfig,
    data: &'a Data,
    interval: Interval,
    monitor: Option<Monitor>,
    /// The run prints its header and one line per epoch.
    lines: bool,
    show_bar: bool,
    max_steps: u64,
    batch_size: usize,
    /// The first step of this process: it computes its loss from the weights as loaded (from
    /// --init-weights or the checkpoint), so if that loss is not finite, the file is at fault.
    first_step: u64,
}

/// What a run carries from one phase to the next.
struct Run {
    mlp: Mlp,
    optimizer: Optimizer,
    scheduler: Option<Scheduler>,
    /// What the checkpoint holds besides the weights (and the optimizer and scheduler, which
    /// are copied into it when it is saved).
    state: TrainingState,
    trace: Option<Trace>,
    board: Board,
}

/// The buffers of the training loop, allocated once per process: a step allocates nothing.
struct Buffers {
    step: TrainStep,
    order: Vec<usize>,
    images: Vec<u8>,
    labels: Vec<u8>,
    next_images: Vec<u8>,
    next_labels: Vec<u8>,
    predictions: Vec<u8>,
}

/// [`run_from`], on the thread it is called from: start or resume, then one epoch and the end of
/// that epoch until the run is done, then the final weights. Every path is taken from
/// `folder.dir()` afresh: an `--overwrite` moves the run to its final name at the first
/// checkpoint.
fn train(
    opts: &RunOptions,
    start: Start,
    folder: &mut RunFolder,
    data: &Data,
) -> anyhow::Result<RunSummary> {
    let config = &opts.config;
    let mut run = start_or_resume(config, start, folder, data)?;
    let lines = opts.console == Console::Lines;
    let job = Job {
        opts,
        config,
        data,
        interval: config.interval()?,
        monitor: config.monitor()?,
        lines,
        show_bar: opts.progress.is_some()
            || (lines && !opts.quiet && std::io::stderr().is_terminal()),
        max_steps: config.max_steps.unwrap_or(u64::MAX),
        batch_size: config.data.batch_size as usize,
        first_step: run.state.step + 1,
    };
    let mut buffers = Buffers {
        step: TrainStep::new(&run.mlp, job.batch_size),
        order: Vec::new(),
        images: Vec::new(),
        labels: Vec::new(),
        next_images: Vec::new(),
        next_labels: Vec::new(),
        predictions: Vec::new(),
    };
    if lines {
        print_header(config, data, folder.path(), &run.state)?;
    }
    while run.state.epochs_done < config.epochs && run.state.step < job.max_steps {
        train_one_epoch(&job, &mut run, &mut buffers, folder)?;
        end_of_epoch(&job, &mut run, &mut buffers.predictions, folder)?;
    }
    write_atomic(
        &folder.dir().join("model.safetensors"),
        &run.mlp.to_safetensors(),
    )?;
    Ok(RunSummary {
        metrics: run.state.metrics,
        steps: run.state.step,
    })
}

/// Phase 1: the model, optimizer and scheduler of a new run, or those of a resumed run with
/// its checkpoint's state checked and loaded; the trace and TensorBoard file carried on; and
/// `metrics.csv` as of the start.
fn start_or_resume(
    config: &RunConfig,
    start: Start,
    folder: &RunFolder,
    data: &Data,
) -> anyhow::Result<Run> {
    let (mlp, optimizer, scheduler, state) = match start {
        Start::Resume(mlp, state) => {
            if state.hidden != config.model.hidden || mlp.hidden() != config.model.hidden as usize {
                bail!(
                    "the checkpoint in {} has a hidden layer of {} units but its config.toml says model.hidden = {}; the run folder is inconsistent",
                    folder.path().display(),
                    mlp.hidden(),
                    config.model.hidden
                );
            }
            // The state is input: it gets the checks a fresh config gets, and each error names
            // the file and the field.
            let file = folder.dir().join(checkpoint::FILE_NAME);
            let damaged = || format!("the checkpoint {} is damaged", file.display());
            state
                .check(data.train.len() as u64, config.data.batch_size)
                .with_context(damaged)?;
            let (mut optimizer, mut scheduler) = build_optimizer(config, &mlp)?;
            let fresh = optimizer.clone();
            state
                .restore_optimizer(&mut optimizer)
                .with_context(damaged)?;
            match (scheduler.as_mut(), state.scheduler.clone()) {
                (Some(s), Some(saved)) => s.load_state(saved).with_context(damaged)?,
                (None, None) => {}
                (Some(s), None) => bail!(
                    "{}: it has no scheduler state but the run has a {}",
                    damaged(),
                    s.name()
                ),
                (None, Some(_)) => bail!(
                    "{}: it has a scheduler state but the run has no scheduler",
                    damaged()
                ),
            }
            check_scheduled_values(&optimizer, &fresh, scheduler.as_ref()).with_context(damaged)?;
            (mlp, optimizer, scheduler, *state)
        }
        Start::Fresh(mlp) => {
            let (optimizer, scheduler) = build_optimizer(config, &mlp)?;
            let state = checkpoint::initial_state(
                config.to_toml()?,
                config.model.hidden,
                &optimizer,
                scheduler.as_ref().map(Scheduler::state),
            );
            (mlp, optimizer, scheduler, state)
        }
    };
    let columns = TraceColumns::of(&optimizer);
    let trace = match (config.trace, state.step) {
        (false, _) => None,
        (true, 0) => Some(Trace::new(&Mlp::PARAM_NAMES, columns)),
        (true, step) => Some(Trace::resume(
            &folder.dir().join("trace.csv"),
            &Mlp::PARAM_NAMES,
            columns,
            step,
        )?),
    };
    let board = Board::resume(&folder.dir(), state.step, state.epochs_done);
    write_atomic(
        &folder.dir().join("metrics.csv"),
        metrics_csv(&state.metrics).as_bytes(),
    )?;
    Ok(Run {
        mlp,
        optimizer,
        scheduler,
        state,
        trace,
        board,
    })
}

/// Phase 2: the optimizer steps of one epoch (the rest of it, on resume), up to the run's
/// `max_steps`; stops the run when a step diverges, or with a checkpoint after Ctrl-C.
///
/// On two cores a step keeps both busy: the update runs on one core while the other gathers
/// the next batch (see the module documentation).
fn train_one_epoch(
    job: &Job,
    run: &mut Run,
    buf: &mut Buffers,
    folder: &mut RunFolder,
) -> anyhow::Result<()> {
    let config = job.config;
    let epoch = run.state.epochs_done; // 0-based here, 1-based in every output
    let n = job.data.train.len();
    if config.data.shuffle {
        fashion::shuffled_order_into(n, config.seed, epoch, &mut buf.order);
    } else {
        buf.order.clear();
        buf.order.extend(0..n);
    }
    let bar = progress_bar(
        job.show_bar,
        n.div_ceil(job.batch_size) as u64,
        epoch + 1,
        config.epochs,
    );
    let bar = match &job.opts.progress {
        Some(display) => display.add(bar),
        None if job.show_bar => console::progress_display().add(bar),
        None => bar,
    };
    bar.set_position(run.state.progress.batches_done);
    let train_start = Instant::now();
    let skip = run.state.progress.batches_done as usize;
    let mut batches = fashion::batches(&buf.order, job.batch_size, DropLast::Keep)
        .skip(skip)
        .peekable();
    if let Some(first) = batches.peek() {
        job.data
            .train
            .gather(first, &mut buf.images, &mut buf.labels);
    }
    // The proof that the step's copy of the parameters matches `mlp` (made by the update).
    let mut fresh = None;
    while let Some(batch) = batches.next() {
        if run.state.step >= job.max_steps {
            break;
        }
        // `images` and `labels` hold `batch` (gathered during the previous update).
        let (lr, momentum) = (run.optimizer.lr(0), run.optimizer.momentum(0));
        let out = match fresh.take() {
            Some(fresh) => buf
                .step
                .forward_backward_fresh(fresh, &buf.images, &buf.labels),
            None => buf
                .step
                .forward_backward(&run.mlp, &buf.images, &buf.labels),
        };
        let step_number = run.state.step + 1;
        let at = At {
            step: step_number,
            epoch: epoch + 1,
            lr,
        };
        if let Some(diverged) = Divergence::of_loss(out.loss) {
            return Err(run.stop_diverged(&bar, folder, diverged.describe(at, job, folder.path())));
        }
        let next = batches.peek().copied();
        let data = job.data;
        let (next_images, next_labels) = (&mut buf.next_images, &mut buf.next_labels);
        let optimizer = &mut run.optimizer;
        // The next batch does not depend on the weights: the other core gathers it while
        // this one updates them.
        let (report, proof) = buf.step.update(
            &mut run.mlp,
            |params, grads| optimizer.step(params, grads),
            || {
                if let Some(next) = next {
                    data.train.gather(next, next_images, next_labels);
                }
            },
        );
        fresh = Some(proof);
        let report = report.context("the optimizer step failed")?;
        std::mem::swap(&mut buf.images, &mut buf.next_images);
        std::mem::swap(&mut buf.labels, &mut buf.next_labels);
        if let Some(diverged) = Divergence::of_update(report) {
            return Err(run.stop_diverged(&bar, folder, diverged.describe(at, job, folder.path())));
        }
        if let Some(trace) = run.trace.as_mut() {
            trace.push(step_number, epoch + 1, lr, out.loss, &report.tensors);
        }
        run.board
            .record_step(step_number, lr, momentum, out.loss, &report.tensors);
        let p = &mut run.state.progress;
        p.first_lr.get_or_insert(lr);
        p.batches_done += 1;
        p.loss_sum += f64::from(out.loss) * batch.len() as f64;
        p.correct += out.correct as u64;
        p.seen += batch.len() as u64;
        run.state.step = step_number;
        if job.interval == Interval::Step {
            if let Some(s) = run.scheduler.as_mut() {
                s.step(run.optimizer.param_groups_mut())?;
            }
        }
        let p = &run.state.progress;
        progress_tick(&bar, p.loss_sum / p.seen as f64);
        if STOP_REQUESTED.load(Ordering::SeqCst) {
            bar.finish_and_clear();
            run.state.progress.train_seconds += train_start.elapsed().as_secs_f64();
            run.save_checkpoint(folder)?;
            return Err(Interrupted {
                step: run.state.step,
                out: folder.path().to_path_buf(),
            }
            .into());
        }
    }
    run.state.progress.train_seconds += train_start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    Ok(())
}

/// Phase 3: the test pass, the epoch's metrics row (printed and written), the scheduler's
/// per-epoch step, and the checkpoint.
fn end_of_epoch(
    job: &Job,
    run: &mut Run,
    predictions: &mut Vec<u8>,
    folder: &mut RunFolder,
) -> anyhow::Result<()> {
    let test = &job.data.test;
    let eval_start = Instant::now();
    let eval = evaluate(&run.mlp, &test.images, &test.labels, predictions);
    let p = std::mem::take(&mut run.state.progress);
    let seen = p.seen.max(1) as f64;
    let row = EpochMetrics {
        epoch: run.state.epochs_done + 1,
        lr: p.first_lr.unwrap_or_else(|| run.optimizer.lr(0)),
        train_loss: p.loss_sum / seen,
        train_accuracy: 100.0 * p.correct as f64 / seen,
        test_loss: eval.loss,
        test_accuracy: 100.0 * eval.correct as f64 / eval.total.max(1) as f64,
        train_seconds: p.train_seconds,
        epoch_seconds: p.train_seconds + eval_start.elapsed().as_secs_f64(),
    };
    if job.interval == Interval::Epoch {
        if let Some(s) = run.scheduler.as_mut() {
            let note = step_scheduler_after_epoch(s, &mut run.optimizer, job.monitor, &row)?;
            if let Some(note) = note.filter(|_| job.lines) {
                console::println(format_args!("{note}"));
            }
        }
    }
    if job.lines {
        print_epoch(&row, job.config.epochs);
    }
    run.board.record_epoch(&row);
    run.state.metrics.push(row);
    run.state.epochs_done += 1;
    write_atomic(
        &folder.dir().join("metrics.csv"),
        metrics_csv(&run.state.metrics).as_bytes(),
    )?;
    run.save_checkpoint(folder)
}

impl Run {
    /// Writes `trace.csv` (when the run keeps a trace) and the TensorBoard file, with every
    /// step so far.
    fn save_logs(&self, dir: &Path) -> anyhow::Result<()> {
        if let Some(trace) = &self.trace {
            write_atomic(&dir.join("trace.csv"), trace.as_str().as_bytes())?;
        }
        self.board.save(dir)
    }

    /// Copies the optimizer's and scheduler's state into the checkpoint state, writes the
    /// logs, then the checkpoint.
    fn save_checkpoint(&mut self, folder: &mut RunFolder) -> anyhow::Result<()> {
        self.state.record_optimizer(&self.optimizer);
        self.state.scheduler = self.scheduler.as_ref().map(Scheduler::state);
        self.save_logs(&folder.dir())?;
        checkpoint::save(&folder.dir(), &self.mlp, &self.state)?;
        folder.checkpoint_written()
    }

    /// Ends a run whose step diverged: the bar is cleared, the logs are written with every step
    /// so far (the checkpoint stays the last good one), and the error is `message`.
    fn stop_diverged(
        &self,
        bar: &ProgressBar,
        folder: &RunFolder,
        message: String,
    ) -> anyhow::Error {
        bar.finish_and_clear();
        match self.save_logs(&folder.dir()) {
            Ok(()) => anyhow::anyhow!(message),
            Err(e) => e,
        }
    }
}

/// Why a step ended the run: its loss, or the parameters its update produced.
enum Divergence {
    /// The batch loss is NaN, infinite, or above [`DIVERGED_LOSS`].
    Loss(f32),
    /// A parameter tensor holds a NaN or an infinity after the update (its index).
    Parameters(usize),
}

/// Where a divergence happened: the step (1-based, of the run), its epoch (1-based) and lr.
#[derive(Clone, Copy)]
struct At {
    step: u64,
    epoch: u64,
    lr: f64,
}

impl Divergence {
    /// The check of a batch loss, before the update.
    fn of_loss(loss: f32) -> Option<Divergence> {
        (!loss.is_finite() || f64::from(loss) > DIVERGED_LOSS).then_some(Divergence::Loss(loss))
    }

    /// The check of the parameters after the update (their norms are in the step's report).
    fn of_update(report: &optim::StepReport) -> Option<Divergence> {
        let bad = report
            .tensors
            .iter()
            .position(|t| !t.param_norm.is_finite())?;
        Some(Divergence::Parameters(bad))
    }

    /// What the run stops with: what to change, or, for a loss that is already bad at the
    /// first step of this process, which starting weights are at fault.
    fn describe(&self, at: At, job: &Job, out: &Path) -> String {
        match *self {
            Divergence::Loss(loss) if at.step == job.first_step => {
                bad_start(at.step, loss, job.config, out)
            }
            Divergence::Loss(loss) => diverged(at, "the batch loss", loss),
            Divergence::Parameters(bad) => diverged(
                at,
                &format!("the parameters of {}", Mlp::PARAM_NAMES[bad]),
                f32::NAN,
            ),
        }
    }
}
/// A restored optimizer's lr and momentum (Adam's `betas[0]`) must be what the run's schedule
/// makes them: the lr the scheduler set last (the configured lr without a scheduler), and the
/// configured momentum unless the scheduler cycles it. `fresh` is the optimizer built from the
/// config.
fn check_scheduled_values(
    optimizer: &Optimizer,
    fresh: &Optimizer,
    scheduler: Option<&Scheduler>,
) -> anyhow::Result<()> {
    let (restored, configured) = (optimizer.param_groups(), fresh.param_groups());
    if let Some(s) = scheduler {
        s.check_optimizer(restored)?;
    }
    let momentum = match optimizer {
        Optimizer::Sgd(_) => "momentum",
        Optimizer::Adam(_) => "betas[0]",
    };
    for g in 0..restored.num_groups() {
        let (lr, want_lr) = (restored.lr(g), configured.lr(g));
        if scheduler.is_none() && lr.to_bits() != want_lr.to_bits() {
            bail!(
                "param_groups[{g}].lr = {lr} but the run's config gives {want_lr} and it has no scheduler"
            );
        }
        let cycled = scheduler.is_some_and(Scheduler::writes_momentum);
        let (m, want_m) = (restored.momentum(g), configured.momentum(g));
        if !cycled && m.to_bits() != want_m.to_bits() {
            bail!(
                "param_groups[{g}].{momentum} = {m} but the run's config gives {want_m} and no scheduler changes it"
            );
        }
    }
    Ok(())
}

/// Steps the scheduler after an epoch; for ReduceLROnPlateau, with the monitored metric. Returns
/// the line to print when the lr was lowered.
fn step_scheduler_after_epoch(
    scheduler: &mut Scheduler,
    optimizer: &mut Optimizer,
    monitor: Option<Monitor>,
    row: &EpochMetrics,
) -> anyhow::Result<Option<String>> {
    let Some(monitor) = monitor.filter(|_| scheduler.needs_metric()) else {
        scheduler.step(optimizer.param_groups_mut())?;
        return Ok(None);
    };
    let metric = match monitor {
        Monitor::TestAccuracy => row.test_accuracy,
        Monitor::TestLoss => row.test_loss,
        Monitor::TrainLoss => row.train_loss,
        Monitor::TrainAccuracy => row.train_accuracy,
    };
    let event = scheduler.step_with_metric(optimizer.param_groups_mut(), metric)?;
    Ok(event.reduced().then(|| {
        format!(
            "epoch {}: ReduceLROnPlateau: {}",
            row.epoch,
            event.describe(monitor.name())
        )
    }))
}

fn diverged(at: At, what: &str, value: f32) -> String {
    let At { step, epoch, lr } = at;
    format!(
        "the run diverged at step {step} (epoch {epoch}): {what} became {value} with lr {lr}. \
         Lower the learning rate (for example --lr {}) and run again; the files written so far are complete",
        lr / 10.0
    )
}

/// The loss of the first step is not finite (or is huge) before any update of this process:
/// the starting weights produce it, so lowering the learning rate would not help.
fn bad_start(step: u64, value: f32, config: &RunConfig, out: &Path) -> String {
    // Past step 1, the run resumed: its weights came from the checkpoint.
    let source = match &config.model.init_weights {
        _ if step > 1 => format!(
            "the checkpoint {}",
            out.join(checkpoint::FILE_NAME).display()
        ),
        Some(path) => format!("--init-weights {}", path.display()),
        None => "a fresh initialisation".to_string(),
    };
    format!(
        "the batch loss at step {step} is {value} before this run changed any weight: the starting weights from {source} produce it; they are damaged or not weights of a trained model"
    )
}

/// The epoch's progress bar on a terminal: `epoch 2/5 [====>   ] 120/235 steps, loss 0.3871,
/// 00:00:02 elapsed, ETA 00:00:02`; the loss is the epoch's running mean ([`progress_tick`]),
/// and the clock ticks on its own between steps.
fn progress_bar(show: bool, len: u64, epoch: u64, epochs: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "epoch {prefix} [{bar:30}] {pos}/{len} steps, loss {msg}, {elapsed_precise} elapsed, ETA {eta_precise}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(format!("{epoch}/{epochs}"));
    bar.set_message("-");
    bar.enable_steady_tick(std::time::Duration::from_millis(500));
    bar
}

/// One step done: the bar moves on and shows the epoch's running mean loss (a hidden bar
/// formats nothing, so a run without a terminal allocates nothing here).
fn progress_tick(bar: &ProgressBar, running_loss: f64) {
    bar.inc(1);
    if !bar.is_hidden() {
        bar.set_message(format!("{running_loss:.4}"));
    }
}

/// The run's header, each line within [`console::HEADER_WIDTH`] columns: broken at its `; `
/// separators where too long, the optimizer's and scheduler's arguments cut with `…` past 100
/// characters (a long LambdaLR formula; config.toml holds it whole).
fn print_header(
    config: &RunConfig,
    data: &Data,
    out: &Path,
    state: &TrainingState,
) -> anyhow::Result<()> {
    // The optimizer and the scheduler display themselves, as Python writes their calls.
    let optimizer = optimizer_config(&config.optimizer)?.to_string();
    let scheduler = scheduler_config(config)?.map_or("none".to_string(), |s| s.to_string());
    let header = [
        format!(
            "model: 784-{}-10 MLP (ReLU); optimizer: {}; scheduler: {} (stepped per {})",
            config.model.hidden,
            console::shorten(&optimizer, 100),
            console::shorten(&scheduler, 100),
            match config.interval() {
                Ok(Interval::Step) => "optimizer step",
                _ => "epoch",
            },
        ),
        format!(
            "batch {}, {}, seed {}; {}, GEMM kernel {} (the numbers are the same on any)",
            config.data.batch_size,
            crate::plural::plural(config.epochs, "epoch"),
            config.seed,
            crate::plural::plural(rayon::current_num_threads() as u64, "thread"),
            autograd_lite::gemm::Kernel::active()
        ),
        format!(
            "data: {} ({} train, {} test images); writing to {}",
            data.dir.display(),
            data.train.len(),
            data.test.len(),
            out.display()
        ),
    ];
    for line in header
        .iter()
        .flat_map(|l| console::wrap(l, console::HEADER_WIDTH))
    {
        console::println(format_args!("{line}"));
    }
    if state.step > 0 {
        console::println(format_args!(
            "resuming after step {} (epoch {} done)",
            state.step, state.epochs_done
        ));
    }
    console::println(format_args!(
        "{:>5}  {:>10}  {:>10}  {:>9}  {:>9}  {:>8}  {:>7}",
        "epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"
    ));
    Ok(())
}

fn print_epoch(row: &EpochMetrics, epochs: u64) {
    console::println(format_args!(
        "{:>5}  {:>10}  {:>10.4}  {:>8.2}%  {:>9.4}  {:>7.2}%  {:>7.3}",
        format!("{}/{epochs}", row.epoch),
        format!("{:.6}", row.lr),
        row.train_loss,
        row.train_accuracy,
        row.test_loss,
        row.test_accuracy,
        row.epoch_seconds
    ));
}
