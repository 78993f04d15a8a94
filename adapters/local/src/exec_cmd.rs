//! `cairn exec backup|restore`: run one executor job from the state directory, as a
//! Kubernetes executor Job runs from the cluster. Prints one JSON line with the job's
//! report on stdout (the daemon reads it in subprocess mode).

use anyhow::{bail, Context, Result};
use cairn_core::job::{JobKey, JobKind};

use crate::executor_job::{prepare, run_prepared, ReportLine};
use crate::store::StateDir;

/// Runs the job `key` recorded in the state directory `state`.
pub async fn exec(state: &std::path::Path, key: JobKey) -> Result<()> {
    let world = {
        let mut dir = StateDir::open(state)?;
        let _lock = dir.lock()?;
        dir.reload()?;
        dir.load_world()?
    };
    let session_kind = match key.kind {
        JobKind::Backup => "BackupSession",
        JobKind::Restore => "RestoreSession",
    };
    let Some(job) = world.jobs.get(&key) else {
        bail!(
            "no executor job for {session_kind} {}/{} in state directory {}: `cairn run` creates it when the session starts",
            key.namespace,
            key.session,
            state.display()
        );
    };
    let base = std::env::current_dir().context("cannot read the current directory")?;
    let prepared = prepare(&world, &job.spec, &base);
    let report = run_prepared(&job.spec, prepared).await;
    let line = ReportLine {
        result: &report.result,
        error: &report.error,
    };
    println!("{}", serde_json::to_string(&line)?);
    if let Some(error) = &report.error {
        bail!("{error}");
    }
    Ok(())
}
