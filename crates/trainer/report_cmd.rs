//! `trainer report DIR`: (re)builds `summary.csv`, the charts and `report.html` of a comparison
//! folder from the runs in it that have finished, and names the ones missing or failed. The
//! same code `trainer compare` ends with ([`crate::compare_cmd::write_results`]), so a finished
//! comparison gets the same files again.
//!
//! It reads the plan (`DIR/sweep.toml`) and the run folders and writes only its own three
//! kinds of file, each whole (a temporary file and a rename): it takes no lock and may run
//! while the comparison is still training, to see the results so far.

use std::path::PathBuf;

use clap::Args;

use crate::compare_cmd;
use crate::console;
use crate::plural::plural;

/// Flags of `trainer report`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    trainer compare configs/exponential.toml --seeds 0,1 --epochs 1 --out runs/compare-small\n  \
    trainer report runs/compare-small\n      \
    the summary, charts and report of the runs finished so far (also while the comparison runs)\n\n\
    Exit status: 0 every run finished; 3 some run failed; 4 none failed but some have not\n\
    finished (not started, under way or interrupted); 1 DIR is not a comparison folder or a\n\
    file cannot be read or written. The missing and failed runs are named on the terminal and\n\
    in report.html.")]
pub struct ReportArgs {
    /// The comparison folder (the --out DIR of `trainer compare`, holding sweep.toml).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Runs `trainer report`.
pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let results = compare_cmd::rebuild(&args.dir)?;
    console::println(format_args!(
        "{} of {} finished, {} failed, {} missing; wrote {}: summary.csv, {}report.html",
        results.finished,
        plural(results.total as u64, "run"),
        results.failed.len(),
        results.missing.len(),
        args.dir.display(),
        results
            .charts
            .iter()
            .map(|f| format!("{f}, "))
            .collect::<String>()
    ));
    results.status()
}
