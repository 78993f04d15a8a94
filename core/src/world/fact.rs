//! Facts: what adapters (and users) report, and how each one updates the world.
//!
//! Facts never compute status: they record what happened (a file exists, a job finished
//! with this result) and `reconcile` derives every condition and phase from them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::api::{Repository, Snapshot};
use crate::effect::Effect;
use crate::job::{JobFact, JobKey, JobKind, JobPhase, JobResult, JobSpec};

use super::apply::{apply, apply_object};
use super::{
    FileState, HookKey, HookOutcome, Inflight, Object, ObjectKey, ObjectRef, Secret, World,
};

/// Success or failure of an IO effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// Done.
    Ok,
    /// Failed, with the adapter's explanation (never a secret value).
    Failed(String),
}

impl Outcome {
    fn into_file_state(self, at: DateTime<Utc>) -> FileState {
        match self {
            Outcome::Ok => FileState::Present,
            Outcome::Failed(message) => FileState::Failed { message, at },
        }
    }
}

/// Something that happened outside the core.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[allow(clippy::large_enum_variant)] // facts are short-lived; boxing buys nothing here
pub enum Fact {
    /// A user (or the store) created or updated an object.
    Applied(Object),
    /// A user requested deletion of an object.
    Deleted {
        /// The object.
        object: ObjectRef,
        /// When.
        at: DateTime<Utc>,
    },
    /// A Secret was created or updated.
    SecretApplied(Secret),
    /// A Secret was deleted.
    SecretDeleted(ObjectKey),
    /// Labels of a namespace.
    NamespaceLabels {
        /// Namespace.
        namespace: String,
        /// Its labels.
        labels: BTreeMap<String, String>,
    },
    /// `metadata.yaml` written (or found), plus what a listing of the backend found.
    BackendInitialized {
        /// The BackupStorage.
        storage: ObjectKey,
        /// Result.
        outcome: Outcome,
        /// When.
        at: DateTime<Utc>,
        /// `repository.yaml` files found, parsed, by directory.
        repositories: BTreeMap<String, Repository>,
        /// Snapshot YAMLs found, parsed, by path.
        snapshots: BTreeMap<String, Snapshot>,
    },
    /// `repository.yaml` written.
    RepositoryInitialized {
        /// The BackupStorage.
        storage: ObjectKey,
        /// Path of `repository.yaml`.
        path: String,
        /// Result.
        outcome: Outcome,
        /// When.
        at: DateTime<Utc>,
    },
    /// A Snapshot YAML was uploaded.
    SnapshotMetadataUploaded {
        /// The BackupStorage.
        storage: ObjectKey,
        /// The Snapshot.
        snapshot: ObjectKey,
        /// Path of the YAML.
        path: String,
        /// Result.
        outcome: Outcome,
        /// When.
        at: DateTime<Utc>,
    },
    /// An executor job exists that the control plane has no record of: it restarted or
    /// failed over while the job ran (the operator rebuilds its records from the Jobs it
    /// owns). Adopted while its session is still unfinished.
    ExecutorJobSeen {
        /// The spec the job was started from (its Job's annotation).
        spec: JobSpec,
    },
    /// A job started running.
    JobStarted {
        /// The job.
        job: JobKey,
        /// When.
        at: DateTime<Utc>,
    },
    /// A job finished and reported its result.
    JobSucceeded {
        /// The job.
        job: JobKey,
        /// Its result.
        result: JobResult,
        /// When.
        at: DateTime<Utc>,
    },
    /// A job failed; `result` holds whatever it reported before failing.
    JobFailed {
        /// The job.
        job: JobKey,
        /// Why.
        message: String,
        /// Partial result, if any.
        result: Option<JobResult>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A job disappeared (pod killed, node lost) without reporting.
    JobVanished {
        /// The job.
        job: JobKey,
        /// When it was found gone.
        at: DateTime<Utc>,
    },
    /// A hook finished.
    HookFinished {
        /// The hook run.
        hook: HookKey,
        /// Succeeded or Failed.
        outcome: HookOutcome,
        /// Failure message.
        message: String,
    },
    /// restic snapshots of a Snapshot were forgotten and its YAML removed.
    SnapshotsForgotten {
        /// The BackupStorage.
        storage: ObjectKey,
        /// The Snapshot.
        snapshot: ObjectKey,
        /// Path of the Snapshot YAML.
        metadata_path: String,
        /// Result.
        outcome: Outcome,
        /// When.
        at: DateTime<Utc>,
    },
    /// Data under a path was wiped.
    DataWiped {
        /// The BackupStorage.
        storage: ObjectKey,
        /// The path.
        path: String,
        /// Result.
        outcome: Outcome,
        /// When.
        at: DateTime<Utc>,
    },
}

/// Records a fact in the world.
pub fn observe(world: &mut World, fact: Fact) {
    match fact {
        Fact::Applied(object) => apply_object(world, &object),
        Fact::Deleted { object, at } => apply(world, &Effect::Delete { object, at }),
        Fact::SecretApplied(secret) => {
            world.secrets.insert(
                ObjectKey::new(secret.namespace.clone(), secret.name.clone()),
                secret,
            );
        }
        Fact::SecretDeleted(key) => drop(world.secrets.remove(&key)),
        Fact::NamespaceLabels { namespace, labels } => {
            drop(world.namespaces.insert(namespace, labels))
        }
        Fact::BackendInitialized {
            storage,
            outcome,
            at,
            repositories,
            snapshots,
        } => {
            world
                .inflight
                .remove(&Inflight::InitBackend(storage.clone()));
            let facts = world.backends.entry(storage).or_default();
            let ok = outcome == Outcome::Ok;
            facts.metadata = Some(outcome.into_file_state(at));
            if ok {
                record_listing(facts, repositories, snapshots);
            }
        }
        Fact::RepositoryInitialized {
            storage,
            path,
            outcome,
            at,
        } => {
            world
                .inflight
                .remove(&Inflight::InitRepository(storage.clone(), path.clone()));
            world
                .backends
                .entry(storage)
                .or_default()
                .repositories
                .insert(path, outcome.into_file_state(at));
        }
        Fact::SnapshotMetadataUploaded {
            storage,
            snapshot,
            path,
            outcome,
            at,
        } => {
            world.inflight.remove(&Inflight::UploadSnapshot(snapshot));
            world
                .backends
                .entry(storage)
                .or_default()
                .snapshots
                .insert(path, outcome.into_file_state(at));
        }
        Fact::SnapshotsForgotten {
            storage,
            snapshot,
            metadata_path,
            outcome,
            at,
        } => {
            world.inflight.remove(&Inflight::Forget(snapshot));
            let facts = world.backends.entry(storage).or_default();
            if outcome == Outcome::Ok {
                facts.snapshots.remove(&metadata_path);
                facts.found_snapshots.remove(&metadata_path);
            }
            facts
                .forgotten
                .insert(metadata_path, outcome.into_file_state(at));
        }
        Fact::DataWiped {
            storage,
            path,
            outcome,
            at,
        } => {
            world
                .inflight
                .remove(&Inflight::Wipe(storage.clone(), path.clone()));
            world
                .backends
                .entry(storage)
                .or_default()
                .wiped
                .insert(path, outcome.into_file_state(at));
        }
        Fact::HookFinished {
            hook,
            outcome,
            message,
        } => {
            let entry = world.hooks.entry(hook).or_insert(super::HookFact {
                outcome,
                message: String::new(),
            });
            if entry.outcome == HookOutcome::Pending {
                entry.outcome = outcome;
                entry.message = message;
            }
        }
        Fact::ExecutorJobSeen { spec } => adopt_job(world, spec),
        job_fact => observe_job(world, job_fact),
    }
}

/// Merges a backend listing: every file found exists.
fn record_listing(
    facts: &mut super::BackendFacts,
    repositories: BTreeMap<String, Repository>,
    snapshots: BTreeMap<String, Snapshot>,
) {
    for (dir, repository) in repositories {
        let path = crate::plan::naming::join_path(&[&dir, crate::api::component::FILE_REPOSITORY]);
        facts.repositories.insert(path, FileState::Present);
        facts.found_repositories.insert(dir, repository);
    }
    for (path, snapshot) in snapshots {
        facts.snapshots.insert(path.clone(), FileState::Present);
        facts.found_snapshots.insert(path, snapshot);
    }
}

/// Records a job found running without a record, unless its session is over or gone.
fn adopt_job(world: &mut World, spec: JobSpec) {
    if world.jobs.contains_key(&spec.key) {
        return;
    }
    let key = ObjectKey::new(spec.key.namespace.clone(), spec.key.session.clone());
    let unfinished = match spec.key.kind {
        JobKind::Backup => world
            .backup_sessions
            .get(&key)
            .is_some_and(|s| !s.is_completed()),
        JobKind::Restore => world.restore_sessions.get(&key).is_some_and(|r| {
            !r.status
                .as_ref()
                .and_then(|s| s.phase)
                .is_some_and(crate::api::RestorePhase::is_terminal)
        }),
    };
    if unfinished {
        world.jobs.insert(spec.key.clone(), JobFact::pending(spec));
    }
}

/// Job lifecycle facts. A finished job never changes again: a late success after a
/// cancel, or a duplicate report, is ignored.
fn observe_job(world: &mut World, fact: Fact) {
    let (key, at) = match &fact {
        Fact::JobStarted { job, at }
        | Fact::JobSucceeded { job, at, .. }
        | Fact::JobFailed { job, at, .. }
        | Fact::JobVanished { job, at } => (job.clone(), *at),
        _ => return,
    };
    let Some(job) = world.jobs.get_mut(&key) else {
        return;
    };
    if job.is_finished() {
        return;
    }
    match fact {
        Fact::JobStarted { .. } => {
            job.phase = JobPhase::Running;
            job.started_at = Some(at);
        }
        Fact::JobSucceeded { result, .. } => {
            job.phase = JobPhase::Succeeded;
            job.result = Some(result);
            job.finished_at = Some(at);
        }
        Fact::JobFailed {
            message, result, ..
        } => {
            job.phase = JobPhase::Failed;
            job.message = message;
            job.result = result;
            job.finished_at = Some(at);
        }
        Fact::JobVanished { .. } => {
            job.phase = JobPhase::Failed;
            job.message = "the executor terminated before reporting a result".to_owned();
            job.finished_at = Some(at);
        }
        _ => {}
    }
}
