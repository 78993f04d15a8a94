//! `cairn restore`: stream a snapshot back into a database.

use super::backup::default_parallel;
use super::{db_target, print_json};
use crate::cli::RestoreArgs;
use crate::progress::{Counters, Reporter};
use crate::repo_access::{blocking, RepoAccess};
use anyhow::{bail, Context, Result};
use cairn_db::restore::{restore_native, RestoreOptions, SnapshotSource};
use cairn_job::source::RepoSnapshotSource;
use std::sync::Arc;
use std::time::Instant;

/// The file KubeStash's SingleStore addon (and `restic backup --stdin --stdin-filename dumpfile.sql`) writes.
const SQL_DUMP_PATH: &str = "/dumpfile.sql";

/// Runs one restore and reports it.
pub async fn run(args: RestoreArgs) -> Result<()> {
    let started = Instant::now();
    let target = db_target::resolve(&args.db)?;
    let db_name = db_target::describe(&target);
    let access = RepoAccess::from_args(&args.repo)?;
    let repo = access.open().await?;
    let wanted = args.snapshot.clone();
    let snapshot = {
        let repo = repo.clone();
        blocking(move || Ok(repo.find_snapshot(&wanted)?)).await?
    };
    let source = {
        let (repo, snapshot) = (repo.clone(), snapshot.clone());
        Arc::new(blocking(move || Ok(RepoSnapshotSource::new(repo, snapshot)?)).await?)
    };
    let options = RestoreOptions {
        databases: args.databases.clone(),
        tables: args.tables.clone(),
        rename: parse_renames(&args.rename_database)?,
        parallel: args.parallel.unwrap_or_else(default_parallel),
        drop_existing: args.drop_existing,
        verify: !args.no_verify,
    };
    let progress = cairn_db::restore::RestoreProgress::shared();
    let reporter = {
        let progress = progress.clone();
        Reporter::start("restore", args.json, move || {
            let p = progress.snapshot();
            Counters {
                rows: p.rows,
                bytes: p.bytes,
                done: p.chunks_done,
                total: p.chunks_total,
            }
        })
    };
    let what = format!(
        "restore of snapshot {} from {} into {db_name}",
        snapshot.short_id, access.label
    );
    let report = if source.exists(cairn_db::manifest::MANIFEST_PATH) {
        restore_native(&target, source.clone(), &options, progress.clone()).await
    } else if source.exists(SQL_DUMP_PATH) {
        let opener = source.clone();
        let reader = blocking(move || Ok(opener.open(SQL_DUMP_PATH)?))
            .await
            .with_context(|| what.clone())?;
        cairn_db::sql_restore::restore_sql(&target, reader, &options, progress.clone()).await
    } else {
        bail!(
            "snapshot {} in {} holds neither a Cairn manifest ({}) nor a {} file: it was not written by Cairn or KubeStash's database addons",
            snapshot.short_id,
            access.label,
            cairn_db::manifest::MANIFEST_PATH,
            SQL_DUMP_PATH
        );
    };
    drop(reporter);
    let report = report.with_context(|| format!("{what} failed"))?;
    let duration = started.elapsed().as_secs_f64();
    if args.json {
        print_json(&serde_json::json!({
            "snapshot_id": snapshot.id,
            "databases": report.databases,
            "tables": report.tables,
            "rows": report.rows,
            "bytes": report.bytes,
            "verified": report.verified,
            "mismatches": report.mismatches,
            "duration_s": duration,
        }));
    } else {
        println!(
            "restored snapshot {}: {} databases, {} tables, {} rows in {:.1} s; verification: {}",
            snapshot.short_id,
            report.databases,
            report.tables,
            report.rows,
            duration,
            match report.verified {
                Some(true) => "row counts and checksums match".to_string(),
                Some(false) => format!("MISMATCH: {}", report.mismatches.join("; ")),
                None => "skipped".to_string(),
            }
        );
    }
    if report.verified == Some(false) {
        bail!(
            "{what}: verification failed: {}",
            report.mismatches.join("; ")
        );
    }
    Ok(())
}

/// Parses `OLD:NEW` pairs.
fn parse_renames(values: &[String]) -> Result<Vec<(String, String)>> {
    values
        .iter()
        .map(|v| match v.split_once(':') {
            Some((old, new)) if !old.is_empty() && !new.is_empty() => {
                Ok((old.to_string(), new.to_string()))
            }
            _ => {
                bail!("invalid --rename-database {v:?}: expected OLD:NEW, e.g. shop:shop_restored")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_parse_and_reject_bad_forms() {
        assert_eq!(
            parse_renames(&["a:b".into()]).unwrap(),
            vec![("a".into(), "b".into())]
        );
        assert!(parse_renames(&["ab".into()]).is_err());
        assert!(parse_renames(&[":b".into()]).is_err());
    }
}
