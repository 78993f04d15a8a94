//! BackupConfiguration (`core.kubestash.com/v1alpha1`): what to back up, where, and on
//! which schedule.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::addon_info::AddonInfo;
use super::backup_storage::BackupStoragePhase;
use super::condition::{is_condition_false, is_condition_true, Condition};
use super::condition_type::{TYPE_SCHEDULER_ENSURED, TYPE_VALIDATION_PASSED};
use super::deletion_policy::BackupConfigDeletionPolicy;
use super::hook::HookInfo;
use super::reference::{ObjectReference, TypedObjectReference};
use super::repository::RepositoryPhase;
use super::resource_found::ResourceFoundStatus;
use super::schema::{free_form_object, no_default};
use super::wire::{is_false, is_zero_i32};

/// Desired state of a BackupConfiguration.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    doc = "BackupConfiguration says what to back up, where, and when.",
    group = "core.kubestash.com",
    version = "v1alpha1",
    kind = "BackupConfiguration",
    plural = "backupconfigurations",
    singular = "backupconfiguration",
    shortname = "bc",
    namespaced,
    status = "BackupConfigurationStatus",
    category = "kubestash",
    category = "appscode",
    category = "all",
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Paused","type":"boolean","jsonPath":".spec.paused"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct BackupConfigurationSpec {
    /// The application to back up (same namespace), e.g. a KubeDB `Singlestore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TypedObjectReference>,
    /// Storages (with their retention policies) the sessions write to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backends: Vec<BackendReference>,
    /// Backup sessions: schedule, addon, repositories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<Session>,
    /// Suspends scheduled backups.
    #[serde(default, skip_serializing_if = "is_false")]
    pub paused: bool,
}

/// A named BackupStorage plus the RetentionPolicy applied to its snapshots.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackendReference {
    /// Name that session repositories refer to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The BackupStorage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_ref: Option<ObjectReference>,
    /// The RetentionPolicy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_policy: Option<ObjectReference>,
}

/// One backup session: session settings (`SessionConfig`, inline), addon, repositories.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Session name, unique in the configuration.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// When to run (CronJob-like).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<SchedulerSpec>,
    /// Hooks around the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<BackupHooks>,
    /// Retries of a failed session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_config: Option<RetryConfig>,
    /// Time limit of a session, Go duration string; none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_timeout: Option<String>,
    /// BackupSessions to keep (default 1).
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    #[schemars(extend("default" = 1))]
    pub session_history_limit: i32,
    /// Addon and tasks to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon: Option<AddonInfo>,
    /// Repositories to write, one Repository object each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<RepositoryInfo>,
}

impl Session {
    /// BackupSessions to keep, applying the default of 1 when unset.
    pub fn session_history_limit(&self) -> i32 {
        if self.session_history_limit == 0 {
            1
        } else {
            self.session_history_limit
        }
    }
}

/// Schedule of a session; mirrors a CronJob spec.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchedulerSpec {
    /// Five-field cron expression.
    pub schedule: String,
    /// Deadline for starting a missed run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_deadline_seconds: Option<i64>,
    /// What to do when a run is still active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_policy: Option<ConcurrencyPolicy>,
    /// Suspends the schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Template of the trigger job.
    pub job_template: JobTemplate,
    /// Successful trigger jobs to keep (Kubernetes default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful_jobs_history_limit: Option<i32>,
    /// Failed trigger jobs to keep (Kubernetes default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_jobs_history_limit: Option<i32>,
}

/// CronJob concurrency policy.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum ConcurrencyPolicy {
    /// Runs may overlap.
    Allow,
    /// Skip a run while one is active.
    Forbid,
    /// Replace the active run.
    Replace,
}

/// Job template of the trigger CronJob (a subset of `JobSpec`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobTemplate {
    /// Pods to run in parallel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<i32>,
    /// Completions wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completions: Option<i32>,
    /// Job deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<i64>,
    /// Retries before the job fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_limit: Option<i32>,
    /// Pod template (offshoot-api `PodTemplateSpec`).
    #[serde(default)]
    #[schemars(schema_with = "free_form_object")]
    pub template: Value,
    /// Seconds to keep a finished job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds_after_finished: Option<i32>,
    /// `NonIndexed` or `Indexed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_mode: Option<String>,
    /// Suspends the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

/// Hooks run before and after a backup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupHooks {
    /// Run before the backup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_backup: Vec<HookInfo>,
    /// Run after the backup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_backup: Vec<HookInfo>,
}

/// Retries of a failed session.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetryConfig {
    /// Maximum retries (default 1, minimum 1).
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    #[schemars(extend("default" = 1), range(min = 1))]
    pub max_retry: i32,
    /// Delay before a retry, Go duration string (`30s`, `2m`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub delay: String,
}

/// Session failure policy; defined by KubeStash though no field uses it.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum FailurePolicy {
    /// Fail the session.
    Fail,
    /// Retry the session.
    Retry,
}

/// A repository a session writes to.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryInfo {
    /// Repository object to create.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Name of a `backends[]` entry; empty = the default backend.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub backend: String,
    /// BackupVerifier to run on new snapshots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_verifier: Option<ObjectReference>,
    /// Directory inside the backend.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub directory: String,
    /// Secret with `RESTIC_PASSWORD`; namespace defaults to the configuration's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_secret: Option<ObjectReference>,
    /// Deletion policy of the Repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<BackupConfigDeletionPolicy>,
}

/// Observed state of a BackupConfiguration (`OffshootStatus` inline plus phase).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupConfigurationStatus {
    /// Readiness of each backend.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backends: Vec<BackendStatus>,
    /// Readiness of each repository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<RepoStatus>,
    /// Other dependencies (addon, functions, hook templates) and whether they exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<ResourceFoundStatus>,
    /// Per-session scheduling state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<SessionStatus>,
    /// `NotReady`, `Ready` or `Invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BackupInvokerPhase>,
    /// Whether the target exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_found: Option<bool>,
    /// `ValidationPassed`, `InitialBackupTriggered`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// Phase of a backup invoker (BackupConfiguration).
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum BackupInvokerPhase {
    /// Some dependency is not ready.
    NotReady,
    /// Everything is in place.
    Ready,
    /// The spec failed validation.
    Invalid,
}

/// Readiness of one backend.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackendStatus {
    /// Backend name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Storage ready and retention policy found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    /// The storage's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageStatus>,
    /// The retention policy's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_policy: Option<RetentionPolicyStatus>,
}

/// State of a backend's BackupStorage.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorageStatus {
    /// The BackupStorage.
    #[serde(default)]
    #[schemars(transform = no_default)]
    pub r#ref: ObjectReference,
    /// Its phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BackupStoragePhase>,
    /// Why it is not usable.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// State of a backend's RetentionPolicy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPolicyStatus {
    /// The RetentionPolicy.
    #[serde(default)]
    #[schemars(transform = no_default)]
    pub r#ref: ObjectReference,
    /// Whether it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<bool>,
    /// Why it is not usable.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// Readiness of one repository.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepoStatus {
    /// Repository name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Repository phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RepositoryPhase>,
    /// Why it is not ready.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Whether a BackupVerifier is configured.
    #[serde(default, skip_serializing_if = "is_false")]
    pub verification_configured: bool,
}

/// Scheduling state of one session.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus {
    /// Session name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Next scheduled run, as text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub next_schedule: String,
    /// `SchedulerEnsured`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

impl BackupConfiguration {
    /// KubeStash's phase rule: `Invalid` when `ValidationPassed` is False; `Ready` when
    /// the target is found, every spec backend has a ready status entry and every spec
    /// session has `SchedulerEnsured=True`; else `NotReady`.
    pub fn calculate_phase(&self) -> BackupInvokerPhase {
        let Some(status) = &self.status else {
            return BackupInvokerPhase::NotReady;
        };
        if is_condition_false(&status.conditions, TYPE_VALIDATION_PASSED) {
            return BackupInvokerPhase::Invalid;
        }
        if status.target_found == Some(true)
            && self.backends_ready(status)
            && self.sessions_ready(status)
        {
            BackupInvokerPhase::Ready
        } else {
            BackupInvokerPhase::NotReady
        }
    }

    /// Every spec backend has a status entry and all entries are ready (an unset
    /// `ready` counts as not ready, where KubeStash would dereference nil).
    fn backends_ready(&self, status: &BackupConfigurationStatus) -> bool {
        status.backends.len() == self.spec.backends.len()
            && status.backends.iter().all(|b| b.ready == Some(true))
    }

    fn sessions_ready(&self, status: &BackupConfigurationStatus) -> bool {
        status.sessions.len() == self.spec.sessions.len()
            && status
                .sessions
                .iter()
                .all(|s| is_condition_true(&s.conditions, TYPE_SCHEDULER_ENSURED))
    }

    /// The session named `name`.
    pub fn session(&self, name: &str) -> Option<&Session> {
        self.spec.sessions.iter().find(|s| s.name == name)
    }

    /// The backend named `name`.
    pub fn backend(&self, name: &str) -> Option<&BackendReference> {
        self.spec.backends.iter().find(|b| b.name == name)
    }
}
