//! The training loop: batches -> forward/backward -> SGD step -> scheduler, with a test pass,
//! a metrics row and a checkpoint after every epoch.
//!
//! Order of calls, as PyTorch expects since 1.1: within a step `optimizer.step()` and then (with
//! `interval = "step"`) `scheduler.step()`; after an epoch the fresh test pass, then (with
//! `interval = "epoch"`) `scheduler.step()` or, for ReduceLROnPlateau, `scheduler.step(metric)`.
//!
//! On two cores a step keeps both busy: `TrainStep` runs the two halves of the batch as two
//! rayon tasks, and `TrainStep::update` runs the SGD update (and then copies the weights for
//! the next step's second half) on one core while the other gathers the next batch (its 256
//! scattered image reads do not depend on the weights).

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
use optim::{Scheduler, Sgd};

use crate::checkpoint::{self, TrainingState};
use crate::config::{Interval, Monitor, RunConfig};
use crate::outputs::{metrics_csv, write_atomic, EpochMetrics, Trace};
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
    /// Continue from this checkpoint (weights and state, as read from the run folder).
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
/// (`None` when the run starts from a seeded initialisation). `trainer train` calls it before it
/// creates the run folder too, so that a bad file leaves nothing behind.
pub fn initial_weights(config: &RunConfig) -> anyhow::Result<Option<Mlp>> {
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

/// The optimizer the config's `[optimizer]` table describes, for `mlp`'s parameters.
pub fn build_sgd(config: &RunConfig, mlp: &Mlp) -> anyhow::Result<Sgd> {
    let sgd_config: optim::OptimizerConfig = toml::Value::Table(config.optimizer.clone())
        .try_into()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("in [optimizer]: {}", e.message().trim()))?;
    let lens: Vec<usize> = mlp.params().iter().map(|p| p.len()).collect();
    Sgd::new(&sgd_config.sgd, &lens).context("in [optimizer]")
}

/// The optimizer and scheduler a config describes.
pub fn build_optimizer(config: &RunConfig, mlp: &Mlp) -> anyhow::Result<(Sgd, Option<Scheduler>)> {
    let mut sgd = build_sgd(config, mlp)?;
    let scheduler = match config.scheduler_class_table() {
        None => None,
        Some(table) => {
            let sched_config: optim::SchedulerConfig = toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| {
                    anyhow::anyhow!("in [scheduler]: {}", e.message().trim())
                })?;
            Some(Scheduler::new(&sched_config, &mut sgd).context("in [scheduler]")?)
        }
    };
    Ok((sgd, scheduler))
}

/// Trains as `opts` says, writing into `folder`.
///
/// The loop runs on a worker thread of the current rayon pool (the global one, unless the
/// caller is inside `ThreadPool::install`). From any other thread every parallel GEMM would be
/// a job sent through rayon's global queue: a thread wake-up per call, and a new block of
/// queue slots allocated every 63 calls, where the training step must allocate nothing.
pub fn run(opts: &RunOptions, folder: &mut RunFolder, data: &Data) -> anyhow::Result<RunSummary> {
    rayon::scope(|_| train(opts, folder, data))
}

/// [`run`], on the thread it is called from. Every path is taken from `folder.dir()` afresh:
/// an `--overwrite` moves the run to its final name at the first checkpoint.
fn train(opts: &RunOptions, folder: &mut RunFolder, data: &Data) -> anyhow::Result<RunSummary> {
    let config = &opts.config;
    let hidden = config.model.hidden as usize;
    let interval = config.interval()?;
    let monitor = config.monitor()?;

    let (mut mlp, mut sgd, mut scheduler, mut state) = match opts.resume_from.clone() {
        Some((mlp, state)) => {
            if state.hidden != config.model.hidden || mlp.hidden() != hidden {
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
            let (mut sgd, mut scheduler) = build_optimizer(config, &mlp)?;
            let fresh = sgd.state();
            sgd.load_state(state.sgd.clone()).with_context(damaged)?;
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
            check_scheduled_values(&sgd, &fresh, scheduler.as_ref()).with_context(damaged)?;
            (mlp, sgd, scheduler, state)
        }
        None => {
            let mlp = match initial_weights(config)? {
                Some(mlp) => mlp,
                None => Mlp::new(INPUTS, hidden, CLASSES, config.seed),
            };
            let (sgd, scheduler) = build_optimizer(config, &mlp)?;
            let state = checkpoint::initial_state(
                config.to_toml()?,
                config.model.hidden,
                sgd.state(),
                scheduler.as_ref().map(Scheduler::state),
            );
            (mlp, sgd, scheduler, state)
        }
    };

    let mut trace = match (config.trace, state.step) {
        (false, _) => None,
        (true, 0) => Some(Trace::new(&Mlp::PARAM_NAMES)),
        (true, step) => Some(Trace::resume(
            &folder.dir().join("trace.csv"),
            &Mlp::PARAM_NAMES,
            step,
        )?),
    };
    let mut board = Board::resume(&folder.dir(), state.step, state.epochs_done);
    write_atomic(
        &folder.dir().join("metrics.csv"),
        metrics_csv(&state.metrics).as_bytes(),
    )?;

    let batch_size = config.data.batch_size as usize;
    let n = data.train.len();
    let batches_per_epoch = n.div_ceil(batch_size) as u64;
    let mut step_ws = TrainStep::new(&mlp, batch_size);
    let (mut order, mut images, mut labels, mut predictions) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut next_images, mut next_labels) = (Vec::new(), Vec::new());
    // The first step of this process computes its loss from the weights as loaded (from
    // --init-weights or the checkpoint): if that loss is not finite, the file is at fault.
    let first_step = state.step + 1;
    let lines = opts.console == Console::Lines;
    let show_bar =
        opts.progress.is_some() || (lines && !opts.quiet && std::io::stderr().is_terminal());
    let max_steps = config.max_steps.unwrap_or(u64::MAX);

    if lines {
        print_header(config, data, folder.path(), &state);
    }
    while state.epochs_done < config.epochs && state.step < max_steps {
        let epoch = state.epochs_done; // 0-based here, 1-based in every output
        if config.data.shuffle {
            fashion::shuffled_order_into(n, config.seed, epoch, &mut order);
        } else {
            order.clear();
            order.extend(0..n);
        }
        let bar = progress_bar(show_bar, batches_per_epoch, epoch + 1, config.epochs);
        let bar = match &opts.progress {
            Some(display) => display.add(bar),
            None if show_bar => console::progress_display().add(bar),
            None => bar,
        };
        bar.set_position(state.progress.batches_done);
        let train_start = Instant::now();
        let skip = state.progress.batches_done as usize;
        let mut batches = fashion::batches(&order, batch_size, DropLast::Keep)
            .skip(skip)
            .peekable();
        if let Some(first) = batches.peek() {
            data.train.gather(first, &mut images, &mut labels);
        }
        // The proof that the step's copy of the parameters matches `mlp` (made by the update).
        let mut fresh = None;
        while let Some(batch) = batches.next() {
            if state.step >= max_steps {
                break;
            }
            // `images` and `labels` hold `batch` (gathered during the previous update).
            let (lr, momentum) = (sgd.lr(0), sgd.momentum(0));
            let out = match fresh.take() {
                Some(fresh) => step_ws.forward_backward_fresh(fresh, &images, &labels),
                None => step_ws.forward_backward(&mlp, &images, &labels),
            };
            let step_number = state.step + 1;
            if !out.loss.is_finite() || f64::from(out.loss) > DIVERGED_LOSS {
                bar.finish_and_clear();
                save_trace(trace.as_ref(), &folder.dir())?;
                board.save(&folder.dir())?;
                if step_number == first_step {
                    bail!(bad_start(step_number, out.loss, config, folder.path()));
                }
                bail!(diverged(
                    step_number,
                    epoch + 1,
                    lr,
                    "the batch loss",
                    out.loss
                ));
            }
            let next = batches.peek().copied();
            // The next batch does not depend on the weights: the other core gathers it while
            // this one updates them.
            let (report, proof) = step_ws.update(
                &mut mlp,
                |params, grads| sgd.step(params, grads),
                || {
                    if let Some(next) = next {
                        data.train.gather(next, &mut next_images, &mut next_labels);
                    }
                },
            );
            fresh = Some(proof);
            let report = report.context("the optimizer step failed")?;
            std::mem::swap(&mut images, &mut next_images);
            std::mem::swap(&mut labels, &mut next_labels);
            if let Some(bad) = report
                .tensors
                .iter()
                .position(|t| !t.param_norm.is_finite())
            {
                bar.finish_and_clear();
                save_trace(trace.as_ref(), &folder.dir())?;
                board.save(&folder.dir())?;
                bail!(diverged(
                    step_number,
                    epoch + 1,
                    lr,
                    &format!("the parameters of {}", Mlp::PARAM_NAMES[bad]),
                    f32::NAN
                ));
            }
            if let Some(trace) = trace.as_mut() {
                trace.push(step_number, epoch + 1, lr, out.loss, &report.tensors);
            }
            board.record_step(step_number, lr, momentum, out.loss, &report.tensors);
            let p = &mut state.progress;
            p.first_lr.get_or_insert(lr);
            p.batches_done += 1;
            p.loss_sum += f64::from(out.loss) * batch.len() as f64;
            p.correct += out.correct as u64;
            p.seen += batch.len() as u64;
            state.step = step_number;
            if interval == Interval::Step {
                if let Some(s) = scheduler.as_mut() {
                    s.step(&mut sgd)?;
                }
            }
            progress_tick(&bar, state.progress.loss_sum / state.progress.seen as f64);
            if STOP_REQUESTED.load(Ordering::SeqCst) {
                bar.finish_and_clear();
                state.progress.train_seconds += train_start.elapsed().as_secs_f64();
                state.sgd = sgd.state();
                state.scheduler = scheduler.as_ref().map(Scheduler::state);
                save_trace(trace.as_ref(), &folder.dir())?;
                board.save(&folder.dir())?;
                checkpoint::save(&folder.dir(), &mlp, &state)?;
                folder.checkpoint_written()?;
                return Err(Interrupted {
                    step: state.step,
                    out: folder.path().to_path_buf(),
                }
                .into());
            }
        }
        state.progress.train_seconds += train_start.elapsed().as_secs_f64();
        bar.finish_and_clear();

        let eval_start = Instant::now();
        let eval = evaluate(&mlp, &data.test.images, &data.test.labels, &mut predictions);
        let p = std::mem::take(&mut state.progress);
        let seen = p.seen.max(1) as f64;
        let row = EpochMetrics {
            epoch: epoch + 1,
            lr: p.first_lr.unwrap_or_else(|| sgd.lr(0)),
            train_loss: p.loss_sum / seen,
            train_accuracy: 100.0 * p.correct as f64 / seen,
            test_loss: eval.loss,
            test_accuracy: 100.0 * eval.correct as f64 / eval.total.max(1) as f64,
            train_seconds: p.train_seconds,
            epoch_seconds: p.train_seconds + eval_start.elapsed().as_secs_f64(),
        };
        if interval == Interval::Epoch {
            if let Some(s) = scheduler.as_mut() {
                let note = step_scheduler_after_epoch(s, &mut sgd, monitor, &row)?;
                if let Some(note) = note.filter(|_| lines) {
                    console::println(format_args!("{note}"));
                }
            }
        }
        if lines {
            print_epoch(&row, config.epochs);
        }
        board.record_epoch(&row);
        state.metrics.push(row);
        state.epochs_done += 1;
        state.sgd = sgd.state();
        state.scheduler = scheduler.as_ref().map(Scheduler::state);
        write_atomic(
            &folder.dir().join("metrics.csv"),
            metrics_csv(&state.metrics).as_bytes(),
        )?;
        save_trace(trace.as_ref(), &folder.dir())?;
        board.save(&folder.dir())?;
        checkpoint::save(&folder.dir(), &mlp, &state)?;
        folder.checkpoint_written()?;
    }

    write_atomic(
        &folder.dir().join("model.safetensors"),
        &mlp.to_safetensors(),
    )?;
    Ok(RunSummary {
        metrics: state.metrics,
        steps: state.step,
    })
}

/// A restored optimizer's lr and momentum must be what the run's schedule makes them: the lr the
/// scheduler set last (the configured lr without a scheduler), and the configured momentum
/// unless the scheduler cycles it. `fresh` is the state of the optimizer built from the config.
fn check_scheduled_values(
    sgd: &Sgd,
    fresh: &optim::SgdState,
    scheduler: Option<&Scheduler>,
) -> anyhow::Result<()> {
    if let Some(s) = scheduler {
        s.check_optimizer(sgd)?;
    }
    for (g, (group, configured)) in sgd.groups().iter().zip(&fresh.groups).enumerate() {
        if scheduler.is_none() && group.lr.to_bits() != configured.lr.to_bits() {
            bail!(
                "param_groups[{g}].lr = {} but the run's config gives {} and it has no scheduler",
                group.lr,
                configured.lr
            );
        }
        let cycled = scheduler.is_some_and(Scheduler::writes_momentum);
        if !cycled && group.momentum.to_bits() != configured.momentum.to_bits() {
            bail!(
                "param_groups[{g}].momentum = {} but the run's config gives {} and no scheduler changes it",
                group.momentum,
                configured.momentum
            );
        }
    }
    Ok(())
}

/// Steps the scheduler after an epoch; for ReduceLROnPlateau, with the monitored metric. Returns
/// the line to print when the lr was lowered.
fn step_scheduler_after_epoch(
    scheduler: &mut Scheduler,
    sgd: &mut Sgd,
    monitor: Option<Monitor>,
    row: &EpochMetrics,
) -> anyhow::Result<Option<String>> {
    let Some(monitor) = monitor.filter(|_| scheduler.needs_metric()) else {
        scheduler.step(sgd)?;
        return Ok(None);
    };
    let metric = match monitor {
        Monitor::TestAccuracy => row.test_accuracy,
        Monitor::TestLoss => row.test_loss,
        Monitor::TrainLoss => row.train_loss,
        Monitor::TrainAccuracy => row.train_accuracy,
    };
    let event = scheduler.step_with_metric(sgd, metric)?;
    Ok(event.reduced().then(|| {
        format!(
            "epoch {}: ReduceLROnPlateau: {}",
            row.epoch,
            event.describe(monitor.name())
        )
    }))
}

/// Writes `trace.csv` into `dir` (when the run keeps a trace) with every step so far.
fn save_trace(trace: Option<&Trace>, dir: &Path) -> anyhow::Result<()> {
    match trace {
        Some(t) => write_atomic(&dir.join("trace.csv"), t.as_str().as_bytes()),
        None => Ok(()),
    }
}

fn diverged(step: u64, epoch: u64, lr: f64, what: &str, value: f32) -> String {
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
fn print_header(config: &RunConfig, data: &Data, out: &Path, state: &TrainingState) {
    let header = [
        format!(
            "model: 784-{}-10 MLP (ReLU); optimizer: {}; scheduler: {} (stepped per {})",
            config.model.hidden,
            console::shorten(&describe(&config.optimizer), 100),
            console::shorten(
                &config
                    .scheduler_class_table()
                    .map_or("none".to_string(), |t| describe(&t)),
                100
            ),
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

/// `SGD(lr=0.1, momentum=0.9, nesterov=true)` from a config table.
fn describe(table: &toml::Table) -> String {
    let name = table.get("name").and_then(|v| v.as_str()).unwrap_or("?");
    let args: Vec<String> = table
        .iter()
        .filter(|(k, _)| k.as_str() != "name")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{name}({})", args.join(", "))
}
