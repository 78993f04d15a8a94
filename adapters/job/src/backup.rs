//! `run_backup`: dump the target database into each snapshot's component repository
//! (`<root>/<repository path>/repository/v1/<session>/dump`), initialising it if absent.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use cairn_core::api::component::COMPONENT_DUMP;
use cairn_core::api::component_stats::{ResticStats, ResticSummary};
use cairn_core::api::{Component, Driver};
use cairn_core::job::{BackupResult, JobResult, JobSpec};
use cairn_core::plan::format_bytes;
use cairn_db::consistency::ConsistencyMode;
use cairn_db::dump::{prepare_dump, DumpEntry, DumpOptions};
use cairn_db::sql_dump::{prepare_sql_dump, SQL_DUMP_PATH};
use cairn_storage::{BackupSummary, SnapshotMeta, SourceEntry};

use crate::error::db_error;
use crate::error::{JobError, Result};
use crate::inputs::{JobInputs, RepoTarget};
use crate::params::{DumpFormat, TaskParams};
use crate::report::{go_duration, phase, JobReport};
use crate::repository::{blocking, open_repo};

/// What one component backup produced.
struct Saved {
    summary: BackupSummary,
    repo_bytes: u64,
    integrity: bool,
    host_path: String,
}

/// Runs the backup job `spec` with resolved `inputs`; never panics, never returns a
/// secret: every failure is a failed component with a message.
pub async fn run_backup(spec: &JobSpec, inputs: &JobInputs) -> JobReport {
    let mut results = BackupResult::new();
    let mut first_error = None;
    for target in &inputs.targets {
        let mut components = BTreeMap::new();
        for (component, path) in &target.components {
            let (start, clock) = (Utc::now(), Instant::now());
            let outcome = backup_component(inputs, target, component, path).await;
            let duration = go_duration(clock.elapsed());
            let c = match outcome {
                Ok(saved) => success(path, duration, saved, start),
                Err(err) => {
                    let message = format!(
                        "backup of {} into Snapshot {}/{} failed: {err}",
                        inputs.app, spec.key.namespace, target.snapshot
                    );
                    warn!(job = %spec.key.session, snapshot = %target.snapshot, category = err.category(), "{message}");
                    first_error.get_or_insert_with(|| message.clone());
                    failure(path, duration, message)
                }
            };
            components.insert(component.clone(), c);
        }
        results.insert(target.snapshot.clone(), components);
    }
    JobReport {
        result: JobResult::Backup(results),
        error: first_error,
    }
}

fn success(path: &str, duration: String, saved: Saved, start: DateTime<Utc>) -> Component {
    let s = &saved.summary;
    Component {
        path: path.to_owned(),
        phase: Some(phase(true)),
        size: format_bytes(saved.repo_bytes),
        duration,
        integrity: Some(saved.integrity),
        driver: Some(Driver::Restic),
        restic_stats: vec![ResticStats {
            summary: Some(ResticSummary {
                id: s.snapshot_id.clone(),
                uploaded: format_bytes(s.bytes_added),
                host_path: saved.host_path,
                size: format_bytes(s.bytes_read),
                start_time: Some(start),
                end_time: Some(Utc::now().max(start)),
            }),
            progress: None,
        }],
        ..Component::default()
    }
}

fn failure(path: &str, duration: String, message: String) -> Component {
    Component {
        path: path.to_owned(),
        phase: Some(phase(false)),
        duration,
        error: message,
        driver: Some(Driver::Restic),
        ..Component::default()
    }
}

/// Backs up one component into its restic repository.
async fn backup_component(
    inputs: &JobInputs,
    target: &RepoTarget,
    component: &str,
    path: &str,
) -> Result<Saved> {
    if component != COMPONENT_DUMP {
        return Err(JobError::Unsupported(format!(
            "component {component:?} is not supported by Cairn's executor (only {COMPONENT_DUMP:?}, task logical-backup): remove the task from the addon"
        )));
    }
    let params = inputs.params.get(component).cloned().unwrap_or_default();
    for ignored in &params.ignored {
        warn!(snapshot = %target.snapshot, option = %ignored, "dump option not understood; ignored");
    }
    let rel = join(&target.repository_path, path);
    let repo = open_repo(target.storage.clone(), &rel, target.password.clone(), true).await?;
    let mut options = dump_options(&params);
    let what = format!(
        "dump of {} ({}:{})",
        inputs.app, inputs.db.host, inputs.db.port
    );
    let (entries, host_path, finish) = match params.format {
        DumpFormat::Native => {
            // Only native snapshots are chunked by key range.
            options.previous_steps = crate::previous_steps::previous_key_steps(repo.clone()).await;
            let dump = prepare_dump(&inputs.db, &options)
                .await
                .map_err(|e| db_error(&what, &inputs.app, e))?;
            let entries = dump.entries();
            let finish: Finish = Box::pin(async move { dump.finish().await.map(|_| ()) });
            (entries, "/".to_owned(), finish)
        }
        DumpFormat::Sql => {
            let dump = prepare_sql_dump(&inputs.db, &options)
                .await
                .map_err(|e| db_error(&what, &inputs.app, e))?;
            let entries = dump.entries();
            let finish: Finish = Box::pin(async move { dump.finish().await.map(|_| ()) });
            (
                entries,
                SQL_DUMP_PATH.trim_start_matches('/').to_owned(),
                finish,
            )
        }
    };
    if entries.is_empty() {
        return Err(JobError::Unsupported(format!(
            "nothing to back up on {}: no user databases found (system databases are skipped)",
            inputs.app
        )));
    }
    let meta = SnapshotMeta {
        hostname: inputs.hostname.clone(),
        tags: vec![target.snapshot.clone()],
        ..SnapshotMeta::default()
    };
    let source: Vec<SourceEntry> = entries.into_iter().map(to_source_entry).collect();
    let archive = {
        let repo = repo.clone();
        blocking(move || repo.backup(source, &meta)).await
    };
    // The dump's own account decides completeness: rustic skips unreadable files.
    let finished = finish.await;
    let summary = match (archive, finished) {
        (Ok(summary), Ok(())) => summary,
        (Ok(summary), Err(err)) => {
            let id = summary.snapshot_id.clone();
            let r = repo.clone();
            if let Err(e) = blocking(move || r.forget_ids(&[id], false)).await {
                warn!(repo = %repo.label(), error = %e, "cannot remove the incomplete snapshot");
            }
            return Err(db_error(&what, &inputs.app, err));
        }
        (Err(err), _) => {
            return Err(JobError::Storage {
                what: format!("{what} into {}", repo.label()),
                source: Box::new(err),
            })
        }
    };
    let r = repo.clone();
    let (stats, check) = blocking(move || Ok((r.stats()?, r.check(false)?)))
        .await
        .map_err(|source| JobError::Storage {
            what: format!("reading the size and integrity of {}", repo.label()),
            source: Box::new(source),
        })?;
    info!(repo = %repo.label(), snapshot = %summary.snapshot_id, bytes = summary.bytes_read, "component backed up");
    Ok(Saved {
        summary,
        repo_bytes: stats.pack_bytes,
        integrity: check.is_ok(),
        host_path,
    })
}

type Finish =
    std::pin::Pin<Box<dyn std::future::Future<Output = cairn_db::conn::Result<()>> + Send>>;

fn dump_options(params: &TaskParams) -> DumpOptions {
    let mut options = DumpOptions {
        databases: params.databases.clone(),
        consistency: if params.no_lock {
            ConsistencyMode::NoLock
        } else {
            ConsistencyMode::Auto
        },
        ..DumpOptions::default()
    };
    if let Some(n) = params.parallel {
        options.parallel = n;
    }
    if let Some(n) = params.chunk_rows {
        options.chunk_rows = n;
    }
    options
}

fn to_source_entry(entry: DumpEntry) -> SourceEntry {
    SourceEntry {
        path: entry.path,
        open: entry.open,
    }
}

/// `a/b` from two relative paths.
pub(crate) fn join(a: &str, b: &str) -> String {
    let (a, b) = (a.trim_matches('/'), b.trim_matches('/'));
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => format!("{a}/{b}"),
    }
}
