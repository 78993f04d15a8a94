//! RestoreSession (`core.kubestash.com/v1alpha1`): restore one snapshot (or the latest)
//! into a target.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::addon_info::AddonInfo;
use super::condition::{has_condition, is_condition_false, is_condition_true, Condition};
use super::condition_type::{
    TYPE_METRICS_PUSHED, TYPE_POST_RESTORE_HOOKS_EXECUTION_SUCCEEDED,
    TYPE_PRE_RESTORE_HOOKS_EXECUTION_SUCCEEDED, TYPE_RESTORE_EXECUTOR_ENSURED,
    TYPE_RESTORE_INCOMPLETE, TYPE_VALIDATION_PASSED,
};
use super::hook::{HookInfo, HookStatus};
use super::manifest_options::ManifestRestoreOptions;
use super::reference::{ObjectReference, TypedObjectReference};
use super::resource_found::ResourceFoundStatus;
use super::wire::{is_false, is_zero_i32, is_zero_i64};

/// Desired state of a RestoreSession.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    doc = "RestoreSession restores a Snapshot into a target.",
    group = "core.kubestash.com",
    version = "v1alpha1",
    kind = "RestoreSession",
    plural = "restoresessions",
    singular = "restoresession",
    shortname = "restore",
    namespaced,
    status = "RestoreSessionStatus",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Repository","type":"string","jsonPath":".spec.dataSource.repository"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Duration","type":"string","jsonPath":".status.duration"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSessionSpec {
    /// Where to restore; may be omitted for manifest restores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TypedObjectReference>,
    /// What to restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source: Option<RestoreDataSource>,
    /// Addon and restore tasks to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon: Option<AddonInfo>,
    /// Hooks around the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<RestoreHooks>,
    /// Time limit, Go duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_timeout: Option<String>,
    /// Options of manifest restores, per application kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_options: Option<ManifestRestoreOptions>,
}

/// The snapshot to restore from.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreDataSource {
    /// Namespace of the Repository and Snapshot; defaults to the RestoreSession's.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Repository name (required with `snapshot: latest` and PITR).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repository: String,
    /// Snapshot name, or `latest`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub snapshot: String,
    /// Point-in-time recovery target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitr: Option<Pitr>,
    /// Components to restore; empty = all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    /// Secret with `RESTIC_PASSWORD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_secret: Option<ObjectReference>,
}

/// Point-in-time recovery target.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pitr {
    /// Time to recover to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_time: Option<DateTime<Utc>>,
    /// Stop just before `targetTime`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exclusive: bool,
}

/// Hooks run before and after a restore.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreHooks {
    /// Run before the restore.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_restore: Vec<HookInfo>,
    /// Run after the restore.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_restore: Vec<HookInfo>,
}

/// Observed state of a RestoreSession.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSessionStatus {
    /// Overall phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RestorePhase>,
    /// Whether the target exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_found: Option<bool>,
    /// How long the restore took, Go duration string.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub duration: String,
    /// When the restore times out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_deadline: Option<DateTime<Utc>>,
    /// Components to restore.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub total_components: i32,
    /// Per-component results.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub components: BTreeMap<String, ComponentRestoreStatus>,
    /// Hook results.
    #[serde(default, skip_serializing_if = "HookStatus::is_empty")]
    pub hooks: HookStatus,
    /// Dependencies and whether they exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<ResourceFoundStatus>,
    /// BackupConfigurations paused for the restore.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paused_backups: Vec<TypedObjectReference>,
    /// Step conditions; `MetricsPushed` marks the final step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// Phase of a RestoreSession or one of its components.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum RestorePhase {
    /// Not started.
    Pending,
    /// In progress.
    Running,
    /// Failed.
    Failed,
    /// Done.
    Succeeded,
    /// The spec failed validation.
    Invalid,
    /// Outcome could not be determined.
    Unknown,
}

impl RestorePhase {
    /// Whether the session is over: it will not run (again). `Unknown` is final too: every
    /// component ended and some could not tell how.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Invalid | Self::Unknown
        )
    }
}

/// Progress and result of restoring one component.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentRestoreStatus {
    /// Component phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RestorePhase>,
    /// Progress while running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<RestoreProgress>,
    /// How long it took.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub duration: String,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// Progress of a running restore.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreProgress {
    /// Seconds since start.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub seconds_elapsed: i64,
    /// Percentage done, as a string.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub percent_done: String,
    /// Files to restore.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub total_files: i64,
    /// Files restored.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub files_done: i64,
    /// Bytes restored.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restore_done: String,
    /// Bytes to restore.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub total: String,
    /// Throughput.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub speed: String,
}

impl RestoreSessionStatus {
    /// KubeStash's `CalculatePhase`: `MetricsPushed=False` fails; `ValidationPassed=False`
    /// is Invalid; after the final step a failed hook/executor or an incomplete restore
    /// fails; otherwise the components' phase when Pending or Unknown or after the final
    /// step, else Running.
    pub fn calculate_phase(&self) -> RestorePhase {
        let c = &self.conditions;
        if is_condition_false(c, TYPE_METRICS_PUSHED) {
            return RestorePhase::Failed;
        }
        if is_condition_false(c, TYPE_VALIDATION_PASSED) {
            return RestorePhase::Invalid;
        }
        let step_failed = is_condition_false(c, TYPE_PRE_RESTORE_HOOKS_EXECUTION_SUCCEEDED)
            || is_condition_false(c, TYPE_POST_RESTORE_HOOKS_EXECUTION_SUCCEEDED)
            || is_condition_false(c, TYPE_RESTORE_EXECUTOR_ENSURED)
            || is_condition_true(c, TYPE_RESTORE_INCOMPLETE);
        if is_condition_true(c, TYPE_METRICS_PUSHED) && step_failed {
            return RestorePhase::Failed;
        }
        let components = self.components_phase();
        let final_step = has_condition(c, TYPE_METRICS_PUSHED);
        if matches!(components, RestorePhase::Pending | RestorePhase::Unknown) || final_step {
            return components;
        }
        RestorePhase::Running
    }

    /// KubeStash's `getComponentsPhase`: none → Pending; all succeeded → Succeeded; all
    /// terminal (Unknown counts) → Failed if any failed, else Unknown; any failed →
    /// Failed; else Running. Counts compare with `totalComponents`.
    pub fn components_phase(&self) -> RestorePhase {
        if self.components.is_empty() {
            return RestorePhase::Pending;
        }
        let count = |p| {
            self.components
                .values()
                .filter(|c| c.phase == Some(p))
                .count()
        };
        let succeeded = count(RestorePhase::Succeeded);
        let failed = count(RestorePhase::Failed);
        let unknown = count(RestorePhase::Unknown);
        let total = usize::try_from(self.total_components).unwrap_or(0);
        if succeeded == total {
            RestorePhase::Succeeded
        } else if succeeded + failed + unknown == total {
            if failed > 0 {
                RestorePhase::Failed
            } else {
                RestorePhase::Unknown
            }
        } else if failed > 0 {
            RestorePhase::Failed
        } else {
            RestorePhase::Running
        }
    }
}

impl RestoreSession {
    /// Phase computed from status; `Pending` without status.
    pub fn calculate_phase(&self) -> RestorePhase {
        self.status
            .as_ref()
            .map_or(RestorePhase::Pending, RestoreSessionStatus::calculate_phase)
    }

    /// Namespace of the data source, defaulting to the RestoreSession's own.
    pub fn data_source_namespace(&self) -> &str {
        let own = self.metadata.namespace.as_deref().unwrap_or_default();
        match &self.spec.data_source {
            Some(ds) if !ds.namespace.is_empty() => &ds.namespace,
            _ => own,
        }
    }
}
