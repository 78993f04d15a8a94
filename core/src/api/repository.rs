//! Repository (`storage.kubestash.com/v1alpha1`): a directory in a BackupStorage holding
//! one restic repository per snapshot component.

use chrono::{DateTime, Utc};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::condition::{is_condition_true, Condition};
use super::condition_type::TYPE_REPOSITORY_INITIALIZED;
use super::deletion_policy::DeletionPolicy;
use super::reference::{ObjectReference, TypedObjectReference};
use super::schema::no_default;
use super::snapshot::SnapshotPhase;
use super::wire::is_false;

/// Desired state of a Repository.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    doc = "Repository is a directory in a BackupStorage holding the restic repositories of one application.",
    group = "storage.kubestash.com",
    version = "v1alpha1",
    kind = "Repository",
    plural = "repositories",
    singular = "repository",
    shortname = "repo",
    namespaced,
    status = "RepositoryStatus",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Integrity","type":"boolean","jsonPath":".status.integrity"}"#,
    printcolumn = r#"{"name":"Snapshot-Count","type":"integer","jsonPath":".status.snapshotCount"}"#,
    printcolumn = r#"{"name":"Size","type":"string","jsonPath":".status.size"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Last-Successful-Backup","type":"date","format":"date-time","jsonPath":".status.lastBackupTime"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct RepositorySpec {
    /// The application whose data this repository holds.
    #[serde(default)]
    #[schemars(transform = no_default)]
    pub app_ref: TypedObjectReference,
    /// The BackupStorage holding the repository.
    #[serde(default)]
    #[schemars(transform = no_default)]
    pub storage_ref: ObjectReference,
    /// Directory inside the BackupStorage, relative to its root; immutable.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// `Delete` keeps data when the Repository is deleted, `WipeOut` removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Delete"))]
    pub deletion_policy: Option<DeletionPolicy>,
    /// Secret whose `RESTIC_PASSWORD` encrypts the restic repositories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_secret: Option<ObjectReference>,
    /// Stops new backups into this repository.
    #[serde(default, skip_serializing_if = "is_false")]
    pub paused: bool,
}

/// Observed state of a Repository.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryStatus {
    /// `Ready` once initialized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RepositoryPhase>,
    /// Time of the last successful backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_backup_time: Option<DateTime<Utc>>,
    /// Whether all the repository's data passed integrity checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<bool>,
    /// Number of snapshots in the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_count: Option<i32>,
    /// Repository size, e.g. `1.456 MiB`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub size: String,
    /// The newest snapshots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_snapshots: Vec<SnapshotInfo>,
    /// `RepositoryInitialized`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Paths of the component restic repositories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub component_paths: Vec<String>,
}

/// Phase of a Repository.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum RepositoryPhase {
    /// Not initialized yet, or initialization failed.
    NotReady,
    /// Initialized.
    Ready,
}

/// Summary of one recent snapshot.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    /// Snapshot name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Snapshot phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<SnapshotPhase>,
    /// BackupConfiguration session that produced it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub session: String,
    /// Snapshot size.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub size: String,
    /// When the snapshot was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_time: Option<DateTime<Utc>>,
}

impl RepositoryStatus {
    /// KubeStash's phase rule: `Ready` iff `RepositoryInitialized` is True.
    pub fn calculate_phase(&self) -> RepositoryPhase {
        if is_condition_true(&self.conditions, TYPE_REPOSITORY_INITIALIZED) {
            RepositoryPhase::Ready
        } else {
            RepositoryPhase::NotReady
        }
    }
}

impl Repository {
    /// Phase computed from the conditions; `NotReady` without status.
    pub fn calculate_phase(&self) -> RepositoryPhase {
        self.status
            .as_ref()
            .map_or(RepositoryPhase::NotReady, RepositoryStatus::calculate_phase)
    }

    /// The effective deletion policy (`Delete` when unset).
    pub fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy.unwrap_or_default()
    }
}
