//! Executor jobs in local mode: in-process tokio tasks, or `cairn exec` subprocesses
//! (the Kubernetes Job's shape, one process per job). Both run `cairn-job`.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use cairn_core::job::{JobKind, JobSpec};
use cairn_core::world::{Fact, World};
use cairn_job::{resolve_inputs, run_backup, run_restore, HostStyle, JobInputs, JobReport};
use serde::{Deserialize, Serialize};
use tokio::process::Command;

use crate::world_io_job::JobResultDto;

/// How the daemon runs executor jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobMode {
    /// A tokio task inside the daemon.
    InProcess,
    /// `<exe> exec backup|restore --state DIR ...`, one process per job.
    Subprocess {
        /// The `cairn` binary.
        exe: PathBuf,
        /// The state directory the subprocess reads the job from.
        state: PathBuf,
    },
}

/// Inputs of a job resolved against the world now (the world is not shared with the
/// task), or why they cannot be.
pub type Prepared = Result<JobInputs, String>;

/// Resolves the references of `spec` in `world`.
pub fn prepare(world: &World, spec: &JobSpec, base: &Path) -> Prepared {
    resolve_inputs(world, spec, HostStyle::Local, base).map_err(|e| {
        format!(
            "cannot start the job of {}/{}: {e}",
            spec.key.namespace, spec.key.session
        )
    })
}

/// Runs `spec` in this process; the report (failed components when `prepared` failed).
pub async fn run_prepared(spec: &JobSpec, prepared: Prepared) -> JobReport {
    match prepared {
        Ok(inputs) => match spec.key.kind {
            JobKind::Backup => run_backup(spec, &inputs).await,
            JobKind::Restore => run_restore(spec, &inputs).await,
        },
        Err(message) => JobReport::failed(spec, message),
    }
}

/// The JSON line `cairn exec` prints: the job's report.
#[derive(Serialize)]
pub struct ReportLine<'a> {
    /// Component results, as the core serialises them.
    pub result: &'a cairn_core::job::JobResult,
    /// First failure.
    pub error: &'a Option<String>,
}

#[derive(Deserialize)]
struct ReportLineDto {
    result: JobResultDto,
    error: Option<String>,
}

/// Runs `spec` as a `cairn exec` subprocess and reads its report from stdout. A
/// process that dies without a report is a vanished job (the core decides what that
/// means for the session).
pub async fn run_subprocess(exe: &Path, state: &Path, spec: &JobSpec) -> Fact {
    let (verb, flag) = match spec.key.kind {
        JobKind::Backup => ("backup", "--backupsession"),
        JobKind::Restore => ("restore", "--restoresession"),
    };
    let mut cmd = Command::new(exe);
    cmd.arg("exec")
        .arg(verb)
        .arg("--state")
        .arg(state)
        .args(["--namespace", &spec.key.namespace, flag, &spec.key.session])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let output = cmd.output().await;
    let at = crate::clock::now();
    let vanished = Fact::JobVanished {
        job: spec.key.clone(),
        at,
    };
    let Ok(output) = output else {
        return vanished;
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(line) = stdout.lines().rev().find(|l| l.starts_with('{')) else {
        return vanished;
    };
    match serde_json::from_str::<ReportLineDto>(line) {
        Ok(dto) => JobReport {
            result: dto.result.into(),
            error: dto.error,
        }
        .into_fact(spec.key.clone(), at),
        Err(_) => vanished,
    }
}
