//! The addon and tasks a BackupConfiguration session or RestoreSession runs
//! (`AddonInfo`, `TaskReference`).

use k8s_openapi::api::core::v1::{EnvVar, VolumeMount};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::schema::{free_form_object, free_form_object_list};
use super::volume::VolumeSource;

/// Addon to use and which of its tasks to run.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddonInfo {
    /// Addon object name, e.g. `singlestore-addon`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Tasks to run, e.g. `logical-backup`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskReference>,
    /// Container settings (offshoot-api `ContainerRuntimeSettings`) for the executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub container_runtime_settings: Option<Value>,
    /// Pod template (offshoot-api `PodTemplateSpec`) overriding the executor pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub job_template: Option<Value>,
}

/// One task of an addon with its parameters.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskReference {
    /// Task name as declared by the Addon.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Environment variables for the task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<EnvVar>,
    /// Task parameters (free-form), e.g. `{databases: "db1,db2", args: "..."}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub params: Option<Value>,
    /// Volumes of the target to back up or restore into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_volumes: Option<TargetVolumeInfo>,
    /// Sources of the volumes the addon's tasks declare.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addon_volumes: Vec<AddonVolumeInfo>,
}

impl TaskReference {
    /// The string value of parameter `name`, if set.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.as_ref()?.get(name)?.as_str()
    }
}

/// Volumes of the target application.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetVolumeInfo {
    /// Volumes (offshoot-api `Volume`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "free_form_object_list")]
    pub volumes: Vec<Value>,
    /// Where they are mounted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Claims to create (offshoot-api `PersistentVolumeClaim`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "free_form_object_list")]
    pub volume_claim_templates: Vec<Value>,
}

/// Source of a volume declared by an addon task.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddonVolumeInfo {
    /// Volume name as declared by the task.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Its source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<VolumeSource>,
}
