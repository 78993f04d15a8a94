//! `cairn snapshots`.

use super::print_json;
use crate::cli::SnapshotsArgs;
use crate::repo_access::{blocking, RepoAccess};
use anyhow::Result;

/// Lists snapshots as a table or JSON.
pub async fn run(args: SnapshotsArgs) -> Result<()> {
    let access = RepoAccess::from_args(&args.repo)?;
    let repo = access.open().await?;
    let snapshots = blocking(move || Ok(repo.snapshots()?)).await?;
    if args.json {
        print_json(&serde_json::to_value(&snapshots)?);
        return Ok(());
    }
    println!(
        "{:<10} {:<25} {:<16} {:<20} paths",
        "ID", "TIME", "HOST", "TAGS"
    );
    for s in &snapshots {
        println!(
            "{:<10} {:<25} {:<16} {:<20} {}",
            s.short_id,
            s.time.format("%Y-%m-%d %H:%M:%S %z"),
            s.hostname,
            s.tags.join(","),
            s.paths.join(",")
        );
    }
    println!("{} snapshots", snapshots.len());
    Ok(())
}
