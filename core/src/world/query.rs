//! Read-only lookups over the world that several decisions share.

use std::collections::{BTreeMap, BTreeSet};

use crate::api::restore_session::RestorePhase;
use crate::api::{
    AppBinding, BackupConfiguration, BackupSession, BackupStorage, Repository, RestoreSession,
    Snapshot, TypedObjectReference,
};

use super::object::is_deleting;
use super::{ObjectKey, Secret, World};

static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

/// The Secrets the control plane itself reads (the executor reads its own): each
/// BackupStorage's credentials (validation, `metadata.yaml` and `repository.yaml`) and
/// each Repository's encryption Secret (forgetting a Snapshot's data). The operator
/// reads exactly these by name instead of caching every Secret of the cluster.
pub fn control_plane_secrets<'a>(
    storages: impl IntoIterator<Item = &'a BackupStorage>,
    repositories: impl IntoIterator<Item = &'a Repository>,
) -> BTreeSet<ObjectKey> {
    let namespace = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.namespace.clone().unwrap_or_default()
    };
    let mut out = BTreeSet::new();
    for storage in storages {
        if let Some(name) = storage.spec.storage.secret_name() {
            out.insert(ObjectKey::new(namespace(&storage.metadata), name));
        }
    }
    for repo in repositories {
        if let Some(r) = repo
            .spec
            .encryption_secret
            .as_ref()
            .filter(|r| !r.name.is_empty())
        {
            let own = namespace(&repo.metadata);
            out.insert(ObjectKey::new(r.namespace_or(&own), r.name.clone()));
        }
    }
    out
}

/// Kind of the BackupSession invoker this crate creates.
pub const INVOKER_KIND_BACKUP_CONFIGURATION: &str = "BackupConfiguration";

impl World {
    /// Labels of `namespace` (empty when unknown).
    pub fn namespace_labels(&self, namespace: &str) -> &BTreeMap<String, String> {
        self.namespaces.get(namespace).unwrap_or(&NO_LABELS)
    }

    /// The Secret `namespace/name`.
    pub fn secret(&self, namespace: &str, name: &str) -> Option<&Secret> {
        self.secrets.get(&ObjectKey::new(namespace, name))
    }

    /// Snapshots of the Repository `namespace/repository`.
    pub fn repository_snapshots<'a>(
        &'a self,
        namespace: &str,
        repository: &str,
    ) -> impl Iterator<Item = &'a Snapshot> + 'a {
        let (namespace, repository) = (namespace.to_owned(), repository.to_owned());
        self.snapshots
            .iter()
            .filter(move |(k, s)| k.namespace == namespace && s.spec.repository == repository)
            .map(|(_, s)| s)
    }

    /// Snapshots created by the BackupSession `namespace/backup_session`.
    pub fn session_snapshots<'a>(
        &'a self,
        namespace: &'a str,
        backup_session: &'a str,
    ) -> impl Iterator<Item = &'a Snapshot> + 'a {
        self.snapshots
            .iter()
            .filter(move |(k, s)| {
                k.namespace == namespace && s.spec.backup_session == backup_session
            })
            .map(|(_, s)| s)
    }

    /// BackupSessions of one session of the BackupConfiguration `namespace/configuration`.
    pub fn configuration_sessions<'a>(
        &'a self,
        namespace: &'a str,
        configuration: &'a str,
        session: &'a str,
    ) -> impl Iterator<Item = &'a BackupSession> + 'a {
        self.backup_sessions
            .iter()
            .filter(move |(k, s)| {
                k.namespace == namespace
                    && s.spec.session == session
                    && invoker_is(s, configuration)
            })
            .map(|(_, s)| s)
    }

    /// Repositories stored in the BackupStorage `storage`.
    pub fn storage_repositories<'a>(
        &'a self,
        storage: &'a ObjectKey,
    ) -> impl Iterator<Item = &'a Repository> + 'a {
        self.repositories
            .iter()
            .filter(move |(k, r)| {
                r.spec.storage_ref.name == storage.name
                    && r.spec.storage_ref.namespace_or(&k.namespace) == storage.namespace
            })
            .map(|(_, r)| r)
    }

    /// The AppBinding of a target (same namespace and name as the target).
    pub fn app_binding(
        &self,
        target: &TypedObjectReference,
        default_namespace: &str,
    ) -> Option<&AppBinding> {
        let namespace = if target.namespace.is_empty() {
            default_namespace
        } else {
            &target.namespace
        };
        self.app_bindings
            .get(&ObjectKey::new(namespace, target.name.clone()))
    }

    /// BackupConfigurations whose target is `target`.
    pub fn target_configurations<'a>(
        &'a self,
        target: &'a ObjectKey,
    ) -> impl Iterator<Item = &'a BackupConfiguration> + 'a {
        self.backup_configurations
            .iter()
            .filter(move |(k, c)| {
                c.spec
                    .target
                    .as_ref()
                    .is_some_and(|t| target_key(t, &k.namespace) == *target)
            })
            .map(|(_, c)| c)
    }

    /// Whether a RestoreSession is restoring into `target` right now: backups of the
    /// target are paused while it is not terminal.
    pub fn restore_active_on(&self, target: &ObjectKey) -> Option<&RestoreSession> {
        self.restore_sessions.iter().find_map(|(k, r)| {
            let aims = r
                .spec
                .target
                .as_ref()
                .is_some_and(|t| target_key(t, &k.namespace) == *target);
            let phase = r.status.as_ref().and_then(|s| s.phase);
            let active = !phase.is_some_and(RestorePhase::is_terminal);
            (aims && active && !is_deleting(&r.metadata)).then_some(r)
        })
    }
}

/// Namespace and name of a target, defaulting the namespace to the referrer's.
pub fn target_key(target: &TypedObjectReference, default_namespace: &str) -> ObjectKey {
    let namespace = if target.namespace.is_empty() {
        default_namespace
    } else {
        &target.namespace
    };
    ObjectKey::new(namespace, target.name.clone())
}

/// Whether `session` was invoked by the BackupConfiguration named `configuration`.
pub fn invoker_is(session: &BackupSession, configuration: &str) -> bool {
    session
        .spec
        .invoker
        .as_ref()
        .is_some_and(|i| i.kind == INVOKER_KIND_BACKUP_CONFIGURATION && i.name == configuration)
}
