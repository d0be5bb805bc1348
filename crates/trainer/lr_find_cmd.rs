//! `trainer lr-find`: the learning-rate range test. From the config's model and optimizer,
//! train with an lr that grows exponentially from `--start-lr` to `--end-lr` over `--steps`
//! optimizer steps, stop early when the smoothed loss diverges, and write the losses
//! (`lr_find.csv`), a chart (`lr_find.svg`) and the suggested lr (printed). The weights are
//! thrown away; the config is not changed. The arithmetic is in `lr_find.rs`.
//!
//! The batches are those of the run's first epoch (and the next, past one epoch): the config's
//! seed, shuffling and batch size. The config's scheduler is not used: the range test sets the
//! lr of every step itself.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context};
use autograd_lite::{Mlp, TrainStep};
use clap::Args;
use fashion::DropLast;
use plotters::prelude::*;

use crate::config::RunConfig;
use crate::console;
use crate::lr_find::{lr_at, RangeTest, Stop, BETA, DIVERGENCE_FACTOR};
use crate::optimizer_flag::OptimizerFlags;
use crate::outputs::write_atomic;
use crate::plot::plot_error;
use crate::plural::plural;
use crate::training::{self, CLASSES, INPUTS};

/// The most steps a range test may take (a thousand times the usual 100).
const MAX_STEPS: u64 = 100_000;

/// Flags of `trainer lr-find`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    trainer lr-find\n  \
    trainer lr-find --config configs/one-cycle.toml --start-lr 1e-5 --end-lr 1 --steps 200 --out runs/lr-find-one-cycle\n  \
    trainer lr-find --optimizer adamw --start-lr 1e-6 --end-lr 1 --out runs/lr-find-adamw\n\n\
    Then use the suggested lr as max_lr of OneCycleLR, or a tenth of it as a base lr.")]
pub struct LrFindArgs {
    /// Run config (TOML) whose model, data and optimizer to use [default: the default job's].
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// The lr of the first step.
    #[arg(long, value_name = "LR", default_value_t = 1e-7)]
    pub start_lr: f64,
    /// The lr of the last step.
    #[arg(long, value_name = "LR", default_value_t = 10.0)]
    pub end_lr: f64,
    /// Optimizer steps (the test stops earlier if the loss diverges).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub steps: u64,
    /// Folder for lr_find.csv and lr_find.svg.
    #[arg(long, value_name = "DIR", default_value = "runs/lr-find")]
    pub out: PathBuf,
    /// Replace an earlier lr_find.csv and lr_find.svg in DIR.
    #[arg(long)]
    pub overwrite: bool,
    /// Folder with the Fashion-MNIST files [default: searched].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub optimizer_flags: OptimizerFlags,
}

/// Run `trainer lr-find`.
pub fn run(args: LrFindArgs) -> anyhow::Result<()> {
    check_args(&args)?;
    let mut config = match &args.config {
        Some(path) => RunConfig::load(path)?,
        None => RunConfig::default(),
    };
    args.optimizer_flags
        .apply(&mut config.optimizer, &[], |_| {})?;
    config.validate()?;
    let outputs = [args.out.join("lr_find.csv"), args.out.join("lr_find.svg")];
    if !args.overwrite {
        if let Some(old) = outputs.iter().find(|p| p.exists()) {
            bail!(
                "{} already exists; pass --overwrite to replace it, or another --out",
                old.display()
            );
        }
    }
    let data = training::load_data(args.data_dir.as_deref())?;
    let test = rayon::scope(|_| range_test(&args, &config, &data))?;

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the folder {}", args.out.display()))?;
    let suggestion = test.suggestion();
    write_atomic(&outputs[0], csv(&test).as_bytes())?;
    let svg = chart(&test, suggestion.map(|p| p.lr))?;
    write_atomic(&outputs[1], svg.as_bytes())?;

    let points = test.points();
    console::println(format_args!(
        "{} from lr {} to {}; wrote {} and {}",
        plural(points.len() as u64, "step"),
        short(args.start_lr),
        short(points.last().map_or(args.start_lr, |p| p.lr)),
        outputs[0].display(),
        outputs[1].display()
    ));
    match suggestion {
        Some(p) => console::println(format_args!(
            "suggested lr: {} (steepest fall of the smoothed loss, step {}); use it as max_lr of \
             OneCycleLR, or a tenth of it ({}) as a base lr",
            short(p.lr),
            p.step,
            short(p.lr / 10.0)
        )),
        None => console::println(format_args!(
            "no suggestion: the test stopped after {}, too few to find the steepest fall \
             (it needs at least 12); start from a lower --start-lr or take more --steps",
            plural(points.len() as u64, "step")
        )),
    }
    Ok(())
}

fn check_args(args: &LrFindArgs) -> anyhow::Result<()> {
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !positive(args.start_lr) || !positive(args.end_lr) {
        bail!(
            "--start-lr and --end-lr must be finite numbers > 0 (got {} and {})",
            args.start_lr,
            args.end_lr
        );
    }
    if args.end_lr <= args.start_lr {
        bail!(
            "--end-lr ({}) must be larger than --start-lr ({}): the lr grows during the test",
            args.end_lr,
            args.start_lr
        );
    }
    if !(2..=MAX_STEPS).contains(&args.steps) {
        bail!(
            "--steps must be between 2 and {MAX_STEPS} (got {})",
            args.steps
        );
    }
    Ok(())
}

/// Trains step by step at the growing lr until the last step or divergence.
fn range_test(
    args: &LrFindArgs,
    config: &RunConfig,
    data: &training::Data,
) -> anyhow::Result<RangeTest> {
    let mut mlp = Mlp::new(INPUTS, config.model.hidden as usize, CLASSES, config.seed);
    // The scheduler is not built: the range test sets every step's lr itself.
    let mut optimizer = training::new_optimizer(config, &mlp)?;

    let batch_size = config.data.batch_size as usize;
    let n = data.train.len();
    let mut step_ws = TrainStep::new(&mlp, batch_size);
    let (mut order, mut images, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    let mut test = RangeTest::new();
    let mut i = 0;
    'epochs: for epoch in 0.. {
        if config.data.shuffle {
            fashion::shuffled_order_into(n, config.seed, epoch, &mut order);
        } else {
            order.clear();
            order.extend(0..n);
        }
        for batch in fashion::batches(&order, batch_size, DropLast::Keep) {
            if i == args.steps {
                break 'epochs;
            }
            let lr = lr_at(args.start_lr, args.end_lr, args.steps, i);
            optimizer.param_groups_mut().set_lr(0, lr)?;
            data.train.gather(batch, &mut images, &mut labels);
            let out = step_ws.forward_backward(&mlp, &images, &labels);
            if let Some(stop) = test.record(lr, f64::from(out.loss)) {
                let why = match stop {
                    Stop::Diverged => format!(
                        "the smoothed loss passed {DIVERGENCE_FACTOR} times its lowest value"
                    ),
                    Stop::NotFinite => "the loss is not a finite number".to_string(),
                };
                console::println(format_args!(
                    "stopped at step {} (lr {}): {why}",
                    i + 1,
                    short(lr)
                ));
                break 'epochs;
            }
            let (report, _) = step_ws.update(&mut mlp, |p, g| optimizer.step(p, g), || {});
            report.context("the optimizer step failed")?;
            i += 1;
        }
    }
    Ok(test)
}

/// `lr_find.csv`: `step,lr,loss,smoothed_loss`, shortest round-trip numbers.
fn csv(test: &RangeTest) -> String {
    let mut text = String::from("step,lr,loss,smoothed_loss\n");
    for p in test.points() {
        let _ = writeln!(text, "{},{},{},{}", p.step, p.lr, p.loss, p.smoothed);
    }
    text
}

/// An lr with four significant digits: plain decimals from 0.001 to 1000, else `1.234e-5`.
fn short(lr: f64) -> String {
    if !(1e-3..1e3).contains(&lr) {
        return format!("{lr:.3e}");
    }
    let decimals = (3 - libm::floor(libm::log10(lr)) as i32).max(0) as usize;
    let text = format!("{lr:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

/// Loss and smoothed loss against the lr on a log axis, the suggestion marked.
fn chart(test: &RangeTest, suggestion: Option<f64>) -> anyhow::Result<String> {
    let points = test.points();
    let finite: Vec<_> = points
        .iter()
        .filter(|p| p.loss.is_finite() && p.smoothed.is_finite())
        .collect();
    let (Some(first), Some(last)) = (finite.first(), finite.last()) else {
        bail!("no finite loss was recorded, so there is nothing to draw");
    };
    let (x_lo, x_hi) = (first.lr, last.lr.max(first.lr * 1.01));
    // The y axis fits the smoothed curve up to the point before the test stopped (the last
    // point is the divergence itself and would flatten the rest), with the raw losses' spikes
    // clipped at its top, so that one exploding batch does not hide the fall that matters.
    let settled = &finite[..finite.len().saturating_sub(1).max(1)];
    let top = settled.iter().map(|p| p.smoothed).fold(0.0, f64::max);
    let bottom = finite
        .iter()
        .map(|p| p.loss.min(p.smoothed))
        .fold(f64::INFINITY, f64::min);
    let y_hi = top + 0.25 * (top - bottom).max(0.1 * top.abs()).max(1e-6);
    let y_lo = (bottom - 0.05 * (y_hi - bottom)).min(bottom);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("learning-rate range test", ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d((x_lo..x_hi).log_scale(), y_lo..y_hi)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("lr (log scale)")
            .y_desc("training loss")
            .x_label_formatter(&|v| format!("{v:.0e}"))
            .draw()
            .map_err(plot_error)?;
        let raw = RGBColor(160, 160, 160);
        let smooth = RGBColor(0, 114, 178);
        let clip = |v: f64| v.clamp(y_lo, y_hi);
        chart
            .draw_series(LineSeries::new(
                finite.iter().map(|p| (p.lr, clip(p.loss))),
                &raw,
            ))
            .map_err(plot_error)?
            .label("batch loss")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], raw));
        chart
            .draw_series(LineSeries::new(
                finite.iter().map(|p| (p.lr, clip(p.smoothed))),
                smooth.stroke_width(2),
            ))
            .map_err(plot_error)?
            .label(format!("smoothed (EMA, beta {BETA})"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], smooth));
        if let Some(lr) = suggestion {
            let mark = RGBColor(213, 94, 0);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(lr, y_lo), (lr, y_hi)],
                    mark.stroke_width(2),
                )))
                .map_err(plot_error)?
                .label(format!("suggested lr {}", short(lr)))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], mark));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lrs_print_with_four_significant_digits() {
        assert_eq!(short(0.09545), "0.09545");
        assert_eq!(short(0.1), "0.1");
        assert_eq!(short(1.8738174228603828), "1.874");
        assert_eq!(short(250.0), "250");
        assert_eq!(short(1e-7), "1.000e-7");
        assert_eq!(short(0.0012045), "0.001205");
    }
}
