//! `trainer compare`: train every combination of run configs, `--grid` values and seeds, one run
//! after another in this process on data loaded once, then write a summary table, charts and a
//! self-contained HTML report.
//!
//! Runs with the same seed start from the same weights and see the same batches (both derive
//! from the seed), so the differences between settings come from the settings alone. A run that
//! fails (for example diverges) is reported in the table and the others go on; the exit status
//! is then [`RunsFailed::EXIT_CODE`].
//!
//! The plan is written to `DIR/sweep.toml` before the first run, and the summary, charts and
//! report are made from what the run folders hold ([`write_results`]), the code `trainer report`
//! runs too: both give the same files for the same folder.
//!
//! `--resume DIR` continues a sweep from its plan alone, `--shard K/N` only a part of it
//! ([`resume`]).
//!
//! Module map: [`grid`] (configs × grid × seeds into checked runs), [`sweep_file`]
//! (`sweep.toml`), [`finished`] (which runs finished, from their folders), [`summary`]
//! (per-setting statistics, `summary.csv`, the terminal table), [`charts`] (the SVG charts),
//! [`report`] (`report.html`), [`resume`] (`--resume`, `--shard`).

use crate::console;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::config::RunConfig;
use crate::outputs::write_atomic;
use crate::plural::plural;
use crate::run_folder::RunFolder;
use crate::training::{self, Console, RunOptions};

#[path = "compare/charts.rs"]
mod charts;
#[path = "compare/finished.rs"]
mod finished;
#[path = "compare/grid.rs"]
mod grid;
#[path = "compare/report.rs"]
mod report;
#[path = "compare/resume.rs"]
mod resume;
#[path = "compare/slurm.rs"]
mod slurm;
#[path = "compare/summary.rs"]
mod summary;
#[path = "compare/sweep_file.rs"]
mod sweep_file;

use sweep_file::Sweep;

/// Flags of `trainer compare`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    trainer compare configs/exponential.toml configs/cosine.toml --grid optimizer.momentum=0.8,0.9 --seeds 0,1 --epochs 3\n      \
    2 configs x 2 momentum values x 2 seeds = 8 runs of 3 epochs (cosine's T_max = \"auto\" is 3 x 235 steps)\n  \
    trainer compare configs/tutorial-steplr.toml --grid scheduler.step_size=1,2 --grid scheduler.gamma=0.5,0.9\n      \
    a 2 x 2 grid over StepLR's arguments\n  \
    trainer compare configs/exponential.toml --seeds 0,1 --epochs 1 --out runs/sweep --slurm\n      \
    the plan and Slurm scripts only (a job array of 2 tasks, then the report); prints the sbatch commands, --submit runs them\n  \
    trainer compare --resume runs/sweep --shard 0/2\n      \
    shard 0 of 2: the runs whose index is 0 modulo 2 (what task 0 of the array runs; any job runner can start shards)\n  \
    trainer compare --resume runs/sweep --shard 1/2\n  \
    trainer report runs/sweep\n      \
    the summary, charts and report of the runs finished so far (while shards run, or after)\n  \
    trainer compare --resume runs/sweep\n      \
    continue a sweep after Ctrl-C or a lost task: finished runs kept, interrupted ones from their checkpoints\n\n\
    Writes into DIR (default runs/compare-<timestamp>/):\n  \
    sweep.toml               the plan: the command, its configs, grid and seeds, every run with its config\n  \
    sweep.sbatch, report.sbatch, slurm/   with --slurm: the job array, the report job, their output files\n  \
    <setting>-seed=<seed>/   each run's folder (config.toml, metrics.csv, trace.csv, model.safetensors, ...)\n  \
    summary.csv              one row per setting: final and best test accuracy, final train loss (mean, std over seeds), ...\n  \
    lr.svg, train_loss.svg, test_accuracy.svg, update_ratio.svg\n  \
    report.html              the table and the charts in one page that opens offline\n\n\
    `trainer report DIR` rebuilds summary.csv, the charts and report.html from the runs finished so far.")]
pub struct CompareArgs {
    /// Run configs to compare (the format of `trainer train --config`).
    #[arg(required_unless_present = "resume", value_name = "CONFIG.toml")]
    pub configs: Vec<PathBuf>,
    /// Try every value of a config key: a dotted path such as scheduler.gamma,
    /// optimizer.momentum, data.batch_size or epochs; values are TOML (numbers, true/false,
    /// arrays such as [1, 2], else text). Repeat for a grid over several keys.
    #[arg(
        long = "grid",
        value_name = "KEY=V1,V2,...",
        allow_hyphen_values = true
    )]
    pub grid: Vec<String>,
    /// Run every setting with each of these seeds [default: each config's own seed].
    #[arg(long, value_name = "S1,S2,...", value_delimiter = ',')]
    pub seeds: Option<Vec<u64>>,
    /// Override every config's number of epochs ("auto" horizons follow; hand-sized ones that
    /// no longer fit are named before any run).
    #[arg(long, value_name = "N")]
    pub epochs: Option<u64>,
    /// Output folder [default: runs/compare-TIMESTAMP/]; it must be new or empty.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Folder with the Fashion-MNIST files, for every run (recorded in each run's config.toml,
    /// not in the settings' names) [default: each config's data.dir, else searched].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Worker threads (the results are bit-identical for any count) [default: all cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress display.
    #[arg(long)]
    pub quiet: bool,
    /// Replace the comparison in --out DIR; the old one is kept until the first run writes its
    /// first checkpoint.
    #[arg(long, requires = "out")]
    pub overwrite: bool,
    /// Continue the sweep in DIR from its plan (DIR/sweep.toml) alone: finished and failed runs
    /// are kept, interrupted ones continue from their checkpoints (bit-identical to an
    /// uninterrupted sweep), the others start. The configs, grid, seeds and epochs are the
    /// plan's, so none may be given; --shard, --data-dir, --threads and --quiet may.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["configs", "grid", "seeds", "epochs", "out", "overwrite", "slurm"]
    )]
    pub resume: Option<PathBuf>,
    /// With --resume: only the runs whose index is K modulo N (runs are numbered from 0 in
    /// sweep.toml), and no summary: N processes, anywhere DIR is shared, cover the sweep; then
    /// `trainer report DIR`.
    #[arg(long, value_name = "K/N", value_parser = resume::Shard::parse)]
    pub shard: Option<resume::Shard>,
    /// Train nothing here: write the plan and Slurm scripts into --out DIR (sweep.sbatch, a job
    /// array of one task per shard; report.sbatch, `trainer report DIR` after it) and print the
    /// sbatch commands that submit them.
    #[arg(long)]
    pub slurm: bool,
    /// With --slurm: submit both scripts (sbatch) and print the job ids.
    #[arg(long)]
    pub submit: bool,
    /// With --slurm: the number of array tasks; task K runs the runs whose index is K modulo N
    /// (at most the number of runs) [default: one task per run].
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,
    /// With --slurm: an sbatch option for both scripts, as an #SBATCH line, such as
    /// --slurm-option=--partition=short or --slurm-option=--cpus-per-task=4 (repeat for more).
    #[arg(long, value_name = "--NAME=VALUE", allow_hyphen_values = true)]
    pub slurm_option: Vec<String>,
    /// With --slurm: each task's time limit (#SBATCH --time), such as 30 or 2:00:00; a task
    /// stopped by it checkpoints and requeues itself.
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
}

/// Runs `trainer compare`.
pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    // (clap's `requires` would not see these: --resume and --slurm conflict with flags given.)
    if args.shard.is_some() && args.resume.is_none() {
        bail!("--shard K/N runs a part of an existing sweep, so it goes with --resume DIR: write the plan first (`trainer compare CONFIGS... --out DIR --slurm`, or any interrupted `compare --out DIR`), then run `trainer compare --resume DIR --shard K/N` once for each K");
    }
    let slurm_flag = [
        (args.submit, "--submit"),
        (args.shards.is_some(), "--shards"),
        (!args.slurm_option.is_empty(), "--slurm-option"),
        (args.time.is_some(), "--time"),
    ]
    .into_iter()
    .find(|(given, _)| *given);
    if let (false, Some((_, flag))) = (args.slurm, slurm_flag) {
        bail!("{flag} goes with --slurm (which writes the sweep's Slurm scripts); add --slurm");
    }
    if args.slurm && args.threads.is_some() {
        bail!("--threads has no effect with --slurm: each task uses the cores Slurm gives it ($SLURM_CPUS_PER_TASK); ask for them with --slurm-option=--cpus-per-task=N");
    }
    if args.slurm && args.out.is_none() {
        bail!("--slurm needs --out DIR: the sweep folder, on a file system every node of the cluster shares");
    }
    let slurm = args.slurm.then(|| slurm::Options {
        shards: args.shards,
        options: args.slurm_option.clone(),
        time: args.time.clone(),
        submit: args.submit,
    });
    if let (Some(slurm), Some(out)) = (&slurm, &args.out) {
        slurm.check(out)?;
    }
    if let Some(dir) = &args.resume {
        return resume::run(resume::Options {
            dir,
            shard: args.shard,
            data_dir: args.data_dir.as_deref(),
            threads: args.threads,
            show_progress: !args.quiet && std::io::stderr().is_terminal(),
        });
    }
    // Everything is checked before anything is trained or written.
    let configs: Vec<(PathBuf, RunConfig)> = args
        .configs
        .iter()
        .map(|path| {
            let mut config = RunConfig::load(path)?;
            if let Some(dir) = &args.data_dir {
                config.data.dir = Some(dir.clone());
            }
            Ok((path.clone(), config))
        })
        .collect::<anyhow::Result<_>>()?;
    let axes: Vec<grid::GridAxis> = args
        .grid
        .iter()
        .map(|g| grid::parse_axis(g))
        .collect::<anyhow::Result<_>>()?;
    if args.data_dir.is_some() && axes.iter().any(|a| a.key == "data.dir") {
        bail!("--grid data.dir=... and --data-dir both set the data folder; give only --data-dir");
    }
    // A used --out is refused before any work.
    let hint = "replace it with `--overwrite` (the old one is kept until the first run writes its first checkpoint), or choose another --out DIR";
    if let Some(out) = &args.out {
        RunFolder::check_new(out, args.overwrite, hint)?;
    }
    if let Some(threads) = args.threads {
        training::use_threads(threads)?;
    }
    let data_dir = common_data_dir(&configs, &axes)?;
    let data = training::load_data(data_dir.as_deref())?;
    // The plan needs the training set's size: "auto" horizons and the horizon checks count the
    // runs' scheduler steps.
    let plan = grid::plan(
        &configs,
        axes,
        args.seeds.as_deref(),
        args.epochs,
        data.train.len(),
    )?;
    for setting in &plan.settings {
        for note in &setting.notes {
            console::eprintln(format_args!("warning: {}: {note}", setting.name));
        }
    }
    let tasks = slurm
        .as_ref()
        .map(|s| s.tasks(plan.runs.len()))
        .transpose()?;
    let command = std::iter::once("trainer".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let plan_text = sweep_file::text(
        &sweep_file::Command {
            line: command.clone(),
            configs: args
                .configs
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            seeds: args.seeds.as_deref(),
            epochs: args.epochs,
        },
        &plan,
    )?;
    let mut folder = match &args.out {
        Some(out) => RunFolder::create(out, args.overwrite, hint)?,
        None => RunFolder::create_fresh(&default_out_dir())?,
    };
    write_atomic(
        &folder.dir().join(sweep_file::FILE_NAME),
        plan_text.as_bytes(),
    )?;
    if let (Some(slurm), Some(tasks)) = (&slurm, tasks) {
        return write_slurm(folder, tasks, slurm);
    }
    training::install_ctrl_c_handler();

    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let stopped = train_all(&plan, &data, &mut folder, show_progress)?;
    // The comparison is complete (even if no run reached a checkpoint): it replaces the old.
    folder.checkpoint_written()?;
    let out = folder.path().to_path_buf();

    let sweep = Sweep { command, plan };
    let results = write_results(&out, &sweep)?;
    console::println(format_args!(
        "{} ({} failed); wrote {}: summary.csv, {}report.html and one folder per run",
        plural((results.finished + results.failed.len()) as u64, "run"),
        results.failed.len(),
        out.display(),
        results
            .charts
            .iter()
            .map(|f| format!("{f}, "))
            .collect::<String>()
    ));
    if let Some(stopped) = stopped {
        return Err(Interrupted {
            finished: results.finished + results.failed.len(),
            total: sweep.plan.runs.len(),
            resume: format!("trainer compare --resume {}", out.display()),
            out,
            run: stopped,
        }
        .into());
    }
    results.status()
}

/// `--slurm`: the scripts beside the plan, and with `--submit` the jobs submitted. The folder
/// (an `--overwrite` swapped in) is left for the cluster's tasks.
fn write_slurm(
    mut folder: RunFolder,
    tasks: usize,
    options: &slurm::Options,
) -> anyhow::Result<()> {
    folder.checkpoint_written()?;
    let paths = slurm::Paths::of_this_process(folder.path())?;
    drop(folder);
    let text = slurm::write(&paths, tasks, options)?;
    console::print(format_args!("{text}"));
    if options.submit {
        let jobs = slurm::submit(&paths.dir)?;
        console::println(format_args!(
            "submitted: the sweep as job array {} ({}), the report as job {} after it; their output goes to {}",
            jobs.array,
            plural(tasks as u64, "task"),
            jobs.report,
            paths.dir.join(slurm::OUTPUT_DIR).display()
        ));
    }
    Ok(())
}

/// What [`write_results`] found and wrote.
pub struct Results {
    /// Runs finished.
    pub finished: usize,
    /// The failed runs' folder names, in plan order.
    pub failed: Vec<String>,
    /// The runs neither finished nor failed: folder name and why.
    pub missing: Vec<(String, String)>,
    /// Runs in the plan.
    pub total: usize,
    /// The chart files written.
    pub charts: Vec<&'static str>,
}

impl Results {
    /// `Ok` when every run finished; else [`RunsFailed`] (some failed) or [`RunsMissing`].
    pub fn status(&self) -> anyhow::Result<()> {
        if !self.failed.is_empty() {
            return Err(RunsFailed {
                failed: self.failed.clone(),
                total: self.total,
            }
            .into());
        }
        if !self.missing.is_empty() {
            return Err(RunsMissing {
                missing: self.missing.iter().map(|(n, _)| n.clone()).collect(),
                total: self.total,
            }
            .into());
        }
        Ok(())
    }
}

/// Writes `summary.csv`, the charts and `report.html` into the comparison folder `out` from the
/// runs its folders hold (finished, failed, missing: see [`finished`]), and prints the table
/// and the missing runs. Only reads the run folders: a comparison may be running meanwhile.
/// `compare` calls it when its runs are done, `trainer report` at any time.
pub fn write_results(out: &Path, sweep: &Sweep) -> anyhow::Result<Results> {
    let plan = &sweep.plan;
    let found = finished::read(out, plan);
    let rows = summary::summarise(plan, &found.outcomes, &found.missing);
    write_atomic(
        &out.join("summary.csv"),
        summary::csv(plan, &rows).as_bytes(),
    )?;
    let charts = if found.outcomes.iter().any(|o| o.result.is_ok()) {
        charts::draw(plan, &found.outcomes)?
    } else {
        Vec::new()
    };
    for chart in &charts {
        write_atomic(&out.join(chart.file), chart.svg.as_bytes())?;
    }
    // Charts of an earlier report that this one has none for (no run finished any more).
    for file in charts::FILES {
        if !charts.iter().any(|c| c.file == file) {
            match std::fs::remove_file(out.join(file)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("cannot remove the old {file}"));
                }
                _ => {}
            }
        }
    }
    write_atomic(
        &out.join("report.html"),
        report::html(&sweep.command, plan, &rows, &charts, &found.missing).as_bytes(),
    )?;

    console::print(format_args!("{}", summary::terminal_table(&rows)));
    let missing: Vec<(String, String)> = found
        .missing
        .iter()
        .map(|m| (plan.runs[m.run].dir_name.clone(), m.reason.clone()))
        .collect();
    for (name, reason) in &missing {
        console::println(format_args!("missing: {name}: {reason}"));
    }
    Ok(Results {
        finished: found.outcomes.iter().filter(|o| o.result.is_ok()).count(),
        failed: found
            .outcomes
            .iter()
            .filter(|o| o.result.is_err())
            .map(|o| plan.runs[o.run].dir_name.clone())
            .collect(),
        missing,
        total: plan.runs.len(),
        charts: charts.iter().map(|c| c.file).collect(),
    })
}

/// Rebuilds the summary, charts and report of the comparison folder `dir` (its `sweep.toml` and
/// its run folders): what `trainer report DIR` does.
pub fn rebuild(dir: &Path) -> anyhow::Result<Results> {
    let sweep = sweep_file::read(dir)?;
    write_results(dir, &sweep)
}

/// The error `trainer report` ends with when no run failed but some have not finished (not
/// started, under way, or interrupted): everything is written from the finished ones, and the
/// exit status says so ([`RunsMissing::EXIT_CODE`]).
#[derive(Debug)]
pub struct RunsMissing {
    /// The missing runs' folder names, in plan order.
    pub missing: Vec<String>,
    /// Runs in the plan.
    pub total: usize,
}

impl RunsMissing {
    /// The exit status (see [`RunsFailed::EXIT_CODE`] for the others).
    pub const EXIT_CODE: u8 = 4;
}

impl std::fmt::Display for RunsMissing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} have not finished: {} (the summary, charts and report cover the others)",
            self.missing.len(),
            plural(self.total as u64, "run"),
            self.missing.join(", ")
        )
    }
}

impl std::error::Error for RunsMissing {}

/// The error `compare` ends with when some runs failed (diverged, for example) and the others
/// finished: the summary, charts and report are written, and the exit status says so
/// ([`RunsFailed::EXIT_CODE`]).
#[derive(Debug)]
pub struct RunsFailed {
    /// The failed runs' folder names, in plan order.
    pub failed: Vec<String>,
    /// Runs in the plan.
    pub total: usize,
}

impl RunsFailed {
    /// The exit status: 0 is every run finished, 1 an error before any run (or a file that
    /// could not be written), 2 a command-line mistake, 4 some runs not finished
    /// ([`RunsMissing`], from `trainer report`), 130 Ctrl-C.
    pub const EXIT_CODE: u8 = 3;
}

impl std::fmt::Display for RunsFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} failed: {} (their errors are in the status column above and in summary.csv)",
            self.failed.len(),
            plural(self.total as u64, "run"),
            self.failed.join(", ")
        )
    }
}

impl std::error::Error for RunsFailed {}

/// The error `compare` stops with after Ctrl-C or SIGTERM: the interrupted run has its
/// checkpoint, and the summary, charts and report cover the runs finished before it (not with
/// `--shard`, which writes no summary).
#[derive(Debug)]
pub struct Interrupted {
    /// Runs that finished (or failed).
    pub finished: usize,
    /// Runs in the plan (in the shard, with `--shard`).
    pub total: usize,
    /// The comparison folder.
    pub out: PathBuf,
    /// The command that continues the sweep (`trainer compare --resume DIR ...`).
    pub resume: String,
    /// How the interrupted run stopped (its folder and last step).
    pub run: training::Interrupted,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "compare interrupted: {} of {} finished ({} has their results); run {} stopped after step {} with a checkpoint. Continue the sweep with `{}`, or that run alone with: trainer train --resume {}",
            self.finished,
            plural(self.total as u64, "run"),
            self.out.display(),
            self.run.out.display(),
            self.run.step,
            self.resume,
            self.run.out.display()
        )
    }
}

impl std::error::Error for Interrupted {}

/// Trains the plan's runs one after another, each into its own folder. With `show_progress` a
/// display on standard error shows the run under way (`run i/n` and its name) with a ticking
/// clock, and below it the run's epoch and step. A failing run is recorded in its folder
/// (`failed.txt`, the first line of its error), not fatal; a run folder that cannot be written
/// is fatal. After Ctrl-C the run under way checkpoints (and gets `interrupted.txt`) and
/// nothing further starts: its stop is returned.
fn train_all(
    plan: &grid::Plan,
    data: &training::Data,
    folder: &mut RunFolder,
    show_progress: bool,
) -> anyhow::Result<Option<training::Interrupted>> {
    let progress = Progress::new(show_progress, plan.runs.len());
    for (index, run) in plan.runs.iter().enumerate() {
        progress.start(index, plan.runs.len(), &run.dir_name);
        let mut sub = folder.sub_run(&run.dir_name)?;
        // Every run keeps a trace (the update-ratio chart reads it).
        let config = run_config(run);
        write_atomic(&sub.dir().join("config.toml"), config.to_toml()?.as_bytes())?;
        let stopped = train_one(config, None, &mut sub, data, &progress);
        folder.take_back(sub);
        progress.done();
        if let Some(stopped) = stopped? {
            progress.finish();
            return Ok(Some(stopped));
        }
    }
    progress.finish();
    Ok(None)
}

/// The config a planned run trains with: the plan's, with a trace (the update-ratio chart
/// reads it).
fn run_config(run: &grid::PlannedRun) -> RunConfig {
    RunConfig {
        trace: true,
        ..run.config.clone()
    }
}

/// The display over a sweep's runs: `run i/n`, the run's name, a ticking clock and the runs
/// done, with the run's own epoch and step bar below it. Hidden without a terminal.
struct Progress {
    display: Option<MultiProgress>,
    bar: ProgressBar,
}

impl Progress {
    fn new(show: bool, runs: usize) -> Progress {
        // The process's display: the Ctrl-C message is printed above it
        // (console::eprintln_above_bars).
        let display = show.then(|| console::progress_display().clone());
        let bar = match &display {
            Some(display) => {
                let bar = display.add(ProgressBar::new(runs as u64));
                let style = ProgressStyle::with_template(
                    "{prefix} {msg}  {elapsed_precise}  [{bar:20}] {pos}/{len} runs done",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
                bar.set_style(style);
                // The clock ticks between steps too (a run's first epoch can take a while).
                bar.enable_steady_tick(Duration::from_millis(500));
                bar
            }
            None => ProgressBar::hidden(),
        };
        Progress { display, bar }
    }

    /// Run `index` of `total` (counted from 1 on screen) starts.
    fn start(&self, index: usize, total: usize, name: &str) {
        self.bar.set_prefix(format!("run {}/{total}", index + 1));
        self.bar.set_message(name.to_string());
    }

    /// A run is done (or kept as it was).
    fn done(&self) {
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Trains one run of a sweep into `sub` (whose `config.toml` is written), from the start or
/// from `resume_from`. A failing run gets `failed.txt` (the first line of its error) and is not
/// an error here; a run stopped by Ctrl-C or SIGTERM has checkpointed, gets `interrupted.txt`
/// and its stop is returned. Errors are files that cannot be written.
fn train_one(
    config: RunConfig,
    resume_from: Option<(autograd_lite::Mlp, crate::checkpoint::TrainingState)>,
    sub: &mut RunFolder,
    data: &training::Data,
    progress: &Progress,
) -> anyhow::Result<Option<training::Interrupted>> {
    let opts = RunOptions {
        config,
        quiet: true,
        console: Console::Silent,
        resume_from,
        progress: progress.display.clone(),
    };
    match training::run(&opts, sub, data) {
        Ok(_) => Ok(None),
        Err(e) => match e.downcast::<training::Interrupted>() {
            Ok(stop) => {
                write_atomic(
                    &sub.dir().join(finished::INTERRUPTED_FILE),
                    format!("interrupted after step {} (checkpointed)\n", stop.step).as_bytes(),
                )?;
                Ok(Some(stop))
            }
            Err(e) => {
                let first_line = format!("{e:#}")
                    .lines()
                    .next()
                    .unwrap_or("failed")
                    .to_string();
                write_atomic(
                    &sub.dir().join(finished::FAILED_FILE),
                    format!("{first_line}\n").as_bytes(),
                )?;
                Ok(None)
            }
        },
    }
}

/// The one data folder every run reads (runs share the data loaded once): the configs' `[data]
/// dir`, or the value of a `--grid data.dir=...`.
fn common_data_dir(
    configs: &[(PathBuf, RunConfig)],
    axes: &[grid::GridAxis],
) -> anyhow::Result<Option<PathBuf>> {
    let dirs: Vec<Option<PathBuf>> = match axes.iter().find(|a| a.key == "data.dir") {
        Some(axis) => axis
            .values
            .iter()
            .map(|v| Some(PathBuf::from(grid::value_text(v))))
            .collect(),
        None => configs.iter().map(|(_, c)| c.data.dir.clone()).collect(),
    };
    let first = dirs.first().cloned().flatten();
    if let Some(other) = dirs.iter().find(|d| **d != first) {
        bail!(
            "the configs read data from different folders ({} and {}); the runs share one data set, so give every config the same [data] dir (or none)",
            first.as_deref().map_or("the default".into(), |p| p.display().to_string()),
            other.as_deref().map_or("the default".into(), |p| p.display().to_string())
        );
    }
    Ok(first)
}

/// `runs/compare-<YYYYMMDD-HHMMSS>/`.
fn default_out_dir() -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let stamp: String = stamp
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    PathBuf::from("runs").join(format!("compare-{}", stamp.replace('T', "-")))
}
