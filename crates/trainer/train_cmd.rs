//! `trainer train`: placeholder until the training loop lands; prints a data summary.

use clap::Args;

#[derive(Args, Default)]
pub struct TrainArgs {}

pub fn run(_args: TrainArgs) -> anyhow::Result<()> {
    println!("training is not built yet; see `trainer data verify`");
    Ok(())
}
