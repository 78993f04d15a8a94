//! HookTemplate (`core.kubestash.com/v1alpha1`): a reusable hook action. No status.
//!
//! Upstream's CRD also prints a "Timeout" column at `.spec.timeout`, a field its
//! HookTemplateSpec never had (timeouts live in each HookInfo of a BackupConfiguration or
//! RestoreSession), so it is always empty there; Cairn leaves it out.

use k8s_openapi::api::core::v1::{EnvVar, VolumeMount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::parameter::ParameterDefinition;
use super::schema::{free_form_object, free_form_object_list};
use super::usage_policy::UsagePolicy;

/// Desired state of a HookTemplate.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    doc = "HookTemplate is a reusable hook action run around backups and restores.",
    group = "core.kubestash.com",
    version = "v1alpha1",
    kind = "HookTemplate",
    plural = "hooktemplates",
    singular = "hooktemplate",
    namespaced,
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Executor","type":"string","jsonPath":".spec.executor.type"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct HookTemplateSpec {
    /// Which namespaces may use this template (defaulted to `Same`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_policy: Option<UsagePolicy>,
    /// Declared parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<ParameterDefinition>,
    /// The action (kmodules prober `Handler`: `exec`, `httpGet`, `httpPost`, `tcpSocket`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub action: Option<Value>,
    /// Where the action runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<HookExecutor>,
}

/// Where a hook action runs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookExecutor {
    /// `Function`, `Pod` or `Operator`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<HookExecutorType>,
    /// Function executor settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionHookExecutorSpec>,
    /// Pod executor settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<PodHookExecutorSpec>,
}

/// Kind of hook executor.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum HookExecutorType {
    /// A Job from a Function.
    Function,
    /// Inside the target's pods.
    Pod,
    /// Inside the operator.
    Operator,
}

/// A Function-based hook executor.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunctionHookExecutorSpec {
    /// Function name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Environment variables (JSON key `env`).
    #[serde(default, rename = "env", skip_serializing_if = "Vec::is_empty")]
    pub env_variables: Vec<EnvVar>,
    /// Volume mounts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Volumes (offshoot-api `Volume`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "free_form_object_list")]
    pub volumes: Vec<Value>,
}

/// A pod-based hook executor.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodHookExecutorSpec {
    /// Label selector, `a=b,c=d`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub selector: String,
    /// Owner of the pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerReference>,
    /// One pod or all (default `ExecuteOnOne`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "ExecuteOnOne"))]
    pub strategy: Option<PodHookExecutionStrategy>,
}

/// Which matching pods run the hook.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum PodHookExecutionStrategy {
    /// One pod.
    ExecuteOnOne,
    /// Every pod.
    ExecuteOnAll,
}
