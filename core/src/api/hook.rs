//! Hooks run around backups and restores (`HookInfo`) and their reported results.

use k8s_openapi::api::core::v1::{EnvVar, VolumeMount};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::reference::ObjectReference;
use super::schema::{free_form_object, free_form_object_list};
use super::wire::is_zero_i32;

/// One hook: a HookTemplate reference plus how and when to run it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookInfo {
    /// Hook name, unique within its list.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The HookTemplate to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_template: Option<ObjectReference>,
    /// Parameters for the template (free-form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub params: Option<Value>,
    /// Retries after a failure (default 0).
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    #[schemars(range(min = 0))]
    pub max_retry: i32,
    /// Time limit, Go duration string (`30s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// When to run relative to the session's outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Always"))]
    pub execution_policy: Option<HookExecutionPolicy>,
    /// Environment variables for the hook.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<EnvVar>,
    /// Volumes (offshoot-api `Volume`) for the hook.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "free_form_object_list")]
    pub volumes: Vec<Value>,
    /// Where the volumes are mounted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Runtime settings (offshoot-api `RuntimeSettings`) for the hook executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub runtime_settings: Option<Value>,
}

impl HookInfo {
    /// The effective execution policy (`Always` when unset).
    pub fn execution_policy(&self) -> HookExecutionPolicy {
        self.execution_policy.unwrap_or(HookExecutionPolicy::Always)
    }
}

/// When a hook runs.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum HookExecutionPolicy {
    /// Whatever the outcome.
    Always,
    /// Only after success.
    OnSuccess,
    /// Only after failure.
    OnFailure,
}

/// Results of the hooks of a session.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookStatus {
    /// Hooks run before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_hooks: Vec<HookExecutionStatus>,
    /// Hooks run after.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_hooks: Vec<HookExecutionStatus>,
}

impl HookStatus {
    /// Whether no hook result is recorded (Go writes `{}`; we omit it).
    pub fn is_empty(&self) -> bool {
        self.pre_hooks.is_empty() && self.post_hooks.is_empty()
    }
}

/// Result of one hook.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookExecutionStatus {
    /// Hook name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Hook phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<HookExecutionPhase>,
}

/// Phase of one hook.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum HookExecutionPhase {
    /// Ran successfully.
    Succeeded,
    /// Failed.
    Failed,
    /// Not run yet.
    Pending,
}
