//! Deletion behind the `kubestash.com/cleanup` finalizer, per deletion policy:
//! BackupStorage (`Delete` keeps data, `WipeOut` wipes the root), Repository (its
//! Snapshots, then its directory on `WipeOut`), Snapshot (`WipeOut` forgets its restic
//! snapshots), BackupConfiguration (its Repositories unless `Retain`, its sessions).

use chrono::{DateTime, Duration, Utc};

use crate::api::backup_configuration::RepositoryInfo;
use crate::api::label::CLEANUP_FINALIZER;
use crate::api::{
    BackupConfigDeletionPolicy, BackupConfiguration, BackupStorage, DeletionPolicy, Kind,
    Repository, Snapshot,
};
use crate::effect::{Effect, Plan};
use crate::event::Event;
use crate::plan::naming::{join_path, restic_repo_dir, snapshot_metadata_path};
use crate::world::object::{has_finalizer, is_deleting};
use crate::world::query::invoker_is;
use crate::world::{FileState, Inflight, ObjectKey, ObjectRef, World};

use super::repository::storage_key;

/// Wait before retrying failed backend cleanup.
pub const CLEANUP_RETRY_AFTER: Duration = Duration::seconds(30);

/// Plans cleanup for every object being deleted.
pub fn reconcile_deletions(world: &World, now: DateTime<Utc>, plan: &mut Plan) {
    let held = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        is_deleting(m) && has_finalizer(m, CLEANUP_FINALIZER)
    };
    for s in world.backup_storages.values().filter(|o| held(&o.metadata)) {
        storage(world, s, now, plan);
    }
    for r in world.repositories.values().filter(|o| held(&o.metadata)) {
        repository(world, r, now, plan);
    }
    for s in world.snapshots.values().filter(|o| held(&o.metadata)) {
        snapshot(world, s, now, plan);
    }
    for c in world
        .backup_configurations
        .values()
        .filter(|o| held(&o.metadata))
    {
        configuration(world, c, now, plan);
    }
    for s in world.backup_sessions.values().filter(|o| held(&o.metadata)) {
        plan.push(Effect::RemoveFinalizer(ObjectRef::of(
            Kind::BackupSession,
            &s.metadata,
        )));
    }
    for r in world
        .restore_sessions
        .values()
        .filter(|o| held(&o.metadata))
    {
        plan.push(Effect::RemoveFinalizer(ObjectRef::of(
            Kind::RestoreSession,
            &r.metadata,
        )));
    }
}

fn storage(world: &World, storage: &BackupStorage, now: DateTime<Utc>, plan: &mut Plan) {
    let me = ObjectRef::of(Kind::BackupStorage, &storage.metadata);
    let mut waiting = false;
    for repo in world.storage_repositories(&me.key) {
        waiting = true;
        if !is_deleting(&repo.metadata) {
            plan.push(Effect::Delete {
                object: ObjectRef::of(Kind::Repository, &repo.metadata),
                at: now,
            });
        }
    }
    if waiting {
        return;
    }
    if storage.deletion_policy() == DeletionPolicy::WipeOut && !wiped(world, &me, "", now, plan) {
        return;
    }
    plan.push(Effect::Emit(Event::normal(
        me.clone(),
        "BackupStorageDeleted",
        format!(
            "BackupStorage {} cleaned up ({:?})",
            me.key,
            storage.deletion_policy()
        ),
    )));
    plan.push(Effect::RemoveFinalizer(me));
}

fn repository(world: &World, repo: &Repository, now: DateTime<Utc>, plan: &mut Plan) {
    let me = ObjectRef::of(Kind::Repository, &repo.metadata);
    let mut waiting = false;
    for snap in world.repository_snapshots(&me.key.namespace, &me.key.name) {
        waiting = true;
        if !is_deleting(&snap.metadata) {
            plan.push(Effect::Delete {
                object: ObjectRef::of(Kind::Snapshot, &snap.metadata),
                at: now,
            });
        }
    }
    if waiting {
        return;
    }
    let storage_key = storage_key(repo);
    let storage = world.backup_storages.get(&storage_key);
    // A storage deleted with `Delete` keeps all data, whatever the repositories say.
    let keep_data = storage
        .is_none_or(|s| is_deleting(&s.metadata) && s.deletion_policy() == DeletionPolicy::Delete);
    if repo.deletion_policy() == DeletionPolicy::WipeOut && !keep_data {
        let target = ObjectRef {
            kind: Kind::BackupStorage,
            key: storage_key,
        };
        // Effects carry backend paths relative to the root, without a leading slash.
        if !wiped(world, &target, &join_path(&[&repo.spec.path]), now, plan) {
            return;
        }
    }
    plan.push(Effect::RemoveFinalizer(me));
}

/// Requests a wipe of `path` and reports whether it is done.
fn wiped(
    world: &World,
    storage: &ObjectRef,
    path: &str,
    now: DateTime<Utc>,
    plan: &mut Plan,
) -> bool {
    match world
        .backends
        .get(&storage.key)
        .and_then(|f| f.wiped.get(path))
    {
        Some(FileState::Present) => return true,
        Some(FileState::Failed { message, at }) if now < *at + CLEANUP_RETRY_AFTER => {
            let _ = message;
            plan.wake_at(*at + CLEANUP_RETRY_AFTER);
            return false;
        }
        _ => {}
    }
    if !world
        .inflight
        .contains(&Inflight::Wipe(storage.key.clone(), path.to_owned()))
    {
        plan.push(Effect::WipeData {
            storage: storage.clone(),
            path: path.to_owned(),
        });
    }
    false
}

fn snapshot(world: &World, snapshot: &Snapshot, now: DateTime<Utc>, plan: &mut Plan) {
    let me = ObjectRef::of(Kind::Snapshot, &snapshot.metadata);
    let repo = world.repositories.get(&ObjectKey::new(
        me.key.namespace.clone(),
        snapshot.spec.repository.clone(),
    ));
    // Data goes with the repository when it is itself being deleted.
    let forget = snapshot.deletion_policy() == DeletionPolicy::WipeOut
        && repo.is_some_and(|r| !is_deleting(&r.metadata));
    if let (true, Some(repo)) = (forget, repo) {
        let storage = ObjectRef {
            kind: Kind::BackupStorage,
            key: storage_key(repo),
        };
        let metadata_path = snapshot_metadata_path(&repo.spec.path, &me.key.name);
        match world
            .backends
            .get(&storage.key)
            .and_then(|f| f.forgotten.get(&metadata_path))
        {
            Some(FileState::Present) => {}
            Some(FileState::Failed { at, .. }) if now < *at + CLEANUP_RETRY_AFTER => {
                plan.wake_at(*at + CLEANUP_RETRY_AFTER);
                return;
            }
            _ => {
                if !world.inflight.contains(&Inflight::Forget(me.key.clone())) {
                    let restic = restic_ids(repo, snapshot);
                    plan.push(Effect::ForgetSnapshots {
                        storage,
                        snapshot: me.clone(),
                        restic,
                        tagged_in: component_dirs(repo, snapshot),
                        metadata_path,
                    });
                }
                return;
            }
        }
    }
    plan.push(Effect::RemoveFinalizer(me));
}

/// The restic repository dir of every component of a snapshot, reported or only planned.
fn component_dirs(repo: &Repository, snapshot: &Snapshot) -> Vec<String> {
    let Some(status) = snapshot.status.as_ref() else {
        return Vec::new();
    };
    let dirs: std::collections::BTreeSet<String> = status
        .components
        .values()
        .filter(|c| !c.path.is_empty())
        .map(|c| restic_repo_dir(&repo.spec.path, &c.path))
        .collect();
    dirs.into_iter().collect()
}

/// `(restic repository dir, restic snapshot id)` of every component of a snapshot.
fn restic_ids(repo: &Repository, snapshot: &Snapshot) -> Vec<(String, String)> {
    let Some(status) = snapshot.status.as_ref() else {
        return Vec::new();
    };
    status
        .components
        .values()
        .flat_map(|c| {
            let dir = restic_repo_dir(&repo.spec.path, &c.path);
            c.restic_stats
                .iter()
                .filter_map(move |s| s.summary.as_ref().map(|sum| (dir.clone(), sum.id.clone())))
        })
        .filter(|(_, id)| !id.is_empty())
        .collect()
}

fn configuration(world: &World, config: &BackupConfiguration, now: DateTime<Utc>, plan: &mut Plan) {
    let me = ObjectRef::of(Kind::BackupConfiguration, &config.metadata);
    let mut waiting = false;
    for session in world
        .backup_sessions
        .iter()
        .filter(|(k, s)| k.namespace == me.key.namespace && invoker_is(s, &me.key.name))
        .map(|(_, s)| s)
    {
        waiting = true;
        if !is_deleting(&session.metadata) {
            plan.push(Effect::Delete {
                object: ObjectRef::of(Kind::BackupSession, &session.metadata),
                at: now,
            });
        }
    }
    let repos: Vec<&RepositoryInfo> = config
        .spec
        .sessions
        .iter()
        .flat_map(|s| &s.repositories)
        .collect();
    for info in repos
        .into_iter()
        .filter(|r| r.deletion_policy != Some(BackupConfigDeletionPolicy::Retain))
    {
        if let Some(repo) = world
            .repositories
            .get(&ObjectKey::new(me.key.namespace.clone(), info.name.clone()))
        {
            waiting = true;
            if !is_deleting(&repo.metadata) {
                plan.push(Effect::Delete {
                    object: ObjectRef::of(Kind::Repository, &repo.metadata),
                    at: now,
                });
            }
        }
    }
    if !waiting {
        plan.push(Effect::RemoveFinalizer(me));
    }
}
