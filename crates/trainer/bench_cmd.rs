//! `trainer bench gemm|train` (placeholder).

use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// GEMM throughput against matrixmultiply on the MLP's shapes.
    Gemm,
}

pub fn run(_cmd: BenchCommand) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
