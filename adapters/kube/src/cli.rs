//! Arguments and entry point of `cairn operator`.

use clap::Args;

/// Arguments of `cairn operator`.
#[derive(Debug, Args)]
pub struct OperatorArgs {
    /// Address of the metrics and health endpoints.
    #[arg(long, default_value = "0.0.0.0:8080")]
    pub listen: String,
}

/// Runs the operator until SIGTERM.
pub async fn run(args: OperatorArgs) -> anyhow::Result<()> {
    anyhow::bail!("cairn operator is not implemented yet (would listen on {})", args.listen)
}
