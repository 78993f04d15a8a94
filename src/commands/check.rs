//! `cairn check`.

use super::print_json;
use crate::cli::CheckArgs;
use crate::repo_access::{blocking, RepoAccess};
use anyhow::{bail, Result};

/// Checks the repository; exits non-zero when it finds errors.
pub async fn run(args: CheckArgs) -> Result<()> {
    let access = RepoAccess::from_args(&args.repo)?;
    let repo = access.open().await?;
    let read_data = args.read_data;
    let report = blocking(move || Ok(repo.check(read_data)?)).await?;
    if args.json {
        print_json(&serde_json::to_value(&report)?);
    }
    if !report.errors.is_empty() {
        bail!(
            "repository {} has {} errors: {}",
            access.label,
            report.errors.len(),
            report.errors.join("; ")
        );
    }
    if !args.json {
        println!(
            "no errors were found in {}{}",
            access.label,
            if read_data { " (all data read)" } else { "" }
        );
    }
    Ok(())
}
