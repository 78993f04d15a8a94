//! Reading job facts back from the state directory.
//!
//! The core's job types are `Serialize` only (the core never parses its own
//! bookkeeping), so these mirrors deserialize exactly what the core's `Serialize`
//! writes and convert into the core types. A field added to a core type breaks the
//! `From` impls at compile time, and the world round-trip test catches format drift.

use std::collections::BTreeMap;

use cairn_core::api::{Component, ComponentPhase, Driver, ObjectReference, TypedObjectReference};
use cairn_core::job::{
    JobFact, JobKey, JobKind, JobPhase, JobResult, JobSpec, RestoreComponentResult,
    RestoreComponentSource, RestoreSource, SnapshotTarget, TaskRun,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// Mirror of [`JobKind`].
#[derive(Deserialize)]
pub enum JobKindDto {
    /// Backup.
    Backup,
    /// Restore.
    Restore,
}

impl From<JobKindDto> for JobKind {
    fn from(d: JobKindDto) -> Self {
        match d {
            JobKindDto::Backup => JobKind::Backup,
            JobKindDto::Restore => JobKind::Restore,
        }
    }
}

/// Mirror of [`JobKey`].
#[derive(Deserialize)]
pub struct JobKeyDto {
    kind: JobKindDto,
    namespace: String,
    session: String,
}

impl From<JobKeyDto> for JobKey {
    fn from(d: JobKeyDto) -> Self {
        JobKey {
            kind: d.kind.into(),
            namespace: d.namespace,
            session: d.session,
        }
    }
}

/// Mirror of [`JobPhase`].
#[derive(Deserialize)]
pub enum JobPhaseDto {
    /// Pending.
    Pending,
    /// Running.
    Running,
    /// Succeeded.
    Succeeded,
    /// Failed.
    Failed,
}

impl From<JobPhaseDto> for JobPhase {
    fn from(d: JobPhaseDto) -> Self {
        match d {
            JobPhaseDto::Pending => JobPhase::Pending,
            JobPhaseDto::Running => JobPhase::Running,
            JobPhaseDto::Succeeded => JobPhase::Succeeded,
            JobPhaseDto::Failed => JobPhase::Failed,
        }
    }
}

/// Mirror of [`RestoreComponentResult`].
#[derive(Deserialize)]
pub struct RestoreComponentResultDto {
    phase: ComponentPhase,
    duration: String,
    error: String,
}

/// Mirror of [`JobResult`].
#[derive(Deserialize)]
pub enum JobResultDto {
    /// Backup components by snapshot, then component.
    Backup(BTreeMap<String, BTreeMap<String, Component>>),
    /// Restore components by name.
    Restore(BTreeMap<String, RestoreComponentResultDto>),
}

impl From<JobResultDto> for JobResult {
    fn from(d: JobResultDto) -> Self {
        match d {
            JobResultDto::Backup(b) => JobResult::Backup(b),
            JobResultDto::Restore(r) => JobResult::Restore(
                r.into_iter()
                    .map(|(k, v)| {
                        let result = RestoreComponentResult {
                            phase: v.phase,
                            duration: v.duration,
                            error: v.error,
                        };
                        (k, result)
                    })
                    .collect(),
            ),
        }
    }
}

/// Mirror of [`TaskRun`].
#[derive(Deserialize)]
pub struct TaskRunDto {
    task: String,
    function: String,
    component: String,
    driver: Driver,
    image: String,
    command: Vec<String>,
    args: Vec<String>,
    env: BTreeMap<String, String>,
}

impl From<TaskRunDto> for TaskRun {
    fn from(d: TaskRunDto) -> Self {
        TaskRun {
            task: d.task,
            function: d.function,
            component: d.component,
            driver: d.driver,
            image: d.image,
            command: d.command,
            args: d.args,
            env: d.env,
        }
    }
}

/// Mirror of [`SnapshotTarget`].
#[derive(Deserialize)]
pub struct SnapshotTargetDto {
    snapshot: String,
    repository: String,
    repository_path: String,
    storage: ObjectReference,
    encryption_secret: Option<ObjectReference>,
    components: BTreeMap<String, String>,
}

impl From<SnapshotTargetDto> for SnapshotTarget {
    fn from(d: SnapshotTargetDto) -> Self {
        SnapshotTarget {
            snapshot: d.snapshot,
            repository: d.repository,
            repository_path: d.repository_path,
            storage: d.storage,
            encryption_secret: d.encryption_secret,
            components: d.components,
        }
    }
}

/// Mirror of [`RestoreComponentSource`].
#[derive(Deserialize)]
pub struct RestoreComponentSourceDto {
    path: String,
    restic_id: String,
}

/// Mirror of [`RestoreSource`].
#[derive(Deserialize)]
pub struct RestoreSourceDto {
    snapshot: String,
    repository: String,
    repository_path: String,
    storage: ObjectReference,
    encryption_secret: Option<ObjectReference>,
    components: BTreeMap<String, RestoreComponentSourceDto>,
}

impl From<RestoreSourceDto> for RestoreSource {
    fn from(d: RestoreSourceDto) -> Self {
        RestoreSource {
            snapshot: d.snapshot,
            repository: d.repository,
            repository_path: d.repository_path,
            storage: d.storage,
            encryption_secret: d.encryption_secret,
            components: d
                .components
                .into_iter()
                .map(|(k, v)| {
                    let source = RestoreComponentSource {
                        path: v.path,
                        restic_id: v.restic_id,
                    };
                    (k, source)
                })
                .collect(),
        }
    }
}

/// Mirror of [`JobSpec`].
#[derive(Deserialize)]
pub struct JobSpecDto {
    key: JobKeyDto,
    target: TypedObjectReference,
    addon: String,
    tasks: Vec<TaskRunDto>,
    snapshots: Vec<SnapshotTargetDto>,
    restore: Option<RestoreSourceDto>,
    deadline: Option<DateTime<Utc>>,
    #[serde(default)]
    runtime: Option<Value>,
}

impl From<JobSpecDto> for JobSpec {
    fn from(d: JobSpecDto) -> Self {
        JobSpec {
            key: d.key.into(),
            target: d.target,
            addon: d.addon,
            tasks: d.tasks.into_iter().map(Into::into).collect(),
            snapshots: d.snapshots.into_iter().map(Into::into).collect(),
            restore: d.restore.map(Into::into),
            deadline: d.deadline,
            runtime: d.runtime,
        }
    }
}

/// Mirror of [`JobFact`].
#[derive(Deserialize)]
pub struct JobFactDto {
    spec: JobSpecDto,
    phase: JobPhaseDto,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    result: Option<JobResultDto>,
    message: String,
    #[serde(default)]
    reruns: u32,
}

impl From<JobFactDto> for JobFact {
    fn from(d: JobFactDto) -> Self {
        JobFact {
            spec: d.spec.into(),
            phase: d.phase.into(),
            started_at: d.started_at,
            finished_at: d.finished_at,
            result: d.result.map(Into::into),
            message: d.message,
            reruns: d.reruns,
        }
    }
}
