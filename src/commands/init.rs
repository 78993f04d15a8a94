//! `cairn init`.

use crate::cli::RepoArgs;
use crate::repo_access::RepoAccess;
use anyhow::Result;

/// Creates the repository and says where.
pub async fn run(args: RepoArgs) -> Result<()> {
    let access = RepoAccess::from_args(&args)?;
    access.init().await?;
    println!("created restic repository at {}", access.label);
    Ok(())
}
