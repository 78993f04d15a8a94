//! Disaster recovery: a Ready BackupStorage whose backend listing holds
//! `<dir>/repository.yaml` or `<dir>/snapshots/<name>.yaml` files without a matching
//! object re-creates those Repository and Snapshot objects (§"Backend layout").
//!
//! Only files found by a listing are recovered (`BackendFacts::found_*`), never files
//! this control plane wrote itself, and an object the user deletes is not brought back
//! by the same listing (the world forgets the listing entry when the object goes).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::api::label::CLEANUP_FINALIZER;
use crate::api::{BackupStorage, Kind, ObjectReference, Repository, Snapshot};
use crate::effect::{Effect, Plan};
use crate::event::Event;
use crate::world::{Object, ObjectKey, ObjectRef, Status, World};

use super::backup_storage::same_dir;
use super::repository::storage_key;

/// Event reason when an object is re-created from a backend file.
pub const REASON_RECOVERED: &str = "RecoveredFromBackend";

/// Re-creates missing Repositories, then missing Snapshots of existing Repositories.
/// Snapshots of a Repository recovered in this pass follow on the next reconcile.
pub fn recover(world: &World, storage: &BackupStorage, plan: &mut Plan) {
    let key = ObjectKey::of(&storage.metadata);
    let Some(facts) = world.backends.get(&key) else {
        return;
    };
    let me = ObjectRef {
        kind: Kind::BackupStorage,
        key: key.clone(),
    };
    for (dir, found) in &facts.found_repositories {
        if let Some(repo) = missing_repository(world, &key, dir, found) {
            let message = format!(
                "Repository {} re-created from {dir}/repository.yaml found in BackupStorage {key}",
                ObjectKey::of(&repo.metadata)
            );
            plan.push(Effect::Apply(Object::Repository(repo)));
            plan.push(Effect::Emit(Event::normal(
                me.clone(),
                REASON_RECOVERED,
                message,
            )));
        }
    }
    for (path, found) in &facts.found_snapshots {
        let Some((snapshot, status)) = missing_snapshot(world, &key, found) else {
            continue;
        };
        let snap_ref = ObjectRef::of(Kind::Snapshot, &snapshot.metadata);
        let message = format!(
            "Snapshot {} re-created from {path} found in BackupStorage {key}",
            snap_ref.key
        );
        plan.push(Effect::Apply(Object::Snapshot(snapshot)));
        if let Some(status) = status {
            plan.push(Effect::PatchStatus {
                object: snap_ref,
                status: Status::Snapshot(status),
            });
        }
        plan.push(Effect::Emit(Event::normal(
            me.clone(),
            REASON_RECOVERED,
            message,
        )));
    }
}

/// Server-owned metadata dropped, the cleanup finalizer set: what a create sends.
fn clean_meta(found: &ObjectMeta, namespace: &str) -> ObjectMeta {
    ObjectMeta {
        name: found.name.clone(),
        namespace: Some(namespace.to_owned()),
        labels: found.labels.clone(),
        annotations: found.annotations.clone(),
        finalizers: Some(vec![CLEANUP_FINALIZER.to_owned()]),
        creation_timestamp: found.creation_timestamp.clone(),
        ..ObjectMeta::default()
    }
}

/// The Repository to re-create from `dir/repository.yaml`, unless an object already
/// has its name or its directory in this storage.
fn missing_repository(
    world: &World,
    storage: &ObjectKey,
    dir: &str,
    found: &Repository,
) -> Option<Repository> {
    let name = found.metadata.name.clone().filter(|n| !n.is_empty())?;
    let namespace = found
        .metadata
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| storage.namespace.clone());
    if world
        .repositories
        .contains_key(&ObjectKey::new(namespace.clone(), name))
    {
        return None;
    }
    if world
        .storage_repositories(storage)
        .any(|r| same_dir(&r.spec.path, dir))
    {
        return None;
    }
    let mut spec = found.spec.clone();
    // The files live in this storage, whatever the old control plane called it.
    spec.storage_ref = ObjectReference::new(storage.namespace.clone(), storage.name.clone());
    if !same_dir(&spec.path, dir) {
        spec.path = dir.to_owned();
    }
    Some(Repository {
        metadata: clean_meta(&found.metadata, &namespace),
        spec,
        status: None,
    })
}

/// The Snapshot (spec, then status) to re-create from a snapshot YAML, once its
/// Repository exists in this storage and no Snapshot of that name does.
fn missing_snapshot(
    world: &World,
    storage: &ObjectKey,
    found: &Snapshot,
) -> Option<(Snapshot, Option<crate::api::SnapshotStatus>)> {
    let name = found.metadata.name.clone().filter(|n| !n.is_empty())?;
    let namespace = found
        .metadata
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| storage.namespace.clone());
    let repo = world
        .repositories
        .get(&ObjectKey::new(
            namespace.clone(),
            found.spec.repository.clone(),
        ))
        .filter(|r| storage_key(r) == *storage && r.metadata.deletion_timestamp.is_none())?;
    if world
        .snapshots
        .contains_key(&ObjectKey::new(namespace.clone(), name))
    {
        return None;
    }
    let mut meta = clean_meta(&found.metadata, &namespace);
    meta.owner_references = Some(vec![OwnerReference {
        api_version: Kind::Repository.api_version(),
        kind: Kind::Repository.name().to_owned(),
        name: found.spec.repository.clone(),
        uid: repo.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }]);
    let snapshot = Snapshot {
        metadata: meta,
        spec: found.spec.clone(),
        status: None,
    };
    Some((snapshot, found.status.clone()))
}
