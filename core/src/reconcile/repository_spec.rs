//! The Repository objects a BackupConfiguration asks for: one per
//! `sessions[*].repositories[*]`, created or updated to match the configuration.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::backup_configuration::{BackupConfigurationSpec, RepositoryInfo};
use crate::api::label::{
    CLEANUP_FINALIZER, INVOKER_KIND, INVOKER_NAME, INVOKER_NAMESPACE, MANAGED_BY,
    MANAGED_BY_KUBESTASH,
};
use crate::api::{
    BackupConfigDeletionPolicy, BackupConfiguration, DeletionPolicy, ObjectReference, Repository,
    RepositorySpec, TypedObjectReference,
};
use crate::effect::{Effect, Plan};
use crate::world::object::to_time;
use crate::world::{Object, ObjectKey, World};

/// Creates or updates every Repository of the configuration; returns each repository
/// name with its current object (if it exists yet), in spec order.
pub fn ensure_repositories<'w>(
    world: &'w World,
    bc: &BackupConfiguration,
    spec: &BackupConfigurationSpec,
    now: DateTime<Utc>,
    plan: &mut Plan,
) -> Vec<(String, Option<&'w Repository>)> {
    let namespace = bc.metadata.namespace.clone().unwrap_or_default();
    let mut out = Vec::new();
    for info in spec.sessions.iter().flat_map(|s| &s.repositories) {
        let key = ObjectKey::new(namespace.clone(), info.name.clone());
        let existing = world.repositories.get(&key);
        let mut desired = desired_repository(bc, spec, info, &namespace);
        // `paused` belongs to the user: the configuration never un-pauses a Repository.
        desired.spec.paused = existing.is_some_and(|r| r.spec.paused);
        let needs_apply = match existing {
            None => true,
            Some(r) => r.spec != desired.spec || !labels_contain(&r.metadata, &desired.metadata),
        };
        // A Repository is not (re-)created in a storage that is absent or being deleted:
        // the storage's cleanup deletes its Repositories, and re-creating them would
        // keep it from ever finishing.
        let storage_alive = world
            .backup_storages
            .get(&super::repository::storage_key(&desired))
            .is_some_and(|s| s.metadata.deletion_timestamp.is_none());
        let creatable = existing.is_some() || storage_alive;
        if needs_apply
            && creatable
            && existing.is_none_or(|r| r.metadata.deletion_timestamp.is_none())
        {
            let mut object = desired;
            object.metadata.creation_timestamp = existing.map_or(Some(to_time(now)), |r| {
                r.metadata.creation_timestamp.clone()
            });
            plan.push(Effect::Apply(Object::Repository(object)));
        }
        out.push((info.name.clone(), existing));
    }
    out
}

fn labels_contain(have: &ObjectMeta, want: &ObjectMeta) -> bool {
    let have = have.labels.clone().unwrap_or_default();
    want.labels
        .iter()
        .flatten()
        .all(|(k, v)| have.get(k) == Some(v))
}

/// The Repository for one repository entry of a configuration.
pub fn desired_repository(
    bc: &BackupConfiguration,
    spec: &BackupConfigurationSpec,
    info: &RepositoryInfo,
    namespace: &str,
) -> Repository {
    let backend = spec.backends.iter().find(|b| b.name == info.backend);
    let storage = backend
        .and_then(|b| b.storage_ref.clone())
        .unwrap_or_default();
    let mut target = spec.target.clone().unwrap_or_default();
    if target.namespace.is_empty() {
        target.namespace = namespace.to_owned();
    }
    let encryption_secret = info
        .encryption_secret
        .clone()
        .map(|s| ObjectReference::new(s.namespace_or(namespace).to_owned(), s.name.clone()));
    let labels = BTreeMap::from([
        (MANAGED_BY.to_owned(), MANAGED_BY_KUBESTASH.to_owned()),
        (INVOKER_KIND.to_owned(), "BackupConfiguration".to_owned()),
        (
            INVOKER_NAME.to_owned(),
            bc.metadata.name.clone().unwrap_or_default(),
        ),
        (INVOKER_NAMESPACE.to_owned(), namespace.to_owned()),
    ]);
    Repository {
        metadata: ObjectMeta {
            name: Some(info.name.clone()),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels),
            finalizers: Some(vec![CLEANUP_FINALIZER.to_owned()]),
            ..ObjectMeta::default()
        },
        spec: RepositorySpec {
            app_ref: TypedObjectReference { ..target },
            storage_ref: ObjectReference::new(
                storage.namespace_or(namespace).to_owned(),
                storage.name.clone(),
            ),
            path: info.directory.clone(),
            deletion_policy: Some(match info.deletion_policy {
                Some(BackupConfigDeletionPolicy::WipeOut) => DeletionPolicy::WipeOut,
                _ => DeletionPolicy::Delete,
            }),
            encryption_secret,
            paused: false,
        },
        status: None,
    }
}
