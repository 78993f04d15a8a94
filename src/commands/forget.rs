//! `cairn forget`.

use super::print_json;
use crate::cli::ForgetArgs;
use crate::repo_access::{blocking, RepoAccess};
use anyhow::{bail, Result};
use cairn_storage::KeepPolicy;

/// Applies a keep policy, optionally pruning.
pub async fn run(args: ForgetArgs) -> Result<()> {
    let keep = KeepPolicy {
        last: args.keep_last,
        hourly: args.keep_hourly,
        daily: args.keep_daily,
        weekly: args.keep_weekly,
        monthly: args.keep_monthly,
        yearly: args.keep_yearly,
    };
    if keep == KeepPolicy::default() {
        bail!("refusing to forget every snapshot: give at least one --keep-* option");
    }
    let access = RepoAccess::from_args(&args.repo)?;
    let repo = access.open().await?;
    let prune = args.prune;
    let report = blocking(move || Ok(repo.forget(&keep, prune)?)).await?;
    if args.json {
        print_json(&serde_json::to_value(&report)?);
    } else {
        println!(
            "kept {} snapshots, removed {}{}",
            report.kept.len(),
            report.removed.len(),
            if prune {
                ", pruned unreferenced data"
            } else {
                ""
            }
        );
    }
    Ok(())
}
