//! BackupSession (`core.kubestash.com/v1alpha1`): one run of a BackupConfiguration
//! session. Its spec is immutable.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::TypedLocalObjectReference;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::condition::{has_condition, is_condition_false, is_condition_true, Condition};
use super::condition_type::{
    TYPE_BACKUP_EXECUTOR_ENSURED, TYPE_BACKUP_SKIPPED, TYPE_METRICS_PUSHED,
    TYPE_POST_BACKUP_HOOKS_EXECUTION_SUCCEEDED, TYPE_PRE_BACKUP_HOOKS_EXECUTION_SUCCEEDED,
    TYPE_SESSION_HISTORY_CLEANED, TYPE_SNAPSHOTS_ENSURED, TYPE_SNAPSHOT_CLEANUP_INCOMPLETE,
};
use super::hook::HookStatus;
use super::reference::{ObjectReference, TypedObjectReference};
use super::schema::no_default;
use super::snapshot::SnapshotPhase;
use super::wire::is_zero_i32;

/// Desired state of a BackupSession.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    doc = "BackupSession is one run of a BackupConfiguration session.",
    group = "core.kubestash.com",
    version = "v1alpha1",
    kind = "BackupSession",
    plural = "backupsessions",
    singular = "backupsession",
    namespaced,
    status = "BackupSessionStatus",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Invoker-Type","type":"string","jsonPath":".spec.invoker.kind"}"#,
    printcolumn = r#"{"name":"Invoker-Name","type":"string","jsonPath":".spec.invoker.name"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Duration","type":"string","jsonPath":".status.duration"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct BackupSessionSpec {
    /// The BackupConfiguration (or BackupBatch) that started this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoker: Option<TypedLocalObjectReference>,
    /// Session name within the invoker.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub session: String,
    /// Retries left if this run fails.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub retry_left: i32,
    /// Time limit, Go duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_timeout: Option<String>,
}

/// Observed state of a BackupSession.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupSessionStatus {
    /// Overall phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BackupSessionPhase>,
    /// How long the run took, Go duration string.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub duration: String,
    /// When the run times out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_deadline: Option<DateTime<Utc>>,
    /// Snapshots this run produces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_snapshots: Option<i32>,
    /// Phase of each snapshot.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<SnapshotStatus>,
    /// Hook results.
    #[serde(default, skip_serializing_if = "HookStatus::is_empty")]
    pub hooks: HookStatus,
    /// Retention results per repository (JSON key singular, as KubeStash writes it).
    #[serde(
        default,
        rename = "retentionPolicy",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub retention_policies: Vec<RetentionPolicyApplyStatus>,
    /// Whether a retry session was created for this failed run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retried: Option<bool>,
    /// When the retry will be created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_retry: Option<DateTime<Utc>>,
    /// Step conditions; `MetricsPushed` marks the final step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// Phase of a BackupSession.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum BackupSessionPhase {
    /// Snapshots not started.
    Pending,
    /// In progress.
    Running,
    /// All snapshots succeeded and every step passed.
    Succeeded,
    /// A snapshot or a step failed.
    Failed,
    /// Not run (another run active or invoker not ready).
    Skipped,
}

impl BackupSessionPhase {
    /// Whether the phase is terminal (`Succeeded`, `Failed`, `Skipped`).
    pub fn is_completed(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Skipped)
    }
}

/// Phase of one snapshot of a BackupSession.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotStatus {
    /// Snapshot name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Snapshot phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<SnapshotPhase>,
    /// The backed-up application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_ref: Option<TypedObjectReference>,
    /// Repository name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repository: String,
}

/// Result of applying a retention policy to one repository.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPolicyApplyStatus {
    /// The RetentionPolicy.
    #[serde(default)]
    #[schemars(transform = no_default)]
    pub r#ref: ObjectReference,
    /// Repository name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repository: String,
    /// Outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RetentionPolicyApplyPhase>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// Outcome of applying a retention policy.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum RetentionPolicyApplyPhase {
    /// Not applied yet.
    Pending,
    /// Applied.
    Applied,
    /// Failed; see `error`.
    FailedToApply,
}

impl BackupSessionStatus {
    /// KubeStash's `CalculatePhase`. `MetricsPushed=False` fails; `BackupSkipped=True`
    /// skips; after the final step any failed step fails; otherwise the snapshots'
    /// phase, reported only once pending or after the final step (else `Running`).
    pub fn calculate_phase(&self) -> BackupSessionPhase {
        let c = &self.conditions;
        if is_condition_false(c, TYPE_METRICS_PUSHED) {
            return BackupSessionPhase::Failed;
        }
        if is_condition_true(c, TYPE_BACKUP_SKIPPED) {
            return BackupSessionPhase::Skipped;
        }
        if is_condition_true(c, TYPE_METRICS_PUSHED) && self.any_step_failed() {
            return BackupSessionPhase::Failed;
        }
        let from_snapshots = self.phase_from_snapshots();
        if from_snapshots == BackupSessionPhase::Pending || self.final_step_executed() {
            return from_snapshots;
        }
        BackupSessionPhase::Running
    }

    fn any_step_failed(&self) -> bool {
        let c = &self.conditions;
        is_condition_false(c, TYPE_BACKUP_EXECUTOR_ENSURED)
            || is_condition_false(c, TYPE_SNAPSHOTS_ENSURED)
            || is_condition_false(c, TYPE_PRE_BACKUP_HOOKS_EXECUTION_SUCCEEDED)
            || is_condition_false(c, TYPE_POST_BACKUP_HOOKS_EXECUTION_SUCCEEDED)
            || self
                .retention_policies
                .iter()
                .any(|r| r.phase == Some(RetentionPolicyApplyPhase::FailedToApply))
            || is_condition_false(c, TYPE_SESSION_HISTORY_CLEANED)
            || is_condition_true(c, TYPE_SNAPSHOT_CLEANUP_INCOMPLETE)
    }

    /// Phase derived from `snapshots`: none or all pending → Pending; not all terminal →
    /// Running; any failed → Failed; else Succeeded.
    pub fn phase_from_snapshots(&self) -> BackupSessionPhase {
        let total = self.snapshots.len();
        let count = |p| self.snapshots.iter().filter(|s| s.phase == Some(p)).count();
        let (pending, failed, succeeded) = (
            count(SnapshotPhase::Pending),
            count(SnapshotPhase::Failed),
            count(SnapshotPhase::Succeeded),
        );
        if total == 0 || pending == total {
            BackupSessionPhase::Pending
        } else if succeeded + failed != total {
            BackupSessionPhase::Running
        } else if failed > 0 {
            BackupSessionPhase::Failed
        } else {
            BackupSessionPhase::Succeeded
        }
    }

    /// Whether the final step (`MetricsPushed`, any status) has run.
    pub fn final_step_executed(&self) -> bool {
        has_condition(&self.conditions, TYPE_METRICS_PUSHED)
    }
}

impl BackupSession {
    /// Phase computed from status; `Pending` without status.
    pub fn calculate_phase(&self) -> BackupSessionPhase {
        self.status.as_ref().map_or(
            BackupSessionPhase::Pending,
            BackupSessionStatus::calculate_phase,
        )
    }

    /// Whether the recorded phase is terminal (`IsCompleted`).
    pub fn is_completed(&self) -> bool {
        self.status
            .as_ref()
            .and_then(|s| s.phase)
            .is_some_and(BackupSessionPhase::is_completed)
    }
}
