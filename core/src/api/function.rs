//! Function (`addons.kubestash.com/v1alpha1`, cluster-scoped): the container a task
//! runs, with `${VAR}` placeholders in image and args. No status.

use k8s_openapi::api::core::v1::{ContainerPort, VolumeDevice, VolumeMount};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::schema::free_form_object;

/// Desired state of a Function.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    doc = "Function is the container image and arguments a task runs.",
    group = "addons.kubestash.com",
    version = "v1alpha1",
    kind = "Function",
    plural = "functions",
    singular = "function",
    shortname = "fn",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct FunctionSpec {
    /// Image; may contain `${DB_VERSION}`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image: String,
    /// Entrypoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Arguments with `${var:=default}` placeholders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Working directory.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    /// Exposed ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    /// Volume mounts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Block devices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_devices: Vec<VolumeDevice>,
    /// Container settings (offshoot-api `ContainerRuntimeSettings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub runtime_settings: Option<Value>,
    /// Image tags `${DB_VERSION}` may resolve to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub available_versions: Vec<String>,
}
