//! Repository: initialization (`repository.yaml` under its directory) once its storage
//! is Ready, and the summary of its snapshots (recent list, count, size, integrity).

use chrono::{DateTime, Duration, Utc};

use crate::api::component::FILE_REPOSITORY;
use crate::api::condition_type::*;
use crate::api::repository::SnapshotInfo;
use crate::api::{BackupStoragePhase, Kind, Repository, RepositoryStatus, Snapshot, SnapshotPhase};
use crate::effect::{Effect, Plan};
use crate::plan::naming::join_path;
use crate::world::{FileState, Inflight, ObjectKey, ObjectRef, Status, World};

use super::write::{ensure_finalizer, patch_status, set_and_announce};

/// Snapshots listed in `status.recentSnapshots`.
pub const RECENT_SNAPSHOTS: usize = 5;

/// Wait before retrying a failed `repository.yaml` upload.
pub const INIT_RETRY_AFTER: Duration = Duration::seconds(30);

/// The BackupStorage key of a repository.
pub fn storage_key(repository: &Repository) -> ObjectKey {
    let namespace = repository.metadata.namespace.as_deref().unwrap_or_default();
    let r = &repository.spec.storage_ref;
    ObjectKey::new(r.namespace_or(namespace), r.name.clone())
}

/// Path of a repository's `repository.yaml` relative to the backend root.
pub fn repository_file(repository: &Repository) -> String {
    join_path(&[&repository.spec.path, FILE_REPOSITORY])
}

/// Reconciles one live Repository.
pub fn reconcile_repository(world: &World, repo: &Repository, now: DateTime<Utc>, plan: &mut Plan) {
    let me = ObjectRef::of(Kind::Repository, &repo.metadata);
    ensure_finalizer(plan, &me, &repo.metadata);
    let old = repo.status.as_ref();
    let mut status = old.cloned().unwrap_or_default();
    initialize(world, repo, &me, &mut status, now, plan);
    summarize(world, &me.key, &mut status);
    status.phase = Some(status.calculate_phase());
    patch_status(plan, &me, old, status, Status::Repository);
}

fn initialize(
    world: &World,
    repo: &Repository,
    me: &ObjectRef,
    status: &mut RepositoryStatus,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    let storage_key = storage_key(repo);
    let path = repository_file(repo);
    let state = world
        .backends
        .get(&storage_key)
        .and_then(|f| f.repositories.get(&path));
    match state {
        Some(FileState::Present) => {
            let msg = format!("{path} written in BackupStorage {storage_key}");
            set_and_announce(
                plan,
                me,
                &mut status.conditions,
                TYPE_REPOSITORY_INITIALIZED,
                true,
                REASON_REPOSITORY_INITIALIZATION_SUCCEEDED,
                msg,
                now,
            );
            return;
        }
        Some(FileState::Failed { message, at }) => {
            let msg = format!(
                "writing {path} in BackupStorage {storage_key} failed: {message}; retrying"
            );
            set_and_announce(
                plan,
                me,
                &mut status.conditions,
                TYPE_REPOSITORY_INITIALIZED,
                false,
                REASON_REPOSITORY_INITIALIZATION_FAILED,
                msg,
                now,
            );
            if now < *at + INIT_RETRY_AFTER {
                plan.wake_at(*at + INIT_RETRY_AFTER);
                return;
            }
        }
        None => {}
    }
    let storage_ready = world
        .backup_storages
        .get(&storage_key)
        .is_some_and(|s| s.calculate_phase() == BackupStoragePhase::Ready);
    let inflight = world
        .inflight
        .contains(&Inflight::InitRepository(storage_key.clone(), path.clone()));
    if storage_ready && !inflight {
        plan.push(Effect::InitRepository {
            storage: ObjectRef {
                kind: Kind::BackupStorage,
                key: storage_key,
            },
            repository: me.clone(),
            path,
            yaml: repository_yaml(repo),
        });
    }
}

/// The `repository.yaml` content: the Repository without status and server fields.
pub fn repository_yaml(repo: &Repository) -> String {
    let mut clean = repo.clone();
    clean.status = None;
    clean.metadata.finalizers = None;
    clean.metadata.deletion_timestamp = None;
    clean.metadata.resource_version = None;
    clean.metadata.uid = None;
    clean.metadata.managed_fields = None;
    serde_yaml::to_string(&clean).unwrap_or_default()
}

/// recentSnapshots, lastBackupTime, snapshotCount, size and integrity from the
/// repository's Snapshot objects.
fn summarize(world: &World, key: &ObjectKey, status: &mut RepositoryStatus) {
    let mut snapshots: Vec<&Snapshot> = world
        .repository_snapshots(&key.namespace, &key.name)
        .collect();
    snapshots.sort_by_key(|s| std::cmp::Reverse((snapshot_time(s), s.metadata.name.clone())));
    status.recent_snapshots = snapshots
        .iter()
        .take(RECENT_SNAPSHOTS)
        .map(|s| SnapshotInfo {
            name: s.metadata.name.clone().unwrap_or_default(),
            phase: s.status.as_ref().and_then(|st| st.phase),
            session: s.spec.session.clone(),
            size: s
                .status
                .as_ref()
                .map(|st| st.size.clone())
                .unwrap_or_default(),
            snapshot_time: s.status.as_ref().and_then(|st| st.snapshot_time),
        })
        .collect();
    let succeeded: Vec<&&Snapshot> = snapshots
        .iter()
        .filter(|s| s.status.as_ref().and_then(|st| st.phase) == Some(SnapshotPhase::Succeeded))
        .collect();
    status.snapshot_count = Some(i32::try_from(snapshots.len()).unwrap_or(i32::MAX));
    let newest = succeeded.first();
    status.last_backup_time = newest
        .and_then(|s| s.status.as_ref())
        .and_then(|st| st.snapshot_time);
    // Restic deduplicates, so the newest snapshot's component sizes are the repository's.
    status.size = newest
        .and_then(|s| s.status.as_ref())
        .map(|st| st.size.clone())
        .unwrap_or_default();
    status.integrity = newest
        .and_then(|s| s.status.as_ref())
        .and_then(|st| st.integrity);
    let mut paths: Vec<String> = snapshots
        .iter()
        .flat_map(|s| {
            s.status
                .iter()
                .flat_map(|st| st.components.values().map(|c| c.path.clone()))
        })
        .filter(|p| !p.is_empty())
        .collect();
    paths.sort();
    paths.dedup();
    status.component_paths = paths;
}

/// `status.snapshotTime`, else creation time, of a snapshot.
pub fn snapshot_time(snapshot: &Snapshot) -> Option<DateTime<Utc>> {
    snapshot
        .status
        .as_ref()
        .and_then(|s| s.snapshot_time)
        .or_else(|| crate::world::object::created_at(&snapshot.metadata))
}
