//! `trainer compare`: train every combination of run configs, `--grid` values and seeds, one run
//! after another in this process on data loaded once, then write a summary table, charts and a
//! self-contained HTML report.
//!
//! Runs with the same seed start from the same weights and see the same batches (both derive
//! from the seed), so the differences between settings come from the settings alone. A run that
//! fails (for example diverges) is reported in the table and the others go on.
//!
//! Module map: [`grid`] (configs × grid × seeds into checked runs), [`summary`] (per-setting
//! statistics, `summary.csv`, the terminal table), [`charts`] (the SVG charts), [`report`]
//! (`report.html`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::RunConfig;
use crate::outputs::write_atomic;
use crate::run_folder::RunFolder;
use crate::training::{self, Console, RunOptions};

#[path = "compare/charts.rs"]
mod charts;
#[path = "compare/grid.rs"]
mod grid;
#[path = "compare/report.rs"]
mod report;
#[path = "compare/summary.rs"]
mod summary;

use summary::RunOutcome;

/// Flags of `trainer compare`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    trainer compare configs/tutorial-steplr.toml configs/cosine.toml --grid optimizer.momentum=0.8,0.9 --seeds 0,1 --epochs 3\n      \
    2 configs x 2 momentum values x 2 seeds = 8 runs of 3 epochs\n  \
    trainer compare configs/tutorial-steplr.toml --grid scheduler.step_size=1,2 --grid scheduler.gamma=0.5,0.9\n      \
    a 2 x 2 grid over StepLR's arguments\n\n\
    Writes into DIR (default runs/compare-<timestamp>/):\n  \
    <setting>-seed=<seed>/   each run's folder (config.toml, metrics.csv, trace.csv, model.safetensors, ...)\n  \
    summary.csv              one row per setting: final and best test accuracy, final train loss (mean, std over seeds), ...\n  \
    lr.svg, train_loss.svg, test_accuracy.svg, update_ratio.svg\n  \
    report.html              the table and the charts in one page that opens offline")]
pub struct CompareArgs {
    /// Run configs to compare (the format of `trainer train --config`).
    #[arg(required = true, value_name = "CONFIG.toml")]
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
    /// Override every config's number of epochs.
    #[arg(long, value_name = "N")]
    pub epochs: Option<u64>,
    /// Output folder [default: runs/compare-TIMESTAMP/]; it must be new or empty.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the comparison in --out DIR; the old one is kept until the first run writes its
    /// first checkpoint.
    #[arg(long, requires = "out")]
    pub overwrite: bool,
}

/// Runs `trainer compare`.
pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    // Everything is checked before anything is trained or written.
    let configs: Vec<(PathBuf, RunConfig)> = args
        .configs
        .iter()
        .map(|path| Ok((path.clone(), RunConfig::load(path)?)))
        .collect::<anyhow::Result<_>>()?;
    let axes: Vec<grid::GridAxis> = args
        .grid
        .iter()
        .map(|g| grid::parse_axis(g))
        .collect::<anyhow::Result<_>>()?;
    let plan = grid::plan(&configs, axes, args.seeds.as_deref(), args.epochs)?;
    let data_dir = common_data_dir(&plan)?;
    let hint = "replace it with `--overwrite` (the old one is kept until the first run writes its first checkpoint), or choose another --out DIR";
    if let Some(out) = &args.out {
        RunFolder::check_new(out, args.overwrite, hint)?;
    }
    let data = training::load_data(data_dir.as_deref())?;
    let mut folder = match &args.out {
        Some(out) => RunFolder::create(out, args.overwrite, hint)?,
        None => RunFolder::create_fresh(&default_out_dir())?,
    };
    training::install_ctrl_c_handler();

    let (outcomes, stopped) = train_all(&plan, &data, &mut folder)?;
    // The comparison is complete (even if no run reached a checkpoint): it replaces the old.
    folder.checkpoint_written()?;
    let out = folder.path().to_path_buf();

    let rows = summary::summarise(&plan, &outcomes);
    write_atomic(
        &out.join("summary.csv"),
        summary::csv(&plan, &rows).as_bytes(),
    )?;
    let charts = if outcomes.iter().any(|o| o.result.is_ok()) {
        charts::draw(&plan, &outcomes)?
    } else {
        Vec::new()
    };
    for chart in &charts {
        write_atomic(&out.join(chart.file), chart.svg.as_bytes())?;
    }
    let command = std::iter::once("trainer".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    write_atomic(
        &out.join("report.html"),
        report::html(&command, &plan, &rows, &charts).as_bytes(),
    )?;

    print!("{}", summary::terminal_table(&rows));
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    let files: Vec<&str> = charts.iter().map(|c| c.file).collect();
    println!(
        "{} runs ({} failed); wrote {}: summary.csv, {}report.html and one folder per run",
        outcomes.len(),
        failed,
        out.display(),
        files.iter().map(|f| format!("{f}, ")).collect::<String>()
    );
    if let Some(stopped) = stopped {
        return Err(Interrupted {
            finished: outcomes.len() - 1,
            total: plan.runs.len(),
            out,
            run: stopped,
        }
        .into());
    }
    if failed == outcomes.len() {
        bail!("every run failed; see the status column above");
    }
    Ok(())
}

/// The error `compare` stops with after Ctrl-C: the interrupted run has its checkpoint, and the
/// summary, charts and report cover the runs finished before it.
#[derive(Debug)]
pub struct Interrupted {
    /// Runs that finished.
    pub finished: usize,
    /// Runs in the plan.
    pub total: usize,
    /// The comparison folder.
    pub out: PathBuf,
    /// How the interrupted run stopped (its folder and last step).
    pub run: training::Interrupted,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "compare interrupted: {} of {} runs finished (summary.csv, the charts and report.html in {} cover them); run {} stopped after step {} with a checkpoint. Continue it with: trainer train --resume {}",
            self.finished,
            self.total,
            self.out.display(),
            self.run.out.display(),
            self.run.step,
            self.run.out.display()
        )
    }
}

impl std::error::Error for Interrupted {}

/// Trains the plan's runs one after another, each into its own folder, with a progress bar over
/// runs on a terminal. A failing run is recorded, not fatal; a run folder that cannot be written
/// is fatal. After Ctrl-C the run under way checkpoints and nothing further starts: the outcomes
/// end with that run (recorded as interrupted), and its stop is returned beside them.
fn train_all(
    plan: &grid::Plan,
    data: &training::Data,
    folder: &mut RunFolder,
) -> anyhow::Result<(Vec<RunOutcome>, Option<training::Interrupted>)> {
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(plan.runs.len() as u64);
        let style = ProgressStyle::with_template(
            "runs [{bar:30}] {pos}/{len} {elapsed_precise} (eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut outcomes = Vec::with_capacity(plan.runs.len());
    for (index, run) in plan.runs.iter().enumerate() {
        bar.set_message(run.dir_name.clone());
        let mut sub = folder.sub_run(&run.dir_name)?;
        let dir = sub.path().to_path_buf();
        // Every run keeps a trace (the update-ratio chart reads it).
        let config = RunConfig {
            trace: true,
            ..run.config.clone()
        };
        write_atomic(&sub.dir().join("config.toml"), config.to_toml()?.as_bytes())?;
        let opts = RunOptions {
            config,
            quiet: true,
            console: Console::Silent,
            resume_from: None,
        };
        let start = Instant::now();
        let result = training::run(&opts, &mut sub, data);
        folder.take_back(sub);
        let seconds = start.elapsed().as_secs_f64();
        let (result, stopped) = match result {
            Ok(summary) => (Ok(summary.metrics), None),
            Err(e) => match e.downcast::<training::Interrupted>() {
                Ok(stop) => (
                    Err(format!(
                        "interrupted after step {} (checkpointed)",
                        stop.step
                    )),
                    Some(stop),
                ),
                Err(e) => {
                    let first_line = format!("{e:#}")
                        .lines()
                        .next()
                        .unwrap_or("failed")
                        .to_string();
                    (Err(first_line), None)
                }
            },
        };
        outcomes.push(RunOutcome {
            run: index,
            dir,
            seconds,
            result,
        });
        bar.inc(1);
        if stopped.is_some() {
            bar.finish_and_clear();
            return Ok((outcomes, stopped));
        }
    }
    bar.finish_and_clear();
    Ok((outcomes, None))
}

/// The one data folder every run reads (runs share the data loaded once).
fn common_data_dir(plan: &grid::Plan) -> anyhow::Result<Option<PathBuf>> {
    let mut dirs = plan.runs.iter().map(|r| r.config.data.dir.clone());
    let first = dirs.next().flatten();
    if let Some(other) = plan
        .runs
        .iter()
        .map(|r| &r.config.data.dir)
        .find(|d| **d != first)
    {
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
