//! RetentionPolicy (`storage.kubestash.com/v1alpha1`): which snapshots to keep. No status.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::usage_policy::UsagePolicy;
use super::wire::is_false;

/// Desired state of a RetentionPolicy.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    doc = "RetentionPolicy selects which Snapshots to keep.",
    group = "storage.kubestash.com",
    version = "v1alpha1",
    kind = "RetentionPolicy",
    plural = "retentionpolicies",
    singular = "retentionpolicy",
    namespaced,
    category = "kubestash",
    category = "appscode",
    printcolumn = r#"{"name":"Max-Retention-Period","type":"string","jsonPath":".spec.maxRetentionPeriod"}"#,
    printcolumn = r#"{"name":"Default","type":"boolean","jsonPath":".spec.default"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPolicySpec {
    /// Snapshots older than this are removed, e.g. `1y2mo3w4d5h6m` (see `plan::period`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub max_retention_period: String,
    /// Which namespaces may use this policy; absent means only its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_policy: Option<UsagePolicy>,
    /// How many successful snapshots to keep per time bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful_snapshots: Option<SuccessfulSnapshotsKeepPolicy>,
    /// How many failed snapshots to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_snapshots: Option<FailedSnapshotsKeepPolicy>,
    /// Default policy of its namespace and the namespaces allowed to use it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub default: bool,
}

/// Keep counts for successful snapshots, restic `forget` style.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuccessfulSnapshotsKeepPolicy {
    /// Keep the newest N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<i32>,
    /// Keep the newest of each of the last N hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly: Option<i32>,
    /// Keep the newest of each of the last N days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily: Option<i32>,
    /// Keep the newest of each of the last N weeks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly: Option<i32>,
    /// Keep the newest of each of the last N months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly: Option<i32>,
    /// Keep the newest of each of the last N years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yearly: Option<i32>,
}

/// Keep count for failed snapshots.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedSnapshotsKeepPolicy {
    /// Keep the newest N failed snapshots (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = 1))]
    pub last: Option<i32>,
}

impl RetentionPolicySpec {
    /// Failed snapshots to keep, applying the default of 1.
    pub fn failed_snapshots_last(&self) -> i32 {
        self.failed_snapshots
            .as_ref()
            .and_then(|f| f.last)
            .unwrap_or(1)
    }
}
