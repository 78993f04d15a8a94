//! Backend IO the core asks for (`metadata.yaml`, `repository.yaml`, Snapshot YAMLs,
//! forget, wipe): the operator runs it in-process and reports each result as a fact.
//!
//! [`StorageBackend`] is the real implementation over cairn-storage (shared with the
//! local daemon through [`cairn_job::backend_files`]); [`FixedBackend`] answers every
//! request with one outcome, for tests.
//!
//! A BackupStorage with provider `local` is, in Kubernetes, a volume mounted in the pod
//! at `spec.storage.local.mountPath` (the operator's and the executor Job's): see
//! [`pod_view`].

use std::path::{Path, PathBuf};

use cairn_core::api::BackupStorage;
use cairn_core::effect::Effect;
use cairn_core::world::{Fact, ObjectKey, Outcome, World};
use cairn_job::backend_files::{carry_out, is_backend, snapshot_password};
use cairn_job::inputs::storage_with_secret;
use cairn_job::StorageAccess;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tracing::warn;

/// Prepares backend effects. Implementations never decide: they do the IO and report.
pub trait BackendIo: Send + Sync {
    /// The IO of `effect` (one of the backend effects), with the credentials and paths
    /// taken from `world` now, as a future that needs no world: the operator runs it off
    /// the reconcile, so a slow prune never holds up other objects. Its fact reports the
    /// outcome; `None` for effects that are not backend IO.
    fn prepare(
        &self,
        world: &World,
        effect: &Effect,
        now: DateTime<Utc>,
    ) -> Option<BoxFuture<'static, Option<Fact>>>;
}

/// The fact reporting `outcome` for a backend `effect` (`None` for other effects).
/// An `InitBackend` answered here lists nothing; see [`fact_with_listing`].
pub fn fact_for(effect: &Effect, outcome: Outcome, now: DateTime<Utc>) -> Option<Fact> {
    fact_with_listing(effect, outcome, Listing::default(), now)
}

/// What a backend listing found (`repository.yaml` by directory, Snapshot YAMLs by
/// path): reported with `BackendInitialized` so a fresh control plane re-creates the
/// Repository and Snapshot objects (disaster recovery).
pub use cairn_job::backend_files::Listing;

/// The fact reporting `outcome` for a backend `effect`, with what an `InitBackend`
/// listed (`None` for effects that are not backend IO).
pub fn fact_with_listing(
    effect: &Effect,
    outcome: Outcome,
    listing: Listing,
    now: DateTime<Utc>,
) -> Option<Fact> {
    Some(match effect {
        Effect::InitBackend { storage, .. } => Fact::BackendInitialized {
            storage: storage.key.clone(),
            outcome,
            at: now,
            repositories: listing.repositories,
            snapshots: listing.snapshots,
        },
        Effect::InitRepository { storage, path, .. } => Fact::RepositoryInitialized {
            storage: storage.key.clone(),
            path: path.clone(),
            outcome,
            at: now,
        },
        Effect::UploadSnapshotMetadata {
            storage,
            snapshot,
            path,
            ..
        } => Fact::SnapshotMetadataUploaded {
            storage: storage.key.clone(),
            snapshot: snapshot.key.clone(),
            path: path.clone(),
            outcome,
            at: now,
        },
        Effect::ForgetSnapshots {
            storage,
            snapshot,
            metadata_path,
            ..
        } => Fact::SnapshotsForgotten {
            storage: storage.key.clone(),
            snapshot: snapshot.key.clone(),
            metadata_path: metadata_path.clone(),
            outcome,
            at: now,
        },
        Effect::WipeData { storage, path } => Fact::DataWiped {
            storage: storage.key.clone(),
            path: path.clone(),
            outcome,
            at: now,
        },
        _ => return None,
    })
}

/// A backend that answers every request with the same outcome: used by tests to run
/// the control plane without touching storage.
#[derive(Clone, Debug)]
pub struct FixedBackend(pub Outcome);

impl BackendIo for FixedBackend {
    fn prepare(
        &self,
        _world: &World,
        effect: &Effect,
        now: DateTime<Utc>,
    ) -> Option<BoxFuture<'static, Option<Fact>>> {
        let fact = fact_for(effect, self.0.clone(), now)?;
        Some(Box::pin(async move { Some(fact) }))
    }
}

/// The BackupStorage as this pod sees it: a `local` backend's data is where its volume
/// is mounted (`mountPath`, plus `subPath`), never the node path of a `hostPath`
/// source (which a local daemon, running on the host, would use).
pub fn pod_view(storage: &BackupStorage) -> BackupStorage {
    let mut storage = storage.clone();
    if let Some(local) = storage.spec.storage.local.as_mut() {
        local.volume_source.remove("hostPath");
    }
    storage
}

/// The backend of the BackupStorage `key`, resolved against `world` as this pod sees
/// it; relative paths are taken relative to `base`.
pub fn storage_access(
    world: &World,
    key: &ObjectKey,
    base: &Path,
) -> Result<StorageAccess, String> {
    let storage: &BackupStorage = world
        .get(key)
        .ok_or_else(|| format!("BackupStorage {}/{} not found", key.namespace, key.name))?;
    storage_with_secret(world, &pod_view(storage), base).map_err(|e| e.to_string())
}

/// Backend IO over cairn-storage: credentials from the BackupStorage's Secret in the
/// world, `local` backends under their `mountPath` in this pod.
#[derive(Clone, Debug)]
pub struct StorageBackend {
    /// Directory relative local paths are resolved against (`/` in a pod).
    pub base: PathBuf,
}

impl Default for StorageBackend {
    fn default() -> Self {
        Self {
            base: PathBuf::from("/"),
        }
    }
}

fn storage_of(effect: &Effect) -> Option<&ObjectKey> {
    match effect {
        Effect::InitBackend { storage, .. }
        | Effect::InitRepository { storage, .. }
        | Effect::UploadSnapshotMetadata { storage, .. }
        | Effect::ForgetSnapshots { storage, .. }
        | Effect::WipeData { storage, .. } => Some(&storage.key),
        _ => None,
    }
}

impl BackendIo for StorageBackend {
    fn prepare(
        &self,
        world: &World,
        effect: &Effect,
        now: DateTime<Utc>,
    ) -> Option<BoxFuture<'static, Option<Fact>>> {
        if !is_backend(effect) {
            return None;
        }
        let key = storage_of(effect)?.clone();
        let access = storage_access(world, &key, &self.base);
        let password = match effect {
            Effect::ForgetSnapshots { snapshot, .. } => snapshot_password(world, &snapshot.key),
            _ => None,
        };
        let effect = effect.clone();
        Some(Box::pin(async move {
            let (outcome, listing) = carry_out(&effect, access, password).await?;
            if let Outcome::Failed(message) = &outcome {
                warn!(storage = %key.name, namespace = %key.namespace, "{message}");
            }
            fact_with_listing(&effect, outcome, listing, now)
        }))
    }
}
