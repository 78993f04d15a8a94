//! Resolving a [`JobSpec`]'s references against the world: the AppBinding and its auth
//! Secret, each BackupStorage and its Secret, each encryption Secret, the task params.
//! This is the reading a KubeStash executor Job does at start; nothing is decided here.

use std::collections::BTreeMap;
use std::path::Path;

use cairn_core::api::component::KEY_RESTIC_PASSWORD;
use cairn_core::api::{BackupStorage, ObjectReference};
use cairn_core::job::{JobSpec, RestoreComponentSource};
use cairn_core::world::{ObjectKey, World};
use cairn_db::conn::DbTarget;
use cairn_storage::Password;

use crate::backend::{storage_access, StorageAccess};
use crate::error::{JobError, Result};
use crate::params::TaskParams;
use crate::target::{app_label, db_target, HostStyle};

/// One snapshot a backup writes: where, with which password, which components.
#[derive(Debug, Clone)]
pub struct RepoTarget {
    /// Snapshot object name.
    pub snapshot: String,
    /// Repository object name.
    pub repository: String,
    /// The backend holding the repository.
    pub storage: StorageAccess,
    /// Directory of the repository inside the backend.
    pub repository_path: String,
    /// restic password (`RESTIC_PASSWORD` of the encryption Secret).
    pub password: Password,
    /// Components with their paths relative to `repository_path`.
    pub components: BTreeMap<String, String>,
}

/// What a restore reads.
#[derive(Debug, Clone)]
pub struct RepoSource {
    /// Snapshot object name.
    pub snapshot: String,
    /// Repository object name.
    pub repository: String,
    /// The backend holding the repository.
    pub storage: StorageAccess,
    /// Directory of the repository inside the backend.
    pub repository_path: String,
    /// restic password.
    pub password: Password,
    /// Components to restore.
    pub components: BTreeMap<String, RestoreComponentSource>,
}

/// Everything a job needs, resolved; `Debug` shows no secret value.
#[derive(Debug, Clone)]
pub struct JobInputs {
    /// `namespace/name` of the AppBinding, for messages.
    pub app: String,
    /// The database.
    pub db: DbTarget,
    /// Parameters of each task, by component.
    pub params: BTreeMap<String, TaskParams>,
    /// Snapshots a backup writes.
    pub targets: Vec<RepoTarget>,
    /// What a restore reads.
    pub source: Option<RepoSource>,
    /// Hostname recorded in restic snapshots.
    pub hostname: String,
}

/// Resolves `spec` against `world`. `base` anchors relative local backend paths.
pub fn resolve_inputs(
    world: &World,
    spec: &JobSpec,
    style: HostStyle,
    base: &Path,
) -> Result<JobInputs> {
    let namespace = spec.key.namespace.as_str();
    let by = format!("the job of session {namespace}/{}", spec.key.session);
    let app =
        world
            .app_binding(&spec.target, namespace)
            .ok_or_else(|| JobError::MissingObject {
                kind: "AppBinding",
                key: format!(
                    "{}/{}",
                    ns_or(&spec.target.namespace, namespace),
                    spec.target.name
                ),
                by: by.clone(),
            })?;
    let auth =
        match &app.spec.secret {
            Some(reference) => {
                let app_ns = app.metadata.namespace.as_deref().unwrap_or(namespace);
                Some(world.secret(app_ns, &reference.name).ok_or_else(|| {
                    JobError::MissingObject {
                        kind: "Secret",
                        key: format!("{app_ns}/{}", reference.name),
                        by: format!("AppBinding {}", app_label(app)),
                    }
                })?)
            }
            None => None,
        };
    let db = db_target(app, auth, style)?;
    let params = spec
        .tasks
        .iter()
        .map(|t| (t.component.clone(), TaskParams::of(t)))
        .collect();
    let mut targets = Vec::new();
    for t in &spec.snapshots {
        targets.push(RepoTarget {
            snapshot: t.snapshot.clone(),
            repository: t.repository.clone(),
            storage: storage_of(world, &t.storage, namespace, base, &by)?,
            repository_path: t.repository_path.clone(),
            password: password_of(
                world,
                t.encryption_secret.as_ref(),
                namespace,
                &t.repository,
            )?,
            components: t.components.clone(),
        });
    }
    let source = match &spec.restore {
        Some(r) => Some(RepoSource {
            snapshot: r.snapshot.clone(),
            repository: r.repository.clone(),
            storage: storage_of(world, &r.storage, namespace, base, &by)?,
            repository_path: r.repository_path.clone(),
            password: password_of(
                world,
                r.encryption_secret.as_ref(),
                namespace,
                &r.repository,
            )?,
            components: r.components.clone(),
        }),
        None => None,
    };
    Ok(JobInputs {
        app: app_label(app),
        db,
        params,
        targets,
        source,
        hostname: "cairn".to_owned(),
    })
}

fn ns_or<'a>(ns: &'a str, default: &'a str) -> &'a str {
    if ns.is_empty() {
        default
    } else {
        ns
    }
}

/// The BackupStorage `reference` (namespace defaults to the job's) and its Secret.
pub fn storage_of(
    world: &World,
    reference: &ObjectReference,
    namespace: &str,
    base: &Path,
    by: &str,
) -> Result<StorageAccess> {
    let ns = reference.namespace_or(namespace);
    let storage: &BackupStorage = world
        .get(&ObjectKey::new(ns, reference.name.clone()))
        .ok_or_else(|| JobError::MissingObject {
            kind: "BackupStorage",
            key: format!("{ns}/{}", reference.name),
            by: by.to_owned(),
        })?;
    storage_with_secret(world, storage, base)
}

/// `storage` with its credential Secret looked up in its namespace.
pub fn storage_with_secret(
    world: &World,
    storage: &BackupStorage,
    base: &Path,
) -> Result<StorageAccess> {
    let ns = storage.metadata.namespace.as_deref().unwrap_or_default();
    let secret = match storage.spec.storage.secret_name() {
        Some(name) => Some(
            world
                .secret(ns, name)
                .ok_or_else(|| JobError::MissingObject {
                    kind: "Secret",
                    key: format!("{ns}/{name}"),
                    by: format!(
                        "BackupStorage {ns}/{}",
                        storage.metadata.name.as_deref().unwrap_or_default()
                    ),
                })?,
        ),
        None => None,
    };
    storage_access(storage, secret, base)
}

/// `RESTIC_PASSWORD` of the encryption Secret of `repository`.
fn password_of(
    world: &World,
    secret: Option<&ObjectReference>,
    namespace: &str,
    repository: &str,
) -> Result<Password> {
    let reference = secret.ok_or_else(|| {
        JobError::Unsupported(format!(
            "Repository {namespace}/{repository} has no encryptionSecret: set one holding RESTIC_PASSWORD"
        ))
    })?;
    let ns = reference.namespace_or(namespace);
    let found = world
        .secret(ns, &reference.name)
        .ok_or_else(|| JobError::MissingObject {
            kind: "Secret",
            key: format!("{ns}/{}", reference.name),
            by: format!("Repository {namespace}/{repository} (encryptionSecret)"),
        })?;
    let value = found
        .data
        .get(KEY_RESTIC_PASSWORD)
        .ok_or_else(|| JobError::MissingSecretKey {
            secret: format!("{ns}/{}", reference.name),
            key: KEY_RESTIC_PASSWORD,
            purpose: "the encryption password of the restic repositories",
        })?;
    Ok(Password::new(value.expose()))
}
