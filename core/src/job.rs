//! Executor jobs: what the core asks an executor to run (`JobSpec`) and what it knows
//! about each job (`JobFact`).
//!
//! A job is keyed by the session that owns it, so a replayed `RunJob` names the same job
//! and an executor that already runs it ignores the duplicate.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{Component, ComponentPhase, Driver, ObjectReference, TypedObjectReference};

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum JobKind {
    /// Dump a target into the snapshots of a BackupSession.
    Backup,
    /// Load a snapshot into a target for a RestoreSession.
    Restore,
}

/// Identity of a job: its kind and the session (namespace, name) that owns it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct JobKey {
    /// Backup or restore.
    pub kind: JobKind,
    /// Namespace of the owning session.
    pub namespace: String,
    /// Name of the owning BackupSession or RestoreSession.
    pub session: String,
}

impl JobKey {
    /// Builds a key.
    pub fn new(kind: JobKind, namespace: impl Into<String>, session: impl Into<String>) -> Self {
        Self {
            kind,
            namespace: namespace.into(),
            session: session.into(),
        }
    }
}

/// Lifecycle of a job as reported by its executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum JobPhase {
    /// Requested, not started.
    Pending,
    /// Started.
    Running,
    /// Finished and reported a result.
    Succeeded,
    /// Failed, or vanished; `result` tells whether it reported anything.
    Failed,
}

/// Per-snapshot component results a backup job reports.
pub type BackupResult = BTreeMap<String, BTreeMap<String, Component>>;

/// What a finished job reported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum JobResult {
    /// Backup: components by snapshot name, then component name.
    Backup(BackupResult),
    /// Restore: components by name.
    Restore(BTreeMap<String, RestoreComponentResult>),
}

/// Result of restoring one component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreComponentResult {
    /// Succeeded or Failed.
    pub phase: ComponentPhase,
    /// Go duration string.
    pub duration: String,
    /// Why it failed.
    pub error: String,
}

/// What the core knows about one job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobFact {
    /// The spec the job was started from.
    pub spec: JobSpec,
    /// Current phase.
    pub phase: JobPhase,
    /// When it started running.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished (or was found gone).
    pub finished_at: Option<DateTime<Utc>>,
    /// Reported result; `None` on a failed job means the executor died before reporting.
    pub result: Option<JobResult>,
    /// Failure message reported by the executor (never a secret value).
    pub message: String,
    /// Times the job was started again because it died with the control plane running it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reruns: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl JobFact {
    /// A job just requested from `spec`.
    pub fn pending(spec: JobSpec) -> Self {
        Self {
            spec,
            phase: JobPhase::Pending,
            started_at: None,
            finished_at: None,
            result: None,
            message: String::new(),
            reruns: 0,
        }
    }

    /// Whether the job has finished, one way or the other.
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, JobPhase::Succeeded | JobPhase::Failed)
    }
}

/// One snapshot a backup job writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotTarget {
    /// Snapshot object name.
    pub snapshot: String,
    /// Repository object name.
    pub repository: String,
    /// Directory of the repository inside its storage.
    pub repository_path: String,
    /// The BackupStorage holding the repository.
    pub storage: ObjectReference,
    /// Secret holding `RESTIC_PASSWORD` (by name only).
    pub encryption_secret: Option<ObjectReference>,
    /// Components to write, with their paths relative to `repository_path`.
    pub components: BTreeMap<String, String>,
}

/// Where a restore job reads from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreSource {
    /// Snapshot object name (resolved from `latest` by the core).
    pub snapshot: String,
    /// Repository object name.
    pub repository: String,
    /// Directory of the repository inside its storage.
    pub repository_path: String,
    /// The BackupStorage holding the repository.
    pub storage: ObjectReference,
    /// Secret holding `RESTIC_PASSWORD` (by name only).
    pub encryption_secret: Option<ObjectReference>,
    /// Components to restore with their restic snapshot ids and paths.
    pub components: BTreeMap<String, RestoreComponentSource>,
}

/// One component to restore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreComponentSource {
    /// Path relative to the repository path.
    pub path: String,
    /// restic snapshot id to read.
    pub restic_id: String,
}

/// One addon task of a job, resolved to a container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRun {
    /// Task name, e.g. `logical-backup`.
    pub task: String,
    /// Function name.
    pub function: String,
    /// Snapshot component the task writes or reads (`dump`, `manifest`).
    pub component: String,
    /// Driver of the task.
    pub driver: Driver,
    /// Container image with `${DB_VERSION}` resolved.
    pub image: String,
    /// Container command.
    pub command: Vec<String>,
    /// Container args with `${var:=default}` resolved.
    pub args: Vec<String>,
    /// Task `variables` with literal values (Secret references stay references).
    pub env: BTreeMap<String, String>,
}

/// Everything an executor needs to run a job; references Secrets by name only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// Identity.
    pub key: JobKey,
    /// The application (its AppBinding has the same namespace and name).
    pub target: TypedObjectReference,
    /// Addon name.
    pub addon: String,
    /// Tasks, run in order.
    pub tasks: Vec<TaskRun>,
    /// Snapshots a backup writes (empty for a restore).
    pub snapshots: Vec<SnapshotTarget>,
    /// What a restore reads (`None` for a backup).
    pub restore: Option<RestoreSource>,
    /// When the job must be finished.
    pub deadline: Option<DateTime<Utc>>,
    /// Pod/container overrides (`addon.jobTemplate`, `containerRuntimeSettings`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Value>,
}
