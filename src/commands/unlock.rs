//! `cairn unlock`.

use crate::cli::RepoArgs;
use crate::repo_access::RepoAccess;
use anyhow::{Context, Result};

/// Removes the repository lock, naming its former holder.
pub async fn run(args: RepoArgs) -> Result<()> {
    let access = RepoAccess::from_args(&args)?;
    let removed = cairn_storage::lock::unlock(access.store.as_ref(), &access.label)
        .await
        .with_context(|| format!("cannot remove the lock of repository {}", access.label))?;
    match removed {
        Some(info) => println!(
            "removed lock of {} held by {} pid {} for {} since {}",
            access.label, info.hostname, info.pid, info.purpose, info.created
        ),
        None => println!("repository {} was not locked", access.label),
    }
    Ok(())
}
