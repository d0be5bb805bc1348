//! `trainer schedule`: print (and optionally plot) the lr and momentum that a run config's
//! `[optimizer]` and `[scheduler]` tables produce, without training.
//!
//! It builds SGD on a one-element dummy parameter and the scheduler exactly as the trainer does,
//! then performs N times: one optimizer step, then one scheduler step (`ReduceLROnPlateau` gets
//! the i-th `--metrics` value). Output: CSV `step,lr,momentum` on stdout, row 0 right after
//! construction, lr and momentum of parameter group 0 in shortest round-trip form.

use crate::console;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use optim::{OptimizerConfig, Scheduler, SchedulerConfig};

use crate::horizon;
use crate::plot::{self, Panel, Series};

/// The trainer's own `[scheduler]` keys, which are not scheduler arguments.
const TRAINER_KEYS: [&str; 2] = ["interval", "monitor"];

/// Flags of `trainer schedule`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    trainer schedule --config examples/schedules/warmup_exponential.toml --steps 10\n  \
    trainer schedule --config examples/schedules/warmup_exponential.toml --steps 10 --plot lr.svg\n  \
    trainer schedule --config examples/schedules/plateau.toml --steps 8 --metrics 88,88,88,89,89,89,89,90\n\n\
    The config is a run config (other tables and keys are ignored), for example:\n  \
    [optimizer]\n  name = \"SGD\"\n  lr = 0.1\n  momentum = 0.9\n  nesterov = true\n\n  \
    [scheduler]\n  name = \"StepLR\"\n  step_size = 4\n  gamma = 0.96")]
pub struct ScheduleArgs {
    /// Run config (TOML) with an optimizer table and a scheduler table, keys spelled as in PyTorch.
    #[arg(long, value_name = "FILE.toml")]
    pub config: PathBuf,
    /// Number of (optimizer step, scheduler step) pairs to perform.
    #[arg(long, value_name = "N")]
    pub steps: usize,
    /// ReduceLROnPlateau only: the metric for each scheduler step, comma-separated (at least N).
    #[arg(
        long,
        value_name = "v1,v2,...",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    pub metrics: Option<Vec<f64>>,
    /// Draw the lr (and the momentum, when it varies) as an SVG chart here instead of printing
    /// the CSV; prints `wrote OUT.svg`.
    #[arg(long, value_name = "OUT.svg")]
    pub plot: Option<PathBuf>,
    /// With --plot, print the CSV on stdout as well (the `wrote` line then goes to stderr).
    #[arg(long, requires = "plot")]
    pub csv: bool,
}

/// One CSV row.
struct Row {
    step: usize,
    lr: f64,
    momentum: f64,
}

/// Run `trainer schedule`.
pub fn run(args: ScheduleArgs) -> anyhow::Result<()> {
    crate::limits::check_schedule_steps(args.steps as u64)?;
    let (optimizer, scheduler) = read_config(&args.config, args.steps)?;
    if let Some(config) = &scheduler {
        let length = horizon::RunLength::of_steps(args.steps as u64);
        let warnings = horizon::check(config, &length)
            .with_context(|| format!("in [scheduler] of {}", args.config.display()))?;
        for warning in warnings {
            console::eprintln(format_args!("warning: {warning}"));
        }
    }
    let mut opt = optimizer
        .build(&[1])
        .with_context(|| format!("in [optimizer] of {}", args.config.display()))?;
    let mut sched = match &scheduler {
        Some(config) => Some(
            Scheduler::new(config, opt.param_groups_mut())
                .with_context(|| format!("in [scheduler] of {}", args.config.display()))?,
        ),
        None => None,
    };
    let needs_metric = sched.as_ref().is_some_and(Scheduler::needs_metric);
    let metrics = check_metrics(args.metrics.as_deref(), needs_metric, args.steps)?;

    let mut rows = vec![Row {
        step: 0,
        lr: opt.lr(0),
        momentum: opt.momentum(0),
    }];
    let mut param = [0.0f32];
    for step in 1..=args.steps {
        opt.step(&mut [&mut param], &[&[0.0]])?;
        if let Some(sched) = sched.as_mut() {
            match metrics {
                Some(metrics) => {
                    let event = sched
                        .step_with_metric(opt.param_groups_mut(), metrics[step - 1])
                        .with_context(|| format!("at step {step}"))?;
                    if event.reduced() {
                        console::eprintln(format_args!(
                            "step {step}: {}",
                            event.describe("metric")
                        ));
                    }
                }
                None => sched
                    .step(opt.param_groups_mut())
                    .with_context(|| format!("at step {step}"))?,
            }
        }
        rows.push(Row {
            step,
            lr: opt.lr(0),
            momentum: opt.momentum(0),
        });
    }
    if let Some(sched) = &sched {
        for warning in sched.warnings() {
            console::eprintln(format_args!("warning: {}", warning.message));
        }
    }

    let mut csv = String::from("step,lr,momentum\n");
    for row in &rows {
        // `{}` on f64 is the shortest representation that reads back to the same value.
        let _ = writeln!(csv, "{},{},{}", row.step, row.lr, row.momentum);
    }
    // stdout holds one thing: the CSV, or with --plot the `wrote` line (the CSV too with --csv,
    // and then the `wrote` line moves to stderr so that stdout stays a CSV).
    match &args.plot {
        None => console::print(format_args!("{csv}")),
        Some(path) => {
            let name = scheduler
                .as_ref()
                .map_or("constant lr", SchedulerConfig::name);
            draw(path, name, &rows)?;
            if args.csv {
                console::print(format_args!("{csv}"));
                console::eprintln(format_args!("wrote {}", path.display()));
            } else {
                console::println(format_args!("wrote {}", path.display()));
            }
        }
    }
    Ok(())
}

/// The `[optimizer]` and `[scheduler]` tables of a run config (`None`: no scheduler, or
/// `name = "none"`); the trainer's own scheduler keys are removed first, and `"auto"` horizons
/// become `steps`, the number of scheduler steps drawn.
fn read_config(
    path: &Path,
    steps: usize,
) -> anyhow::Result<(OptimizerConfig, Option<SchedulerConfig>)> {
    let text =
        crate::input_file::read_text(path, "the config file", crate::input_file::CONFIG_MAX_BYTES)?;
    let mut table: toml::Table = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not valid TOML {}: {}",
            path.display(),
            crate::config::location(&text, e.span()),
            e.message().trim()
        )
    })?;
    // The two tables' names and types, reported with their line.
    crate::config::check_tables(&text).with_context(|| format!("in {}", path.display()))?;
    let Some(optimizer) = table.remove("optimizer") else {
        bail!("{} has no [optimizer] table; add one, e.g. [optimizer] name = \"SGD\", lr = 0.1, momentum = 0.9", path.display());
    };
    let optimizer: OptimizerConfig = optimizer.try_into().map_err(|e: toml::de::Error| {
        anyhow::anyhow!(
            "in [optimizer] of {}: {}",
            path.display(),
            e.message().trim()
        )
    })?;
    let scheduler = match table.remove("scheduler") {
        None => None,
        Some(toml::Value::Table(mut t)) => {
            for key in TRAINER_KEYS {
                t.remove(key);
            }
            if t.get("name").and_then(toml::Value::as_str) == Some("none") {
                None
            } else {
                horizon::resolve_auto(&mut t, steps as u64, "scheduler")
                    .with_context(|| format!("in [scheduler] of {}", path.display()))?;
                let config: SchedulerConfig =
                    toml::Value::Table(t)
                        .try_into()
                        .map_err(|e: toml::de::Error| {
                            anyhow::anyhow!(
                                "in [scheduler] of {}: {}",
                                path.display(),
                                e.message().trim()
                            )
                        })?;
                Some(config)
            }
        }
        Some(other) => bail!(
            "in {}: `scheduler` must be a table ([scheduler]), not {}",
            path.display(),
            other.type_str()
        ),
    };
    Ok((optimizer, scheduler))
}

/// `--metrics` must be given exactly when the scheduler needs it, with at least one per step.
fn check_metrics(
    metrics: Option<&[f64]>,
    needs_metric: bool,
    steps: usize,
) -> anyhow::Result<Option<&[f64]>> {
    match (metrics, needs_metric) {
        (None, true) if steps > 0 => bail!(
            "ReduceLROnPlateau needs the monitored metric at every step: pass --metrics with {steps} comma-separated values"
        ),
        (Some(m), true) if m.len() < steps => bail!(
            "--metrics has {} but --steps is {steps}: ReduceLROnPlateau needs one metric per step",
            crate::plural::plural(m.len() as u64, "value")
        ),
        (Some(_), false) => bail!("--metrics is only for ReduceLROnPlateau; this scheduler takes no metric, remove --metrics"),
        (m, _) => Ok(m),
    }
}

/// The lr curve, and a second panel with the momentum when it changes.
fn draw(path: &Path, name: &str, rows: &[Row]) -> anyhow::Result<()> {
    let title = format!("{name}: lr per scheduler step");
    let lr = Series {
        name: "lr".into(),
        points: rows.iter().map(|r| (r.step as f64, r.lr)).collect(),
    };
    if rows.iter().all(|r| r.momentum == rows[0].momentum) {
        return plot::line_chart(path, &title, "scheduler step", "learning rate", &[lr]);
    }
    let momentum = Series {
        name: "momentum".into(),
        points: rows.iter().map(|r| (r.step as f64, r.momentum)).collect(),
    };
    let panels = [
        Panel {
            y_label: "learning rate".into(),
            series: vec![lr],
        },
        Panel {
            y_label: "momentum".into(),
            series: vec![momentum],
        },
    ];
    plot::stacked_charts(path, &title, "scheduler step", &panels)
}
