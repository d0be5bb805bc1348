//! `trainer schedule` (placeholder).

use clap::Args;

#[derive(Args)]
pub struct ScheduleArgs {}

pub fn run(_args: ScheduleArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
