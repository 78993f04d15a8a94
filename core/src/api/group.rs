//! API groups and versions of the kinds Cairn serves.

/// Group of BackupStorage, Repository, Snapshot, RetentionPolicy.
pub const STORAGE_GROUP: &str = "storage.kubestash.com";
/// Group of BackupConfiguration, BackupSession, RestoreSession, HookTemplate.
pub const CORE_GROUP: &str = "core.kubestash.com";
/// Group of Addon and Function.
pub const ADDONS_GROUP: &str = "addons.kubestash.com";
/// Group of AppBinding.
pub const APPCATALOG_GROUP: &str = "appcatalog.appscode.com";
/// Group of the backend metadata file (`BackendMeta`).
pub const CONFIG_GROUP: &str = "config.kubestash.com";
/// Version shared by every group above.
pub const VERSION: &str = "v1alpha1";
/// KubeDB's API group (typical `target.apiGroup`).
pub const KUBEDB_GROUP: &str = "kubedb.com";
