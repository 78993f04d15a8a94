//! The BackupConfiguration and RestoreSession validation webhooks, as pure checks that
//! return every problem found (a user fixes them all in one edit).

use std::collections::BTreeSet;

use crate::api::backup_configuration::BackupConfigurationSpec;
use crate::api::component::SNAPSHOT_LATEST;
use crate::api::RestoreSession;
use crate::plan::{GoDuration, Schedule};
use crate::reconcile::hook_support::hook_problems;
use crate::world::{ObjectKey, World};

/// Problems with a BackupConfiguration's effective spec; empty when valid.
pub fn validate_configuration(
    world: &World,
    key: &ObjectKey,
    spec: &BackupConfigurationSpec,
) -> Vec<String> {
    let mut problems = Vec::new();
    if spec.target.as_ref().is_none_or(|t| t.name.is_empty()) {
        problems.push("spec.target is required".to_owned());
    }
    if spec.backends.is_empty() {
        problems.push("spec.backends needs at least one backend (or a default BackupStorage in the namespace)".to_owned());
    }
    let mut names = BTreeSet::new();
    for backend in &spec.backends {
        if !names.insert(backend.name.as_str()) {
            problems.push(format!(
                "backend name {:?} is used more than once",
                backend.name
            ));
        }
        if backend
            .storage_ref
            .as_ref()
            .is_none_or(|s| s.name.is_empty())
        {
            problems.push(format!("backend {:?} needs storageRef", backend.name));
        }
    }
    if spec.sessions.is_empty() {
        problems.push("spec.sessions needs at least one session".to_owned());
    }
    let mut sessions = BTreeSet::new();
    for session in &spec.sessions {
        if session.name.is_empty() {
            problems.push("every session needs a name".to_owned());
        } else if !sessions.insert(session.name.as_str()) {
            problems.push(format!(
                "session name {:?} is used more than once",
                session.name
            ));
        }
        problems.extend(session_problems(session));
    }
    problems.extend(repository_problems(world, key, spec));
    for (i, session) in spec.sessions.iter().enumerate() {
        if let Some(hooks) = &session.hooks {
            let field = |stage: &str| format!("spec.sessions[{i}].hooks.{stage}");
            problems.extend(hook_problems(
                world,
                &key.namespace,
                &field("preBackup"),
                &hooks.pre_backup,
            ));
            problems.extend(hook_problems(
                world,
                &key.namespace,
                &field("postBackup"),
                &hooks.post_backup,
            ));
        }
    }
    problems
}

/// HookTemplates of a RestoreSession's hooks that cannot run on this control plane.
pub fn restore_hook_problems(world: &World, restore: &RestoreSession) -> Vec<String> {
    let namespace = restore.metadata.namespace.as_deref().unwrap_or_default();
    let Some(hooks) = &restore.spec.hooks else {
        return Vec::new();
    };
    let mut problems = hook_problems(
        world,
        namespace,
        "spec.hooks.preRestore",
        &hooks.pre_restore,
    );
    problems.extend(hook_problems(
        world,
        namespace,
        "spec.hooks.postRestore",
        &hooks.post_restore,
    ));
    problems
}

fn session_problems(session: &crate::api::backup_configuration::Session) -> Vec<String> {
    let mut problems = Vec::new();
    let name = &session.name;
    match &session.scheduler {
        None => problems.push(format!("session {name:?} needs a scheduler")),
        Some(s) => {
            if let Err(e) = Schedule::parse(&s.schedule) {
                problems.push(format!("session {name:?}: {e}"));
            }
        }
    }
    let addon = session.addon.as_ref();
    if addon.is_none_or(|a| a.name.is_empty()) {
        problems.push(format!("session {name:?} needs addon.name"));
    }
    if addon.is_none_or(|a| a.tasks.is_empty() || a.tasks.iter().any(|t| t.name.is_empty())) {
        problems.push(format!(
            "session {name:?} needs at least one addon task, each with a name"
        ));
    }
    if session.repositories.is_empty() {
        problems.push(format!("session {name:?} needs at least one repository"));
    }
    if let Some(timeout) = &session.backup_timeout {
        if let Err(e) = GoDuration::parse(timeout) {
            problems.push(format!("session {name:?}: backupTimeout {timeout:?}: {e}"));
        }
    }
    if let Some(retry) = &session.retry_config {
        if !retry.delay.is_empty() {
            if let Err(e) = GoDuration::parse(&retry.delay) {
                problems.push(format!(
                    "session {name:?}: retryConfig.delay {:?}: {e}",
                    retry.delay
                ));
            }
        }
    }
    problems
}

/// Repository rules: backend exists, directory set, names unique, no two repositories
/// in one directory of one backend, an existing Repository keeps its target and storage.
fn repository_problems(
    world: &World,
    key: &ObjectKey,
    spec: &BackupConfigurationSpec,
) -> Vec<String> {
    let mut problems = Vec::new();
    let (mut names, mut dirs) = (BTreeSet::new(), BTreeSet::new());
    for repo in spec.sessions.iter().flat_map(|s| &s.repositories) {
        let backend = spec.backends.iter().find(|b| b.name == repo.backend);
        if backend.is_none() {
            problems.push(format!(
                "repository {:?} refers to backend {:?}, which is not in spec.backends",
                repo.name, repo.backend
            ));
        }
        if repo.directory.is_empty() {
            problems.push(format!("repository {:?} needs a directory", repo.name));
        }
        if !names.insert(repo.name.as_str()) {
            problems.push(format!(
                "repository name {:?} is used more than once",
                repo.name
            ));
        }
        if !dirs.insert((repo.backend.as_str(), repo.directory.trim_matches('/'))) {
            problems.push(format!(
                "directory {:?} is used by more than one repository of backend {:?}",
                repo.directory, repo.backend
            ));
        }
        let existing = world
            .repositories
            .get(&ObjectKey::new(key.namespace.clone(), repo.name.clone()));
        if let (Some(existing), Some(backend)) = (existing, backend) {
            let storage = backend.storage_ref.clone().unwrap_or_default();
            let same_storage = existing.spec.storage_ref.name == storage.name
                && existing.spec.storage_ref.namespace_or(&key.namespace)
                    == storage.namespace_or(&key.namespace);
            let same_target = spec.target.as_ref().is_some_and(|t| {
                t.name == existing.spec.app_ref.name && t.kind == existing.spec.app_ref.kind
            });
            if !same_storage || !same_target {
                problems.push(format!(
                    "Repository {}/{} already exists with another target or storage: use another repository name",
                    key.namespace, repo.name
                ));
            }
        }
    }
    problems.extend(usage_problems(world, &key.namespace, spec));
    problems
}

/// Backends whose BackupStorage or RetentionPolicy exists but does not allow `namespace`
/// (KubeStash's webhook refuses these). One that does not exist yet is not a spec problem:
/// the configuration waits NotReady until it appears.
fn usage_problems(world: &World, namespace: &str, spec: &BackupConfigurationSpec) -> Vec<String> {
    let labels = world.namespace_labels(namespace);
    let mut problems = Vec::new();
    for backend in &spec.backends {
        if let Some(r) = &backend.storage_ref {
            let key = ObjectKey::new(r.namespace_or(namespace), r.name.clone());
            if let Some(storage) = world.backup_storages.get(&key) {
                if !storage.usage_allowed(namespace, labels) {
                    problems.push(format!(
                        "BackupStorage {key} of backend {:?} does not allow use from namespace {namespace} (see its usagePolicy)",
                        backend.name
                    ));
                }
            }
        }
        if let Some(r) = &backend.retention_policy {
            let key = ObjectKey::new(r.namespace_or(namespace), r.name.clone());
            if let Some(policy) = world.retention_policies.get(&key) {
                let allowed = crate::api::usage_allowed(
                    policy.spec.usage_policy.as_ref(),
                    &key.namespace,
                    namespace,
                    labels,
                );
                if !allowed {
                    problems.push(format!(
                        "RetentionPolicy {key} of backend {:?} does not allow use from namespace {namespace} (see its usagePolicy)",
                        backend.name
                    ));
                }
            }
        }
    }
    problems
}

/// Problems with a RestoreSession's spec; empty when valid.
pub fn validate_restore(restore: &RestoreSession) -> Vec<String> {
    let mut problems = Vec::new();
    match &restore.spec.data_source {
        None => problems.push("spec.dataSource is required".to_owned()),
        Some(ds) => {
            if ds.snapshot.is_empty() {
                problems.push(
                    "spec.dataSource.snapshot is required (a Snapshot name or \"latest\")"
                        .to_owned(),
                );
            }
            if ds.snapshot == SNAPSHOT_LATEST && ds.repository.is_empty() {
                problems.push(
                    "spec.dataSource.repository is required when snapshot is \"latest\"".to_owned(),
                );
            }
            if ds.pitr.is_some()
                && (ds.repository.is_empty()
                    || ds.pitr.as_ref().is_some_and(|p| p.target_time.is_none()))
            {
                problems.push(
                    "point-in-time recovery needs dataSource.repository and pitr.targetTime"
                        .to_owned(),
                );
            }
        }
    }
    let addon = restore.spec.addon.as_ref();
    if addon.is_none_or(|a| a.name.is_empty()) {
        problems.push("spec.addon.name is required".to_owned());
    }
    if addon.is_none_or(|a| a.tasks.is_empty() || a.tasks.iter().any(|t| t.name.is_empty())) {
        problems.push("spec.addon needs at least one task, each with a name".to_owned());
    }
    if let Some(timeout) = &restore.spec.restore_timeout {
        if let Err(e) = GoDuration::parse(timeout) {
            problems.push(format!("restoreTimeout {timeout:?}: {e}"));
        }
    }
    problems
}

/// Isolation of a RestoreSession that reads a Repository of another namespace: allowed
/// only when the BackupStorage holding that Repository lets the RestoreSession's
/// namespace use it (its `usagePolicy`, absent = same namespace only), the same rule a
/// BackupConfiguration meets to write there. Without it any namespace could read (and
/// decrypt, with the Repository's encryption Secret) another namespace's backups by
/// setting `dataSource.namespace`.
///
/// Only a decided refusal is a problem: a Repository or BackupStorage not (yet) seen
/// gives none, since the restore job cannot be built without them and this check runs
/// again, before the job, on every reconcile.
pub fn restore_access_problems(world: &World, restore: &RestoreSession) -> Vec<String> {
    let own = restore.metadata.namespace.as_deref().unwrap_or_default();
    let source_ns = restore.data_source_namespace();
    let Some(ds) = restore.spec.data_source.as_ref() else {
        return Vec::new();
    };
    if source_ns == own {
        return Vec::new();
    }
    // A named Snapshot may stand without `repository`: its own spec names the Repository.
    let repository = if ds.repository.is_empty() {
        let snapshot = world
            .snapshots
            .get(&ObjectKey::new(source_ns, ds.snapshot.clone()));
        match snapshot {
            Some(s) => s.spec.repository.clone(),
            None => return Vec::new(),
        }
    } else {
        ds.repository.clone()
    };
    let repo_key = ObjectKey::new(source_ns, repository);
    let Some(repo) = world.repositories.get(&repo_key) else {
        return Vec::new();
    };
    let storage_ref = &repo.spec.storage_ref;
    let storage_key = ObjectKey::new(
        storage_ref.namespace_or(source_ns),
        storage_ref.name.clone(),
    );
    let Some(storage) = world.backup_storages.get(&storage_key) else {
        return Vec::new();
    };
    if storage.usage_allowed(own, world.namespace_labels(own)) {
        return Vec::new();
    }
    vec![format!(
        "spec.dataSource reads Repository {repo_key} of another namespace, but its BackupStorage \
         {storage_key} does not allow use from namespace {own} (see the BackupStorage's \
         usagePolicy.allowedNamespaces)"
    )]
}
