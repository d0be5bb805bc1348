//! `trainer data inspect|verify|fetch` (placeholder).

use clap::Subcommand;

#[derive(Subcommand)]
pub enum DataCommand {
    /// Print an IDX file's header and a summary of its contents.
    Inspect { file: std::path::PathBuf },
}

pub fn run(_cmd: DataCommand) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
