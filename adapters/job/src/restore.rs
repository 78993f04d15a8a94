//! `run_restore`: stream each component's restic snapshot into the target database.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use tracing::{info, warn};

use cairn_core::api::component::COMPONENT_DUMP;
use cairn_core::job::{JobResult, JobSpec, RestoreComponentResult, RestoreComponentSource};
use cairn_db::manifest::MANIFEST_PATH;
use cairn_db::restore::{restore_native, RestoreOptions, RestoreProgress, SnapshotSource};
use cairn_db::sql_dump::SQL_DUMP_PATH;
use cairn_db::sql_restore::restore_sql;

use crate::backup::join;
use crate::error::{JobError, Result};
use crate::inputs::{JobInputs, RepoSource};
use crate::report::{go_duration, phase, JobReport};
use crate::repository::{blocking, open_repo};
use crate::source::RepoSnapshotSource;

/// Runs the restore job `spec` with resolved `inputs`; every failure becomes a failed
/// component with a message (never a secret).
pub async fn run_restore(spec: &JobSpec, inputs: &JobInputs) -> JobReport {
    let mut results = BTreeMap::new();
    let mut first_error = None;
    let Some(source) = &inputs.source else {
        return JobReport {
            result: JobResult::Restore(results),
            error: Some(format!(
                "restore job of {}/{} has no source snapshot",
                spec.key.namespace, spec.key.session
            )),
        };
    };
    for (component, from) in &source.components {
        let clock = Instant::now();
        let outcome = restore_component(inputs, source, component, from).await;
        let duration = go_duration(clock.elapsed());
        let error = match outcome {
            Ok(()) => String::new(),
            Err(err) => {
                let message = format!(
                    "restore of Snapshot {}/{} component {component} into {} failed: {err}",
                    spec.key.namespace, source.snapshot, inputs.app
                );
                warn!(job = %spec.key.session, category = err.category(), "{message}");
                first_error.get_or_insert_with(|| message.clone());
                message
            }
        };
        results.insert(
            component.clone(),
            RestoreComponentResult {
                phase: phase(error.is_empty()),
                duration,
                error,
            },
        );
    }
    JobReport {
        result: JobResult::Restore(results),
        error: first_error,
    }
}

async fn restore_component(
    inputs: &JobInputs,
    source: &RepoSource,
    component: &str,
    from: &RestoreComponentSource,
) -> Result<()> {
    if component != COMPONENT_DUMP {
        return Err(JobError::Unsupported(format!(
            "component {component:?} cannot be restored by Cairn's executor (only {COMPONENT_DUMP:?}); restrict dataSource.components to dump"
        )));
    }
    let params = inputs.params.get(component).cloned().unwrap_or_default();
    let rel = join(&source.repository_path, &from.path);
    let repo = open_repo(source.storage.clone(), &rel, source.password.clone(), false).await?;
    let wanted = if from.restic_id.is_empty() {
        "latest".to_owned()
    } else {
        from.restic_id.clone()
    };
    let storage_err = |what: String| {
        move |source| JobError::Storage {
            what,
            source: Box::new(source),
        }
    };
    let snapshot = {
        let what = format!("finding restic snapshot {wanted} in {}", repo.label());
        let repo = repo.clone();
        blocking(move || repo.find_snapshot(&wanted))
            .await
            .map_err(storage_err(what))?
    };
    let files: Arc<RepoSnapshotSource> = {
        let what = format!("listing restic snapshot {}", snapshot.short_id);
        let (repo, snapshot) = (repo.clone(), snapshot.clone());
        Arc::new(
            blocking(move || RepoSnapshotSource::new(repo, snapshot))
                .await
                .map_err(storage_err(what))?,
        )
    };
    let options = RestoreOptions {
        databases: params.databases.clone(),
        tables: params.tables.clone(),
        drop_existing: params.drop_existing,
        verify: true,
        parallel: params
            .parallel
            .unwrap_or(RestoreOptions::default().parallel),
        ..RestoreOptions::default()
    };
    let progress = RestoreProgress::shared();
    let what = format!(
        "loading restic snapshot {} into {}",
        snapshot.short_id, inputs.app
    );
    let report = if files.exists(MANIFEST_PATH) {
        restore_native(&inputs.db, files.clone(), &options, progress).await
    } else if files.exists(SQL_DUMP_PATH) {
        let opener = files.clone();
        let reader = tokio::task::spawn_blocking(move || opener.open(SQL_DUMP_PATH))
            .await
            .map_err(|e| JobError::Internal(e.to_string()))?
            .map_err(|e| JobError::Unsupported(format!("{what}: {e}")))?;
        restore_sql(&inputs.db, reader, &options, progress).await
    } else {
        return Err(JobError::Unsupported(format!(
            "restic snapshot {} holds neither {MANIFEST_PATH} nor {SQL_DUMP_PATH}: it was not written by Cairn or a KubeStash database addon",
            snapshot.short_id
        )));
    }
    .map_err(|source| JobError::Restore {
        what: what.clone(),
        source: Box::new(source),
    })?;
    if report.verified == Some(false) {
        return Err(JobError::Unsupported(format!(
            "{what}: verification failed: {}",
            report.mismatches.join("; ")
        )));
    }
    info!(snapshot = %snapshot.short_id, tables = report.tables, rows = report.rows, "component restored");
    Ok(())
}
