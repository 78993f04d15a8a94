//! Effects: everything the core asks the outside world to do, as data.
//!
//! Every effect is idempotent: applying it twice leaves the world as applying it once
//! (creates carry deterministic names, uploads are create-or-replace of the same bytes,
//! jobs are keyed by their session). So replaying a plan after a crash is safe.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::event::Event;
use crate::job::{JobKey, JobSpec};
use crate::world::hook::HookSpec;
use crate::world::{Inflight, Object, ObjectRef, Status};

/// One thing to do.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[allow(clippy::large_enum_variant)] // effects are short-lived; boxing buys nothing here
pub enum Effect {
    /// Create the object, or update its spec and metadata (status untouched).
    Apply(Object),
    /// Replace the object's status.
    PatchStatus {
        /// The object.
        object: ObjectRef,
        /// Its new status.
        status: Status,
    },
    /// Request deletion (finalizers then hold the object until cleanup ran).
    Delete {
        /// The object.
        object: ObjectRef,
        /// Deletion timestamp to record.
        at: DateTime<Utc>,
    },
    /// Add `kubestash.com/cleanup`.
    AddFinalizer(ObjectRef),
    /// Remove `kubestash.com/cleanup` (cleanup finished).
    RemoveFinalizer(ObjectRef),
    /// Write `metadata.yaml` at the backend root if absent, then list the backend.
    InitBackend {
        /// The BackupStorage.
        storage: ObjectRef,
        /// Path relative to the backend root (`metadata.yaml`).
        path: String,
        /// File content (BackendMeta YAML).
        yaml: String,
    },
    /// Write `<dir>/repository.yaml`.
    InitRepository {
        /// The BackupStorage holding the repository.
        storage: ObjectRef,
        /// The Repository.
        repository: ObjectRef,
        /// Path relative to the backend root.
        path: String,
        /// File content (Repository YAML).
        yaml: String,
    },
    /// Write `<dir>/snapshots/<name>.yaml`.
    UploadSnapshotMetadata {
        /// The BackupStorage.
        storage: ObjectRef,
        /// The Snapshot.
        snapshot: ObjectRef,
        /// Path relative to the backend root.
        path: String,
        /// File content (Snapshot YAML with status).
        yaml: String,
    },
    /// Start an executor job (backup or restore).
    RunJob(JobSpec),
    /// Stop a job that outlived its deadline.
    CancelJob(JobKey),
    /// Run one hook.
    RunHook(HookSpec),
    /// Forget (and prune) restic snapshots, then remove the Snapshot YAML.
    ForgetSnapshots {
        /// The BackupStorage.
        storage: ObjectRef,
        /// The Snapshot being wiped.
        snapshot: ObjectRef,
        /// `(restic repository dir relative to the backend root, restic snapshot id)`.
        restic: Vec<(String, String)>,
        /// Repository dirs of every component: restic snapshots there tagged with the
        /// Snapshot's name go too (a job killed after restic's commit never reported them).
        tagged_in: Vec<String>,
        /// Snapshot YAML to remove.
        metadata_path: String,
    },
    /// Delete everything under `path` in the backend ("" = the whole backend root).
    WipeData {
        /// The BackupStorage.
        storage: ObjectRef,
        /// Path relative to the backend root.
        path: String,
    },
    /// Create or update the trigger of a BackupConfiguration session.
    EnsureTrigger {
        /// The BackupConfiguration.
        configuration: ObjectRef,
        /// Session name.
        session: String,
        /// Trigger name `trigger-<configuration>-<session>`.
        name: String,
        /// Schedule text.
        schedule: String,
        /// Whether the trigger is suspended (`paused`, `scheduler.suspend`).
        suspended: bool,
        /// When the trigger was first ensured (slots before it never fire).
        since: DateTime<Utc>,
    },
    /// Record that a schedule slot fired (its BackupSession was created).
    RecordFired {
        /// The BackupConfiguration.
        configuration: ObjectRef,
        /// Session name.
        session: String,
        /// The slot.
        slot: DateTime<Utc>,
    },
    /// Record an event.
    Emit(Event),
}

impl Effect {
    /// The in-flight marker an IO effect sets until its fact arrives, so a reconcile
    /// between request and answer does not ask twice.
    pub fn inflight(&self) -> Option<Inflight> {
        match self {
            Effect::InitBackend { storage, .. } => Some(Inflight::InitBackend(storage.key.clone())),
            Effect::InitRepository { storage, path, .. } => {
                Some(Inflight::InitRepository(storage.key.clone(), path.clone()))
            }
            Effect::UploadSnapshotMetadata { snapshot, .. } => {
                Some(Inflight::UploadSnapshot(snapshot.key.clone()))
            }
            Effect::ForgetSnapshots { snapshot, .. } => {
                Some(Inflight::Forget(snapshot.key.clone()))
            }
            Effect::WipeData { storage, path } => {
                Some(Inflight::Wipe(storage.key.clone(), path.clone()))
            }
            _ => None,
        }
    }
}

/// The result of one reconcile: what to do now, and when to look again at the latest.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Plan {
    /// Effects in order.
    pub effects: Vec<Effect>,
    /// The earliest time something becomes due without any new fact.
    pub next_wakeup: Option<DateTime<Utc>>,
}

impl Plan {
    /// Adds an effect.
    pub fn push(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    /// Lowers `next_wakeup` to `at` if it is earlier.
    pub fn wake_at(&mut self, at: DateTime<Utc>) {
        self.next_wakeup = Some(self.next_wakeup.map_or(at, |t| t.min(at)));
    }

    /// Appends another plan's effects and merges its wakeup.
    pub fn extend(&mut self, other: Plan) {
        self.effects.extend(other.effects);
        if let Some(at) = other.next_wakeup {
            self.wake_at(at);
        }
    }

    /// Whether there is nothing to do now.
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty()
    }
}
