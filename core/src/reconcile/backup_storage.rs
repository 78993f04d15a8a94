//! BackupStorage: credentials check, backend initialization (`metadata.yaml`), phase and
//! the list of repositories it holds.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::api::backup_storage::RepositoryInfo;
use crate::api::component::FILE_BACKEND_METADATA;
use crate::api::condition::remove_condition;
use crate::api::condition_type::*;
use crate::api::group::{CONFIG_GROUP, VERSION};
use crate::api::{BackupStorage, BackupStorageStatus, Kind, StorageProvider};
use crate::effect::{Effect, Plan};
use crate::plan::size::{format_bytes, parse_size};
use crate::world::{FileState, Inflight, ObjectKey, ObjectRef, Status, World};

use super::write::{ensure_finalizer, patch_status, set_and_announce};

/// Wait before retrying a failed backend initialization.
pub const INIT_RETRY_AFTER: Duration = Duration::seconds(30);

/// Version written into `metadata.yaml` (`operatorVersion`).
pub const OPERATOR_VERSION: &str = concat!("cairn-", env!("CARGO_PKG_VERSION"));

/// `metadata.yaml` at a backend root (KubeStash `BackendMeta`; not in `api/`).
#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BackendMeta {
    /// `config.kubestash.com/v1alpha1`.
    pub api_version: String,
    /// `BackendMeta`.
    pub kind: String,
    /// When the backend was initialized.
    pub creation_timestamp: DateTime<Utc>,
    /// Which operator wrote it.
    pub operator_version: String,
    /// Repositories known at initialization.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<RepositoryInfo>,
}

/// Reconciles one live (not deleting) BackupStorage.
pub fn reconcile_storage(
    world: &World,
    storage: &BackupStorage,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    let me = ObjectRef::of(Kind::BackupStorage, &storage.metadata);
    ensure_finalizer(plan, &me, &storage.metadata);
    let old = storage.status.as_ref();
    let mut status = old.cloned().unwrap_or_default();
    let secret_ok = check_secret(world, storage, &me, &mut status, now, plan);
    if secret_ok {
        initialize(world, storage, &me, &mut status, now, plan);
    }
    status.repositories = repository_entries(world, &me.key);
    status.total_size = total_size(&status.repositories);
    status.phase = Some(status.calculate_phase());
    if status.phase == Some(crate::api::BackupStoragePhase::Ready) {
        super::recovery::recover(world, storage, plan);
    }
    patch_status(plan, &me, old, status, Status::BackupStorage);
}

/// `BackendSecretFound`: the credential Secret exists and has the provider's keys.
fn check_secret(
    world: &World,
    storage: &BackupStorage,
    me: &ObjectRef,
    status: &mut BackupStorageStatus,
    now: DateTime<Utc>,
    plan: &mut Plan,
) -> bool {
    let Some(name) = storage.spec.storage.secret_name().filter(|n| !n.is_empty()) else {
        remove_condition(&mut status.conditions, TYPE_BACKEND_SECRET_FOUND);
        return true;
    };
    let missing: Vec<&str> = match world.secret(&me.key.namespace, name) {
        None => {
            let message = format!(
                "Secret {}/{name} referenced by BackupStorage {} not found: create it with the {} credentials",
                me.key.namespace, me.key.name, provider_name(storage)
            );
            set_and_announce(
                plan,
                me,
                &mut status.conditions,
                TYPE_BACKEND_SECRET_FOUND,
                false,
                REASON_BACKEND_SECRET_NOT_AVAILABLE,
                message,
                now,
            );
            return false;
        }
        Some(secret) => required_keys(storage)
            .iter()
            .copied()
            .filter(|k| !secret.has_key(k))
            .collect(),
    };
    let ok = missing.is_empty();
    let message = if ok {
        format!("Secret {}/{name} found", me.key.namespace)
    } else {
        format!(
            "Secret {}/{name} lacks key(s) {}: add them for the {} provider",
            me.key.namespace,
            missing.join(", "),
            provider_name(storage)
        )
    };
    let reason = if ok {
        REASON_BACKEND_SECRET_AVAILABLE
    } else {
        REASON_BACKEND_SECRET_NOT_AVAILABLE
    };
    set_and_announce(
        plan,
        me,
        &mut status.conditions,
        TYPE_BACKEND_SECRET_FOUND,
        ok,
        reason,
        message,
        now,
    );
    ok
}

/// Credential keys each provider needs (restic's environment names).
fn required_keys(storage: &BackupStorage) -> &'static [&'static str] {
    match storage.spec.storage.provider {
        Some(StorageProvider::S3) => &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        Some(StorageProvider::Gcs) => &["GOOGLE_PROJECT_ID", "GOOGLE_SERVICE_ACCOUNT_JSON_KEY"],
        Some(StorageProvider::Azure) => &["AZURE_ACCOUNT_KEY"],
        Some(StorageProvider::Local) | None => &[],
    }
}

fn provider_name(storage: &BackupStorage) -> &'static str {
    match storage.spec.storage.provider {
        Some(StorageProvider::S3) => "s3",
        Some(StorageProvider::Gcs) => "gcs",
        Some(StorageProvider::Azure) => "azure",
        Some(StorageProvider::Local) => "local",
        None => "unset",
    }
}

/// `BackendInitialized`: request `metadata.yaml`, report the adapter's answer, retry
/// a failure after [`INIT_RETRY_AFTER`].
fn initialize(
    world: &World,
    storage: &BackupStorage,
    me: &ObjectRef,
    status: &mut BackupStorageStatus,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    let state = world
        .backends
        .get(&me.key)
        .and_then(|f| f.metadata.as_ref());
    let inflight = world
        .inflight
        .contains(&Inflight::InitBackend(me.key.clone()));
    let request = match state {
        Some(FileState::Present) => {
            let message = format!(
                "{FILE_BACKEND_METADATA} written at the root of BackupStorage {}",
                me.key
            );
            set_and_announce(
                plan,
                me,
                &mut status.conditions,
                TYPE_BACKEND_INITIALIZED,
                true,
                REASON_BACKEND_INITIALIZATION_SUCCEEDED,
                message,
                now,
            );
            false
        }
        Some(FileState::Failed { message, at }) => {
            let text = format!(
                "initializing BackupStorage {} failed: {message}; check the bucket/prefix and the credentials, retrying every {}s",
                me.key,
                INIT_RETRY_AFTER.num_seconds()
            );
            set_and_announce(
                plan,
                me,
                &mut status.conditions,
                TYPE_BACKEND_INITIALIZED,
                false,
                REASON_BACKEND_INITIALIZATION_FAILED,
                text,
                now,
            );
            let retry_at = *at + INIT_RETRY_AFTER;
            if now < retry_at {
                plan.wake_at(retry_at);
            }
            now >= retry_at
        }
        None => true,
    };
    if request && !inflight {
        plan.push(Effect::InitBackend {
            storage: me.clone(),
            path: FILE_BACKEND_METADATA.to_owned(),
            yaml: backend_meta_yaml(storage, now),
        });
    }
}

/// The `metadata.yaml` content for `storage`.
pub fn backend_meta_yaml(storage: &BackupStorage, now: DateTime<Utc>) -> String {
    let meta = BackendMeta {
        api_version: format!("{CONFIG_GROUP}/{VERSION}"),
        kind: "BackendMeta".to_owned(),
        creation_timestamp: now,
        operator_version: OPERATOR_VERSION.to_owned(),
        repositories: storage
            .status
            .as_ref()
            .map(|s| s.repositories.clone())
            .unwrap_or_default(),
    };
    serde_yaml::to_string(&meta).unwrap_or_default()
}

/// Repositories in this storage: Repository objects, plus `repository.yaml` files found
/// in the backend without an object (`synced: false` until recovered).
fn repository_entries(world: &World, storage: &ObjectKey) -> Vec<RepositoryInfo> {
    let mut out: Vec<RepositoryInfo> = world
        .storage_repositories(storage)
        .map(|r| RepositoryInfo {
            name: r.metadata.name.clone().unwrap_or_default(),
            namespace: r.metadata.namespace.clone().unwrap_or_default(),
            path: r.spec.path.clone(),
            size: r
                .status
                .as_ref()
                .map(|s| s.size.clone())
                .unwrap_or_default(),
            synced: Some(true),
            error: None,
        })
        .collect();
    if let Some(facts) = world.backends.get(storage) {
        for (dir, found) in &facts.found_repositories {
            if out.iter().any(|e| same_dir(&e.path, dir)) {
                continue;
            }
            out.push(RepositoryInfo {
                name: found.metadata.name.clone().unwrap_or_default(),
                namespace: found.metadata.namespace.clone().unwrap_or_default(),
                path: dir.clone(),
                synced: Some(false),
                ..RepositoryInfo::default()
            });
        }
    }
    out.sort_by(|a, b| (&a.namespace, &a.name, &a.path).cmp(&(&b.namespace, &b.name, &b.path)));
    out
}

/// Whether two repository directories name the same place (`/a` and `a/` are equal).
pub fn same_dir(a: &str, b: &str) -> bool {
    a.trim_matches('/') == b.trim_matches('/')
}

fn total_size(entries: &[RepositoryInfo]) -> String {
    let bytes: u64 = entries
        .iter()
        .filter_map(|e| parse_size(&e.size).ok())
        .sum();
    if entries.iter().all(|e| e.size.is_empty()) {
        String::new()
    } else {
        format_bytes(bytes)
    }
}
