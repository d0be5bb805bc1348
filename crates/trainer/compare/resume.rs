//! `trainer compare --resume DIR [--shard K/N]`: continue a sweep from its plan
//! (`DIR/sweep.toml`) alone.
//!
//! Run by run, in plan order (only the shard's runs with `--shard`):
//! - finished and failed runs are kept as they are (a failed run failed for its config: it
//!   would fail again; delete its folder to run it again);
//! - a run with a checkpoint continues from it, through the checks `trainer train --resume`
//!   makes (its `config.toml` must describe the checkpoint's run), and its `config.toml` must
//!   also be the plan's: the result is bit-identical to an uninterrupted sweep;
//! - a run never started, or stopped before its first checkpoint, starts from the beginning.
//!
//! Each run folder is locked while it is worked on. A run whose lock a live process holds
//! (another shard given the same K, a second `--resume`) is skipped and named, never written;
//! a lock left by a process that has ended is taken over. A `trainer compare` still running
//! the sweep (it holds `DIR/.lock`) makes `--resume` refuse before any work.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::finished::{self, RunState};
use super::sweep_file::{self, Sweep};
use super::{run_config, train_one, write_results, Interrupted, Progress, RunsFailed, RunsMissing};
use crate::checkpoint;
use crate::console;
use crate::outputs::write_atomic;
use crate::plural::plural;
use crate::run_folder::{self, RunFolder, Taken};
use crate::training;

/// `--shard K/N`: the runs whose index is K modulo N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, below N.
    pub k: usize,
    /// N, at least 1.
    pub n: usize,
}

impl Shard {
    /// Parses `K/N` (clap's value parser: the message becomes a command-line error).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let usage =
            "write K/N with whole numbers 0 <= K < N, for example 0/4 (the first of 4 shards)";
        let Some((k, n)) = text.split_once('/') else {
            return Err(format!("{text:?} has no `/`; {usage}"));
        };
        let number = |s: &str, what: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("{what} {s:?} is not a whole number; {usage}"))
        };
        let (k, n) = (number(k, "K")?, number(n, "N")?);
        if n == 0 {
            return Err(format!("N is 0; {usage}"));
        }
        if k >= n {
            return Err(format!(
                "K = {k} is not below N = {n} (shards are counted from 0, so the last is {}/{n}); {usage}",
                n - 1
            ));
        }
        Ok(Shard { k, n })
    }

    /// Whether run `index` is this shard's.
    pub fn has(&self, index: usize) -> bool {
        index % self.n == self.k
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// What `--resume` was asked to do.
pub struct Options<'a> {
    /// The sweep folder.
    pub dir: &'a Path,
    /// Only these runs.
    pub shard: Option<Shard>,
    /// `--data-dir`: where the data is on this machine (replaces the runs' `data.dir`).
    pub data_dir: Option<&'a Path>,
    /// `--threads`.
    pub threads: Option<usize>,
    /// Show the progress display.
    pub show_progress: bool,
}

/// What became of the runs this process looked at.
#[derive(Default)]
struct Tally {
    /// Finished or failed before this process started.
    kept: usize,
    /// Trained to their end by this process.
    trained: usize,
    /// Skipped: another live process holds their folder (folder name, who).
    busy: Vec<(String, String)>,
}

/// Runs `trainer compare --resume`.
pub fn run(opts: Options) -> anyhow::Result<()> {
    let dir = opts.dir;
    let sweep = sweep_file::read(dir).context("cannot resume the sweep")?;
    if let Some(who) = run_folder::holder(dir) {
        bail!(
            "{} is being run by `trainer compare` ({who}); wait for it to finish, or stop it (Ctrl-C checkpoints the run under way) and resume then",
            dir.display()
        );
    }
    let mine: Vec<usize> = (0..sweep.plan.runs.len())
        .filter(|&i| opts.shard.is_none_or(|s| s.has(i)))
        .collect();
    let mut tally = Tally::default();
    let todo: Vec<usize> = mine
        .iter()
        .copied()
        .filter(|&i| match finished::state(dir, &sweep.plan, i) {
            RunState::Done(_) => {
                tally.kept += 1;
                false
            }
            RunState::Missing(_) => true,
        })
        .collect();
    let stopped = match todo.is_empty() {
        true => None,
        false => train_runs(&sweep, &todo, &opts, &mut tally)?,
    };
    match opts.shard {
        None => end_of_sweep(dir, &sweep, &tally, stopped),
        Some(shard) => end_of_shard(dir, &sweep, shard, &mine, &tally, stopped),
    }
}

/// The end of a whole sweep's `--resume`: the summary, charts and report, as at the end of
/// `compare`, and its exit status.
fn end_of_sweep(
    dir: &Path,
    sweep: &Sweep,
    tally: &Tally,
    stopped: Option<training::Interrupted>,
) -> anyhow::Result<()> {
    let results = write_results(dir, sweep)?;
    console::println(format_args!(
        "{} ({} kept, {} trained now, {} failed); wrote {}: summary.csv, {}report.html",
        plural((results.finished + results.failed.len()) as u64, "run"),
        tally.kept,
        tally.trained,
        results.failed.len(),
        dir.display(),
        results
            .charts
            .iter()
            .map(|f| format!("{f}, "))
            .collect::<String>()
    ));
    report_busy(tally);
    if let Some(run) = stopped {
        return Err(Interrupted {
            finished: results.finished + results.failed.len(),
            total: sweep.plan.runs.len(),
            out: dir.to_path_buf(),
            resume: format!("trainer compare --resume {}", dir.display()),
            run,
        }
        .into());
    }
    results.status()
}

/// The end of a shard (`mine`, its runs): no summary (the other shards may be running), a line
/// on its runs and the `trainer report` to run, and its exit status.
fn end_of_shard(
    dir: &Path,
    sweep: &Sweep,
    shard: Shard,
    mine: &[usize],
    tally: &Tally,
    stopped: Option<training::Interrupted>,
) -> anyhow::Result<()> {
    let mut done = 0;
    let mut failed = Vec::new();
    let mut missing = Vec::new();
    for &i in mine {
        let name = sweep.plan.runs[i].dir_name.clone();
        match finished::state(dir, &sweep.plan, i) {
            RunState::Done(outcome) if outcome.result.is_ok() => done += 1,
            RunState::Done(_) => failed.push(name),
            RunState::Missing(_) => missing.push(name),
        }
    }
    console::println(format_args!(
        "shard {shard}: {done} of {} finished ({} kept, {} trained now), {} failed, {} not finished. The sweep's summary, charts and report: trainer report {}",
        plural(mine.len() as u64, "run"),
        tally.kept,
        tally.trained,
        failed.len(),
        missing.len(),
        dir.display()
    ));
    report_busy(tally);
    if let Some(run) = stopped {
        return Err(Interrupted {
            finished: done + failed.len(),
            total: mine.len(),
            out: dir.to_path_buf(),
            resume: format!("trainer compare --resume {} --shard {shard}", dir.display()),
            run,
        }
        .into());
    }
    if !failed.is_empty() {
        return Err(RunsFailed {
            failed,
            total: mine.len(),
        }
        .into());
    }
    if !missing.is_empty() {
        return Err(RunsMissing {
            missing,
            total: mine.len(),
        }
        .into());
    }
    Ok(())
}

/// Names the runs skipped because another process holds them.
fn report_busy(tally: &Tally) {
    for (name, who) in &tally.busy {
        console::eprintln(format_args!(
            "skipped {name}: {who} is running it (it holds its .lock)"
        ));
    }
}

/// Loads the data once and trains the runs `todo` (plan indices) one after another: each is
/// taken (locked), looked at again (another process may have finished it meanwhile), then
/// continued from its checkpoint or started. Returns the stop after Ctrl-C or SIGTERM.
fn train_runs(
    sweep: &Sweep,
    todo: &[usize],
    opts: &Options,
    tally: &mut Tally,
) -> anyhow::Result<Option<training::Interrupted>> {
    let plan = &sweep.plan;
    if let Some(threads) = opts.threads {
        training::use_threads(threads)?;
    }
    // Every run of a sweep reads the same data folder (`compare` checks it when planning).
    let data_dir: Option<PathBuf> = match opts.data_dir {
        Some(dir) => Some(dir.to_path_buf()),
        None => plan.runs[todo[0]].config.data.dir.clone(),
    };
    let data = training::load_data(data_dir.as_deref())?;
    training::install_ctrl_c_handler();
    let progress = Progress::new(opts.show_progress, todo.len());
    for (n, &index) in todo.iter().enumerate() {
        let run = &plan.runs[index];
        progress.start(n, todo.len(), &run.dir_name);
        let path = opts.dir.join(&run.dir_name);
        let mut folder = match RunFolder::take(&path)? {
            Taken::Busy(who) => {
                tally.busy.push((run.dir_name.clone(), who));
                progress.done();
                continue;
            }
            Taken::Folder(folder) => folder,
        };
        if let RunState::Done(_) = finished::state(opts.dir, plan, index) {
            tally.kept += 1;
            progress.done();
            continue;
        }
        let mut planned = run_config(run);
        if let Some(dir) = opts.data_dir {
            planned.data.dir = Some(dir.to_path_buf());
        }
        let (config, resume_from) = match path.join(checkpoint::FILE_NAME).exists() {
            true => continue_from_checkpoint(&path, planned, opts.data_dir)?,
            false => {
                write_atomic(&path.join("config.toml"), planned.to_toml()?.as_bytes())?;
                (planned, None)
            }
        };
        match std::fs::remove_file(path.join(finished::INTERRUPTED_FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot remove {}",
                        path.join(finished::INTERRUPTED_FILE).display()
                    )
                });
            }
            _ => {}
        }
        let stopped = train_one(config, resume_from, &mut folder, &data, &progress)?;
        progress.done();
        if stopped.is_some() {
            progress.finish();
            return Ok(stopped);
        }
        tally.trained += 1;
    }
    progress.finish();
    Ok(None)
}

/// The config and checkpoint of a run that checkpointed: `trainer train --resume`'s checks,
/// and its `config.toml` must be the plan's (`--data-dir` may move the data).
#[allow(clippy::type_complexity)]
fn continue_from_checkpoint(
    path: &Path,
    planned: crate::config::RunConfig,
    data_dir: Option<&Path>,
) -> anyhow::Result<(
    crate::config::RunConfig,
    Option<(autograd_lite::Mlp, checkpoint::TrainingState)>,
)> {
    let again = || format!("delete {} to run it again from the start", path.display());
    let resumed = crate::resume::resume(
        path,
        |c| {
            if let Some(dir) = data_dir {
                c.data.dir = Some(dir.to_path_buf());
            }
            Ok(())
        },
        false,
    )
    .with_context(again)?;
    let differences =
        crate::resume::differences_between(&resumed.config, &planned, "config.toml", "sweep.toml")?;
    if !differences.is_empty() {
        bail!(
            "cannot resume {}: its config.toml is not the run sweep.toml plans: {}; {}",
            path.display(),
            differences.join("; "),
            again()
        );
    }
    if resumed.config_changed {
        write_atomic(
            &path.join("config.toml"),
            resumed.config.to_toml()?.as_bytes(),
        )?;
    }
    Ok((resumed.config, resumed.checkpoint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_bad_ones_say_what_to_write() {
        assert_eq!(Shard::parse("0/1"), Ok(Shard { k: 0, n: 1 }));
        assert_eq!(Shard::parse("3/4"), Ok(Shard { k: 3, n: 4 }));
        for (bad, says) in [
            ("1/0", "N is 0"),
            ("4/4", "K = 4 is not below N = 4"),
            ("5/4", "the last is 3/4"),
            ("x/4", "K \"x\" is not a whole number"),
            ("1/-2", "N \"-2\" is not a whole number"),
            ("3", "has no `/`"),
            ("", "has no `/`"),
            ("1/2/3", "N \"2/3\""),
        ] {
            let err = Shard::parse(bad).unwrap_err();
            assert!(err.contains(says) && err.contains("K/N"), "{bad}: {err}");
        }
    }

    #[test]
    fn n_shards_cover_every_run_once() {
        for n in 1..6 {
            for index in 0..20 {
                let owners = (0..n).filter(|&k| Shard { k, n }.has(index)).count();
                assert_eq!(owners, 1);
            }
        }
    }
}
