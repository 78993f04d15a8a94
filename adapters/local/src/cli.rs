//! Arguments and entry points of the local-mode commands (`run`, `get`, `describe`, `apply`, `delete`, `trigger`, `exec`).

use clap::Args;
use std::path::PathBuf;

/// Arguments of `cairn run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Manifest files or directories (multi-document YAML).
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,
    /// State directory.
    #[arg(long, default_value = ".cairn")]
    pub state: PathBuf,
    /// Run until every triggered session is terminal, then exit (non-zero if any failed).
    #[arg(long)]
    pub once: bool,
}

/// Runs `cairn run`.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    anyhow::bail!("cairn run is not implemented yet (state dir {})", args.state.display())
}
