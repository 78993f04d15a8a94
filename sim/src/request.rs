//! Storage requests the environment holds between the core asking and the storage
//! answering. They live outside the core's world: a controller restart forgets that it
//! asked, but the storage still answers (late), which is exactly the hazard to explore.

use std::fmt;

use cairn_core::effect::Effect;
use cairn_core::world::{Fact, ObjectKey, Outcome};
use chrono::{DateTime, Utc};

/// One unanswered storage request.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Request {
    /// Write `metadata.yaml` and list the backend.
    InitBackend {
        /// The BackupStorage.
        storage: ObjectKey,
    },
    /// Write a `repository.yaml`.
    InitRepository {
        /// The BackupStorage.
        storage: ObjectKey,
        /// File path.
        path: String,
    },
    /// Upload a Snapshot YAML.
    UploadSnapshot {
        /// The BackupStorage.
        storage: ObjectKey,
        /// The Snapshot.
        snapshot: ObjectKey,
        /// File path.
        path: String,
    },
    /// Forget a Snapshot's restic data and remove its YAML.
    Forget {
        /// The BackupStorage.
        storage: ObjectKey,
        /// The Snapshot.
        snapshot: ObjectKey,
        /// Its YAML's path.
        metadata_path: String,
    },
    /// Wipe a path.
    Wipe {
        /// The BackupStorage.
        storage: ObjectKey,
        /// The path.
        path: String,
    },
}

impl Request {
    /// The request an IO effect makes, if it is one.
    pub fn of(effect: &Effect) -> Option<Self> {
        Some(match effect {
            Effect::InitBackend { storage, .. } => Request::InitBackend {
                storage: storage.key.clone(),
            },
            Effect::InitRepository { storage, path, .. } => Request::InitRepository {
                storage: storage.key.clone(),
                path: path.clone(),
            },
            Effect::UploadSnapshotMetadata {
                storage,
                snapshot,
                path,
                ..
            } => Request::UploadSnapshot {
                storage: storage.key.clone(),
                snapshot: snapshot.key.clone(),
                path: path.clone(),
            },
            Effect::ForgetSnapshots {
                storage,
                snapshot,
                metadata_path,
                ..
            } => Request::Forget {
                storage: storage.key.clone(),
                snapshot: snapshot.key.clone(),
                metadata_path: metadata_path.clone(),
            },
            Effect::WipeData { storage, path } => Request::Wipe {
                storage: storage.key.clone(),
                path: path.clone(),
            },
            // Not storage: jobs and hooks are the simulator's executor; objects, events
            // and schedules live in the world.
            Effect::Apply(_)
            | Effect::PatchStatus { .. }
            | Effect::Delete { .. }
            | Effect::AddFinalizer(_)
            | Effect::RemoveFinalizer(_)
            | Effect::RunJob(_)
            | Effect::CancelJob(_)
            | Effect::RunHook(_)
            | Effect::Emit(_)
            | Effect::EnsureTrigger { .. }
            | Effect::RecordFired { .. } => return None,
        })
    }

    /// The fact the storage adapter reports when the request completes (`ok`) or fails.
    pub fn answer(&self, ok: bool, at: DateTime<Utc>) -> Fact {
        let outcome = if ok {
            Outcome::Ok
        } else {
            Outcome::Failed("storage unavailable: 503 Slow Down".to_owned())
        };
        match self.clone() {
            Request::InitBackend { storage } => Fact::BackendInitialized {
                storage,
                outcome,
                at,
                repositories: Default::default(),
                snapshots: Default::default(),
            },
            Request::InitRepository { storage, path } => Fact::RepositoryInitialized {
                storage,
                path,
                outcome,
                at,
            },
            Request::UploadSnapshot {
                storage,
                snapshot,
                path,
            } => Fact::SnapshotMetadataUploaded {
                storage,
                snapshot,
                path,
                outcome,
                at,
            },
            Request::Forget {
                storage,
                snapshot,
                metadata_path,
            } => Fact::SnapshotsForgotten {
                storage,
                snapshot,
                metadata_path,
                outcome,
                at,
            },
            Request::Wipe { storage, path } => Fact::DataWiped {
                storage,
                path,
                outcome,
                at,
            },
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::InitBackend { storage } => {
                write!(f, "write metadata.yaml of BackupStorage {storage}")
            }
            Request::InitRepository { path, .. } => write!(f, "write {path}"),
            Request::UploadSnapshot { snapshot, .. } => {
                write!(f, "upload the YAML of Snapshot {snapshot}")
            }
            Request::Forget { snapshot, .. } => {
                write!(f, "forget the restic data of Snapshot {snapshot}")
            }
            Request::Wipe { storage, path } => {
                write!(f, "wipe {path:?} in BackupStorage {storage}")
            }
        }
    }
}
