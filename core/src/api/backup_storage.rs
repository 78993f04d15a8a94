//! BackupStorage (`storage.kubestash.com/v1alpha1`): a bucket or volume in Kubernetes
//! form, usable across namespaces per its usage policy.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::backend::Backend;
use super::condition::{has_condition, is_condition_true, Condition};
use super::condition_type::{TYPE_BACKEND_INITIALIZED, TYPE_BACKEND_SECRET_FOUND};
use super::deletion_policy::DeletionPolicy;
use super::schema::{free_form_object, no_default};
use super::usage_policy::{usage_allowed, UsagePolicy};
use super::wire::is_false;

/// Desired state of a BackupStorage.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    doc = "BackupStorage is a bucket or volume holding Cairn/KubeStash backups.",
    group = "storage.kubestash.com",
    version = "v1alpha1",
    kind = "BackupStorage",
    plural = "backupstorages",
    singular = "backupstorage",
    namespaced,
    status = "BackupStorageStatus",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Provider","type":"string","jsonPath":".spec.storage.provider"}"#,
    printcolumn = r#"{"name":"Default","type":"boolean","jsonPath":".spec.default"}"#,
    printcolumn = r#"{"name":"Deletion-Policy","type":"string","jsonPath":".spec.deletionPolicy"}"#,
    printcolumn = r#"{"name":"Total-Size","type":"string","jsonPath":".status.totalSize"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct BackupStorageSpec {
    /// Provider and location of the data.
    #[serde(default)]
    #[schemars(transform = no_default)]
    pub storage: Backend,
    /// Which namespaces may use this storage; absent means only its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_policy: Option<UsagePolicy>,
    /// Default storage for its namespace and the namespaces allowed to use it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub default: bool,
    /// `Delete` keeps backend data on deletion, `WipeOut` removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Delete"))]
    pub deletion_policy: Option<DeletionPolicy>,
    /// Runtime settings (offshoot-api `RuntimeSettings`) of the initializer/cleaner job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub runtime_settings: Option<Value>,
}

/// Observed state of a BackupStorage.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupStorageStatus {
    /// `Ready` or `NotReady`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BackupStoragePhase>,
    /// Sum of the sizes of the repositories in this storage.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub total_size: String,
    /// Repositories found in this storage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<RepositoryInfo>,
    /// `BackendInitialized`, `BackendSecretFound`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// Phase of a BackupStorage.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum BackupStoragePhase {
    /// Backend initialized and its Secret (if any) found.
    Ready,
    /// Anything else.
    NotReady,
}

/// A repository living in a BackupStorage (also the entries of `metadata.yaml`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryInfo {
    /// Repository name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Repository namespace.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Directory of the repository inside the storage.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Repository size, e.g. `1.456 MiB`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub size: String,
    /// Whether the Repository object was re-created from backend data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced: Option<bool>,
    /// Why syncing failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl BackupStorageStatus {
    /// KubeStash's phase rule: `Ready` iff `BackendInitialized` is True and
    /// `BackendSecretFound` is absent or True.
    pub fn calculate_phase(&self) -> BackupStoragePhase {
        let c = &self.conditions;
        let secret_ok = !has_condition(c, TYPE_BACKEND_SECRET_FOUND)
            || is_condition_true(c, TYPE_BACKEND_SECRET_FOUND);
        if is_condition_true(c, TYPE_BACKEND_INITIALIZED) && secret_ok {
            BackupStoragePhase::Ready
        } else {
            BackupStoragePhase::NotReady
        }
    }
}

impl BackupStorage {
    /// Phase computed from the conditions; `NotReady` without status.
    pub fn calculate_phase(&self) -> BackupStoragePhase {
        self.status.as_ref().map_or(
            BackupStoragePhase::NotReady,
            BackupStorageStatus::calculate_phase,
        )
    }

    /// The effective deletion policy (`Delete` when unset).
    pub fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy.unwrap_or_default()
    }

    /// Whether `namespace` (with `namespace_labels`) may use this storage.
    pub fn usage_allowed(
        &self,
        namespace: &str,
        namespace_labels: &BTreeMap<String, String>,
    ) -> bool {
        let own = self.metadata.namespace.as_deref().unwrap_or_default();
        usage_allowed(
            self.spec.usage_policy.as_ref(),
            own,
            namespace,
            namespace_labels,
        )
    }
}
