//! `cairn backup`: dump databases straight into a new restic snapshot.

use super::{db_target, print_json};
use crate::cli::{BackupArgs, ConsistencyArg, Format};
use crate::progress::{Counters, Reporter};
use crate::repo_access::{blocking, RepoAccess};
use anyhow::{bail, Context, Result};
use cairn_db::consistency::ConsistencyMode;
use cairn_db::dump::{prepare_dump, Dump, DumpEntry, DumpOptions, DumpProgress, DumpReport};
use cairn_db::manifest::Consistency;
use cairn_db::sql_dump::{prepare_sql_dump, SqlDump};
use cairn_job::previous_steps::previous_key_steps;
use cairn_storage::{SnapshotMeta, SourceEntry};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// Runs one backup and reports it.
pub async fn run(args: BackupArgs) -> Result<()> {
    let started = Instant::now();
    let target = db_target::resolve(&args.db)?;
    let db_name = db_target::describe(&target);
    let access = RepoAccess::from_args(&args.repo)?;
    let repo = access.open().await?;

    let options = DumpOptions {
        databases: args.databases.clone(),
        parallel: args.parallel.unwrap_or_else(default_parallel),
        consistency: consistency_mode(&args),
        chunk_rows: args.chunk_rows,
        // Only native snapshots are chunked by key range.
        previous_steps: match args.format {
            Format::Native => previous_key_steps(repo.clone()).await,
            Format::Sql => Default::default(),
        },
        ..DumpOptions::default()
    };
    let dump = match args.format {
        Format::Native => prepare_dump(&target, &options).await.map(AnyDump::Native),
        Format::Sql => prepare_sql_dump(&target, &options).await.map(AnyDump::Sql),
    }
    .with_context(|| format!("cannot start the dump of {db_name}"))?;
    let consistency = dump.consistency();
    let progress = dump.progress();
    let entries: Vec<SourceEntry> = dump.entries().into_iter().map(to_source_entry).collect();
    if entries.is_empty() {
        bail!("nothing to back up on {db_name}: no user databases found (system databases are skipped)");
    }

    let meta = SnapshotMeta {
        hostname: args.host.clone().unwrap_or_else(hostname),
        tags: args.tag.clone(),
        ..SnapshotMeta::default()
    };
    let reporter = {
        let progress = progress.clone();
        Reporter::start("backup", args.json, move || Counters {
            rows: progress.rows.load(Ordering::Relaxed),
            bytes: progress.bytes.load(Ordering::Relaxed),
            done: progress.entries_done.load(Ordering::Relaxed) as u64,
            total: progress.entries_total as u64,
        })
    };
    let archive = {
        let repo = repo.clone();
        blocking(move || Ok(repo.backup(entries, &meta)?)).await
    };
    drop(reporter);
    // The dump's own account is the authority on completeness: rustic skips unreadable files.
    let finished = dump.finish().await;
    let summary = match (archive, finished) {
        (Ok(summary), Ok(report)) => (summary, report),
        (Ok(summary), Err(err)) => {
            let id = summary.snapshot_id.clone();
            let repo = repo.clone();
            blocking(move || Ok(repo.forget_ids(&[id], false)?))
                .await
                .ok();
            return Err(err).context(format!(
                "backup of {db_name} failed; the incomplete snapshot {} was removed from {}",
                summary.snapshot_id, access.label
            ));
        }
        (Err(err), _) => {
            return Err(err).context(format!(
                "backup of {db_name} into {} failed; no snapshot was saved",
                access.label
            ))
        }
    };
    let (summary, report) = summary;
    let duration = started.elapsed().as_secs_f64();
    if args.json {
        print_json(&serde_json::json!({
            "snapshot_id": summary.snapshot_id,
            "format": format_name(args.format),
            "consistency": consistency,
            "databases": report.databases,
            "tables": report.tables,
            "rows": report.rows,
            "files": summary.files,
            "bytes_read": summary.bytes_read,
            "bytes_added": summary.bytes_added,
            "duration_s": duration,
        }));
    } else {
        println!(
            "snapshot {} saved: {} databases, {} tables, {} rows, {:.1} MiB read, {:.1} MiB added, {:.1} s, consistency {}",
            short(&summary.snapshot_id),
            report.databases,
            report.tables,
            report.rows,
            summary.bytes_read as f64 / 1_048_576.0,
            summary.bytes_added as f64 / 1_048_576.0,
            duration,
            serde_json::to_value(consistency).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        );
    }
    Ok(())
}

/// A dump in either layout.
enum AnyDump {
    Native(Dump),
    Sql(SqlDump),
}

impl AnyDump {
    fn consistency(&self) -> Consistency {
        match self {
            Self::Native(d) => d.consistency(),
            Self::Sql(d) => d.consistency(),
        }
    }

    fn progress(&self) -> Arc<DumpProgress> {
        match self {
            Self::Native(d) => d.progress(),
            Self::Sql(d) => d.progress(),
        }
    }

    fn entries(&self) -> Vec<DumpEntry> {
        match self {
            Self::Native(d) => d.entries(),
            Self::Sql(d) => d.entries(),
        }
    }

    async fn finish(self) -> cairn_db::conn::Result<DumpReport> {
        match self {
            Self::Native(d) => d.finish().await,
            Self::Sql(d) => d.finish().await,
        }
    }
}

fn to_source_entry(entry: DumpEntry) -> SourceEntry {
    SourceEntry {
        path: entry.path,
        open: entry.open,
    }
}

fn consistency_mode(args: &BackupArgs) -> ConsistencyMode {
    if args.no_lock {
        return ConsistencyMode::NoLock;
    }
    match args.consistency {
        ConsistencyArg::Auto => ConsistencyMode::Auto,
        ConsistencyArg::Lock => ConsistencyMode::Lock,
        ConsistencyArg::NoLock => ConsistencyMode::NoLock,
    }
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Native => "native",
        Format::Sql => "sql",
    }
}

/// CPU count, the default parallelism.
pub fn default_parallel() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "cairn".to_string())
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}
