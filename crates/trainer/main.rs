//! `trainer`: train a small MLP on Fashion-MNIST and study learning-rate schedules.
//!
//! Each subcommand lives in its own file; this one only parses the command line and reports
//! errors. `trainer` with no subcommand means `trainer train`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench_cmd;
mod bench_train;
mod checkpoint;
mod compare_cmd;
mod config;
mod console;
mod data_cmd;
mod data_dir;
mod eval_cmd;
mod horizon;
mod input_file;
mod limits;
mod lr_find;
mod lr_find_cmd;
mod optimizer_flag;
mod outputs;
mod plot;
mod plural;
mod report_cmd;
mod resume;
mod run_folder;
mod schedule_cmd;
mod scheduler_flag;
mod tensorboard;
mod train_cmd;
mod training;

#[derive(Parser)]
#[command(
    name = "trainer",
    version,
    about = "Train a 784-100-10 MLP on Fashion-MNIST and study learning-rate schedules",
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  trainer                      train the default job (StepLR, 5 epochs)\n  trainer train --scheduler plateau\n  trainer data verify\n  trainer schedule --config configs/cosine.toml --steps 1175 --plot cosine.svg\n  trainer compare configs/tutorial-steplr.toml configs/cosine.toml --seeds 0,1\n  trainer lr-find --config configs/one-cycle.toml"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand, these are the flags of `trainer train`.
    #[command(flatten)]
    train: train_cmd::TrainArgs,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Train the MLP (the default when no subcommand is given).
    Train(train_cmd::TrainArgs),
    /// Test loss, accuracy and confusion matrix of saved weights.
    Eval(eval_cmd::EvalArgs),
    /// Inspect, verify and fetch the IDX data files.
    #[command(subcommand)]
    Data(data_cmd::DataCommand),
    /// Print (and optionally plot) the lr and momentum a scheduler config produces, without training.
    Schedule(schedule_cmd::ScheduleArgs),
    /// Train every combination of configs, grid values and seeds; write a table, plots and a report.
    Compare(compare_cmd::CompareArgs),
    /// Rebuild summary.csv, the charts and report.html of a `compare --out DIR` from its finished runs.
    Report(report_cmd::ReportArgs),
    /// The learning-rate range test: train briefly at a growing lr and suggest one.
    LrFind(lr_find_cmd::LrFindArgs),
    /// Measure the GEMM and the training step.
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // AUTOGRAD_LITE_KERNEL is checked before any work: a kernel that does not exist, or that
    // this CPU cannot run, stops here with the ones it can run rather than panicking mid-run.
    if let Err(err) = autograd_lite::gemm::Kernel::from_env() {
        console::eprintln(format_args!("error: {err}"));
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        None => train_cmd::run(cli.train),
        Some(Command::Train(args)) => train_cmd::run(args),
        Some(Command::Eval(args)) => eval_cmd::run(args),
        Some(Command::Data(cmd)) => data_cmd::run(cmd),
        Some(Command::Schedule(args)) => schedule_cmd::run(args),
        Some(Command::Compare(args)) => compare_cmd::run(args),
        Some(Command::Report(args)) => report_cmd::run(args),
        Some(Command::LrFind(args)) => lr_find_cmd::run(args),
        Some(Command::Bench(cmd)) => bench_cmd::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.is::<training::Interrupted>() || err.is::<compare_cmd::Interrupted>() => {
            console::eprintln(format_args!("{err}"));
            ExitCode::from(130)
        }
        Err(err) if err.is::<compare_cmd::RunsFailed>() => {
            console::eprintln(format_args!("error: {err}"));
            ExitCode::from(compare_cmd::RunsFailed::EXIT_CODE)
        }
        Err(err) if err.is::<compare_cmd::RunsMissing>() => {
            console::eprintln(format_args!("error: {err}"));
            ExitCode::from(compare_cmd::RunsMissing::EXIT_CODE)
        }
        Err(err) => {
            console::eprintln(format_args!("error: {err:#}"));
            ExitCode::FAILURE
        }
    }
}
