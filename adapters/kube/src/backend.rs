//! Backend IO the core asks for (`metadata.yaml`, `repository.yaml`, Snapshot YAMLs,
//! forget, wipe): the operator runs it in-process and reports each result as a fact.

use std::collections::BTreeMap;

use cairn_core::effect::Effect;
use cairn_core::world::{Fact, Outcome, World};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

/// Runs backend effects. Implementations never decide: they do the IO and report.
pub trait BackendIo: Send + Sync {
    /// Carries out `effect` (one of the backend effects) with the credentials found in
    /// `world`, and reports the outcome as a fact.
    fn execute<'a>(
        &'a self,
        world: &'a World,
        effect: &'a Effect,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Option<Fact>>;
}

/// The fact reporting `outcome` for a backend `effect` (`None` for other effects).
/// An `InitBackend` answered here lists nothing; listing backends is the storage
/// implementation's job.
pub fn fact_for(effect: &Effect, outcome: Outcome, now: DateTime<Utc>) -> Option<Fact> {
    Some(match effect {
        Effect::InitBackend { storage, .. } => Fact::BackendInitialized {
            storage: storage.key.clone(),
            outcome,
            at: now,
            repositories: BTreeMap::new(),
            snapshots: BTreeMap::new(),
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

/// A backend that answers every request with the same outcome: used by tests, and by
/// `cairn operator --backend=none` to run the control plane without touching storage.
#[derive(Clone, Debug)]
pub struct FixedBackend(pub Outcome);

impl BackendIo for FixedBackend {
    fn execute<'a>(
        &'a self,
        _world: &'a World,
        effect: &'a Effect,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Option<Fact>> {
        let fact = fact_for(effect, self.0.clone(), now);
        Box::pin(async move { fact })
    }
}
