//! Snapshot (`storage.kubestash.com/v1alpha1`): one backup of one Repository by one
//! BackupSession, with one entry per component (e.g. `dump`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::component_stats::{
    ClickHouseStats, LogStats, MedusaStats, Neo4jStats, ResticStats, SolrStats,
    VolumeSnapshotterStats, WalGStats,
};
use super::condition::{has_condition, is_condition_false, is_condition_true, Condition};
use super::condition_type::{
    TYPE_BACKUP_INCOMPLETE, TYPE_RECENT_SNAPSHOT_LIST_UPDATED, TYPE_SNAPSHOT_METADATA_UPLOADED,
};
use super::deletion_policy::DeletionPolicy;
use super::driver::Driver;
use super::reference::TypedObjectReference;
use super::schema::no_default;
use super::wire::{is_false, is_zero_i32};
use crate::plan::size::{format_bytes, parse_size};

/// Desired state of a Snapshot; written by the operator only.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    doc = "Snapshot is one backup of one Repository taken by one BackupSession.",
    group = "storage.kubestash.com",
    version = "v1alpha1",
    kind = "Snapshot",
    plural = "snapshots",
    singular = "snapshot",
    namespaced,
    status = "SnapshotStatus",
    category = "kubestash",
    category = "appscode",
    printcolumn = r#"{"name":"Repository","type":"string","jsonPath":".spec.repository"}"#,
    printcolumn = r#"{"name":"Session","type":"string","jsonPath":".spec.session"}"#,
    printcolumn = r#"{"name":"Snapshot-Time","type":"string","jsonPath":".status.snapshotTime"}"#,
    printcolumn = r#"{"name":"Deletion-Policy","type":"string","jsonPath":".spec.deletionPolicy"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotSpec {
    /// ULID identifying the snapshot.
    #[serde(
        default,
        rename = "snapshotID",
        skip_serializing_if = "String::is_empty"
    )]
    pub snapshot_id: String,
    /// Full or incremental.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<BackupType>,
    /// Repository name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repository: String,
    /// BackupConfiguration session name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub session: String,
    /// BackupSession name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub backup_session: String,
    /// Data layout version (`v1`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// The backed-up application.
    #[serde(default)]
    #[schemars(transform = no_default)]
    pub app_ref: TypedObjectReference,
    /// `Delete` removes only the object, `WipeOut` also the restic data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Delete"))]
    pub deletion_policy: Option<DeletionPolicy>,
    /// Exempts the snapshot from retention.
    #[serde(default, skip_serializing_if = "is_false")]
    pub paused: bool,
}

/// Kind of backup a snapshot holds.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum BackupType {
    /// All data.
    FullBackup,
    /// Changes since a previous snapshot.
    IncrementalBackup,
}

/// Observed state of a Snapshot.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotStatus {
    /// Overall phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<SnapshotPhase>,
    /// Result of the last verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_status: Option<VerificationStatus>,
    /// Session that verified the snapshot.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub verification_session: String,
    /// When the snapshot was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_time: Option<DateTime<Utc>>,
    /// Last status update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<DateTime<Utc>>,
    /// Sum of the component sizes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub size: String,
    /// AND of the component integrities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<bool>,
    /// `SnapshotMetadataUploaded`, `RecentSnapshotListUpdated`, `BackupIncomplete`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Number of components the backup will produce.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub total_components: i32,
    /// Per-component results, keyed by component name (`dump`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("x-kubernetes-map-type" = "granular"))]
    pub components: BTreeMap<String, Component>,
}

/// Phase of a Snapshot (also used by Repository and BackupSession summaries).
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum SnapshotPhase {
    /// No component reported yet.
    Pending,
    /// Components in progress.
    Running,
    /// All components succeeded and metadata uploaded.
    Succeeded,
    /// A component or a bookkeeping step failed.
    Failed,
}

/// Result of verifying a snapshot.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum VerificationStatus {
    /// Verification passed.
    Verified,
    /// Not verified.
    NotVerified,
    /// Verification failed.
    VerificationFailed,
}

/// Phase of one snapshot component.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum ComponentPhase {
    /// Not started.
    Pending,
    /// In progress.
    Running,
    /// Done.
    Succeeded,
    /// Failed; see `error`.
    Failed,
}

/// Result of backing up one component.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// Path relative to the Repository path (`repository/v1/<session>/<component>`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Component phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ComponentPhase>,
    /// Size of the component's restic repository, e.g. `1.234 MiB`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub size: String,
    /// How long the backup took, Go duration string.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub duration: String,
    /// Whether the repository passed its integrity check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<bool>,
    /// Why the component failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// Driver that produced the component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<Driver>,
    /// restic statistics, one per restic snapshot.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restic_stats: Vec<ResticStats>,
    /// Solr statistics.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub solr_stats: Vec<SolrStats>,
    /// WAL-G statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wal_g_stats: Option<WalGStats>,
    /// Medusa statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medusa_stats: Option<MedusaStats>,
    /// Volume snapshot statistics.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_snapshotter_stats: Vec<VolumeSnapshotterStats>,
    /// Log (archiver) statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_stats: Option<LogStats>,
    /// clickhouse-backup statistics.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub click_house_stats: Vec<ClickHouseStats>,
    /// neo4j-admin statistics.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub neo4j_stats: Vec<Neo4jStats>,
}

impl SnapshotStatus {
    /// KubeStash's `CalculatePhase`: Failed when metadata upload or recent-list update
    /// is False or the backup is incomplete; Pending without components; the components'
    /// phase once metadata upload has been attempted; otherwise Running.
    pub fn calculate_phase(&self) -> SnapshotPhase {
        let c = &self.conditions;
        if is_condition_false(c, TYPE_SNAPSHOT_METADATA_UPLOADED)
            || is_condition_false(c, TYPE_RECENT_SNAPSHOT_LIST_UPDATED)
            || is_condition_true(c, TYPE_BACKUP_INCOMPLETE)
        {
            return SnapshotPhase::Failed;
        }
        let components = self.components_phase();
        if components == SnapshotPhase::Pending {
            return SnapshotPhase::Pending;
        }
        if has_condition(c, TYPE_SNAPSHOT_METADATA_UPLOADED) {
            return components;
        }
        SnapshotPhase::Running
    }

    /// KubeStash's `GetComponentsPhase`: compares succeeded/failed counts with
    /// `totalComponents`; any failure fails the snapshot.
    pub fn components_phase(&self) -> SnapshotPhase {
        if self.components.is_empty() {
            return SnapshotPhase::Pending;
        }
        let count = |p| {
            self.components
                .values()
                .filter(|c| c.phase == Some(p))
                .count()
        };
        let succeeded = count(ComponentPhase::Succeeded);
        let failed = count(ComponentPhase::Failed);
        let total = usize::try_from(self.total_components).unwrap_or(0);
        if succeeded == total {
            SnapshotPhase::Succeeded
        } else if succeeded + failed == total || failed > 0 {
            SnapshotPhase::Failed
        } else {
            SnapshotPhase::Running
        }
    }

    /// KubeStash's `GetSize`: the sum of component sizes, or "" when a restic component
    /// has no size yet, a size does not parse, or no component reports one.
    pub fn calculate_size(&self) -> String {
        let mut total: u64 = 0;
        let mut any = false;
        for component in self.components.values() {
            if component.size.is_empty() {
                if !component.restic_stats.is_empty() {
                    return String::new();
                }
                continue;
            }
            let Ok(bytes) = parse_size(&component.size) else {
                return String::new();
            };
            total = total.saturating_add(bytes);
            any = true;
        }
        if any {
            format_bytes(total)
        } else {
            String::new()
        }
    }

    /// KubeStash's `GetIntegrity`: AND of the component integrities; unknown (`None`)
    /// while a restic component has not reported one, or when none reports one.
    pub fn calculate_integrity(&self) -> Option<bool> {
        let mut result = true;
        let mut any = false;
        for component in self.components.values() {
            match component.integrity {
                None if !component.restic_stats.is_empty() => return None,
                None => {}
                Some(ok) => {
                    any = true;
                    result &= ok;
                }
            }
        }
        any.then_some(result)
    }

    /// Whether the snapshot reached a terminal phase (`IsCompleted`).
    pub fn is_completed(&self) -> bool {
        matches!(
            self.phase,
            Some(SnapshotPhase::Succeeded | SnapshotPhase::Failed)
        )
    }
}

impl Snapshot {
    /// Phase computed from status; `Pending` without status.
    pub fn calculate_phase(&self) -> SnapshotPhase {
        self.status
            .as_ref()
            .map_or(SnapshotPhase::Pending, SnapshotStatus::calculate_phase)
    }

    /// The effective deletion policy (`Delete` when unset).
    pub fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy.unwrap_or_default()
    }

    /// Path of `component` relative to the Repository path:
    /// `repository/<spec.version>/<spec.session>/<component>` (`GetComponentPath`).
    pub fn component_path(&self, component: &str) -> String {
        format!(
            "repository/{}/{}/{}",
            self.spec.version, self.spec.session, component
        )
    }
}
