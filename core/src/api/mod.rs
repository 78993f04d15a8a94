//! KubeStash-compatible API types (storage, core, addons, appcatalog groups).
//!
//! Wire compatibility: field names, enum strings, groups, versions, scopes, short
//! names, categories and printer columns are KubeStash's. Go `omitempty` zero values
//! map to `String`/`bool`/integer fields skipped when zero; Go pointers map to `Option`.
//! Defaults the API server would apply are declared in the schema and exposed through
//! accessors, never written on parse, so a parse/serialise round trip is lossless.
//! offshoot-api types (pod templates, runtime settings, volumes) and raw parameters are
//! kept as free-form JSON with `x-kubernetes-preserve-unknown-fields`.
//!
//! Phase rules (`calculate_phase`) are pure functions of the objects, as in KubeStash's
//! `*_helpers.go`; condition helpers take the transition time as an argument.

pub mod addon;
pub mod addon_info;
pub mod app_binding;
pub mod backend;
pub mod backup_configuration;
pub mod backup_session;
pub mod backup_storage;
pub mod component;
pub mod component_stats;
pub mod condition;
pub mod condition_type;
pub mod deletion_policy;
pub mod driver;
pub mod function;
pub mod group;
pub mod hook;
pub mod hook_template;
pub mod kind;
pub mod label;
pub mod label_selector;
pub mod manifest_options;
pub mod parameter;
pub mod reference;
pub mod repository;
pub mod resource_found;
pub mod restore_session;
pub mod retention_policy;
pub mod schema;
pub mod snapshot;
pub mod unknown_fields;
pub mod usage_policy;
pub mod volume;
pub mod wire;

pub use addon::{Addon, AddonSpec, Task, TaskExecutor};
pub use addon_info::{AddonInfo, TaskReference};
pub use app_binding::{AppBinding, AppBindingSpec};
pub use backend::{Backend, StorageProvider};
pub use backup_configuration::{
    BackupConfiguration, BackupConfigurationSpec, BackupConfigurationStatus, BackupInvokerPhase,
    Session,
};
pub use backup_session::{
    BackupSession, BackupSessionPhase, BackupSessionSpec, BackupSessionStatus,
};
pub use backup_storage::{
    BackupStorage, BackupStoragePhase, BackupStorageSpec, BackupStorageStatus,
};
pub use condition::{
    get_condition, has_condition, is_condition_false, is_condition_true, is_condition_unknown,
    remove_condition, set_condition, Condition, ConditionSeverity, ConditionStatus,
};
pub use deletion_policy::{BackupConfigDeletionPolicy, DeletionPolicy};
pub use driver::Driver;
pub use function::{Function, FunctionSpec};
pub use hook_template::{HookTemplate, HookTemplateSpec};
pub use kind::Kind;
pub use reference::{ObjectReference, TypedObjectReference};
pub use repository::{Repository, RepositoryPhase, RepositorySpec, RepositoryStatus};
pub use restore_session::{RestorePhase, RestoreSession, RestoreSessionSpec, RestoreSessionStatus};
pub use retention_policy::{RetentionPolicy, RetentionPolicySpec};
pub use snapshot::{
    Component, ComponentPhase, Snapshot, SnapshotPhase, SnapshotSpec, SnapshotStatus,
};
pub use unknown_fields::unknown_fields;
pub use usage_policy::{usage_allowed, AllowedNamespaces, FromNamespaces, UsagePolicy};
