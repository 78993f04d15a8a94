//! `cairn unlock`.

use crate::cli::RepoArgs;
use crate::repo_access::RepoAccess;
use anyhow::{Context, Result};

/// Removes the repository lock, naming its former holder.
pub async fn run(args: RepoArgs) -> Result<()> {
    let access = RepoAccess::from_args(&args)?;
    let removed = cairn_storage::lock::unlock(access.store.as_ref())
        .await
        .with_context(|| format!("cannot remove the lock of repository {}", access.label))?;
    match removed {
        Some(holder) => println!("removed lock of {} held by {holder}", access.label),
        None => println!("repository {} was not locked", access.label),
    }
    Ok(())
}
