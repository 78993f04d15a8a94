//! Addon (`addons.kubestash.com/v1alpha1`, cluster-scoped): the backup and restore
//! tasks available for one kind of application. No status.

use k8s_openapi::api::core::v1::VolumeMount;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::driver::Driver;
use super::parameter::ParameterDefinition;
use super::volume::VolumeSource;
use super::wire::is_false;

/// Desired state of an Addon.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    doc = "Addon lists the backup and restore tasks for one kind of application.",
    group = "addons.kubestash.com",
    version = "v1alpha1",
    kind = "Addon",
    plural = "addons",
    singular = "addon",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct AddonSpec {
    /// Backup tasks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backup_tasks: Vec<Task>,
    /// Restore tasks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restore_tasks: Vec<Task>,
}

/// One task: the Function to run and how.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// Task name, e.g. `logical-backup`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Function object name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub function: String,
    /// Driver the task uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<Driver>,
    /// How the task runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<TaskExecutor>,
    /// At most one instance runs at a time.
    #[serde(default, skip_serializing_if = "is_false")]
    pub singleton: bool,
    /// Declared parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterDefinition>,
    /// Volumes the task needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_template: Vec<VolumeTemplate>,
    /// Where they are mounted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
}

impl Task {
    /// Default value of parameter `name`, if declared.
    pub fn parameter_default(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.default.as_str())
    }
}

/// How a task runs.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum TaskExecutor {
    /// A Job.
    Job,
    /// A sidecar of the target.
    Sidecar,
    /// An ephemeral container of the target.
    EphemeralContainer,
    /// Several levels of Jobs.
    MultiLevelJob,
}

/// A volume a task needs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumeTemplate {
    /// Volume name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub usage: String,
    /// Its source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<VolumeSource>,
}

impl Addon {
    /// The backup task named `name`.
    pub fn backup_task(&self, name: &str) -> Option<&Task> {
        self.spec.backup_tasks.iter().find(|t| t.name == name)
    }

    /// The restore task named `name`.
    pub fn restore_task(&self, name: &str) -> Option<&Task> {
        self.spec.restore_tasks.iter().find(|t| t.name == name)
    }
}
