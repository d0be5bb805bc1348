//! `trainer compare` (placeholder until it lands).

use std::path::PathBuf;

use clap::Args;

/// Flags of `trainer compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Run configs to compare.
    #[arg(required = true, value_name = "CONFIG.toml")]
    pub configs: Vec<PathBuf>,
}

/// Runs `trainer compare`.
pub fn run(_args: CompareArgs) -> anyhow::Result<()> {
    anyhow::bail!("trainer compare is not built yet")
}
