//! The kinds Cairn serves, as a closed enum for dispatching on `apiVersion`/`kind`.

/// One of the API kinds Cairn understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `storage.kubestash.com/v1alpha1` BackupStorage.
    BackupStorage,
    /// `storage.kubestash.com/v1alpha1` Repository.
    Repository,
    /// `storage.kubestash.com/v1alpha1` Snapshot.
    Snapshot,
    /// `storage.kubestash.com/v1alpha1` RetentionPolicy.
    RetentionPolicy,
    /// `core.kubestash.com/v1alpha1` BackupConfiguration.
    BackupConfiguration,
    /// `core.kubestash.com/v1alpha1` BackupSession.
    BackupSession,
    /// `core.kubestash.com/v1alpha1` RestoreSession.
    RestoreSession,
    /// `core.kubestash.com/v1alpha1` HookTemplate.
    HookTemplate,
    /// `addons.kubestash.com/v1alpha1` Addon (cluster-scoped).
    Addon,
    /// `addons.kubestash.com/v1alpha1` Function (cluster-scoped).
    Function,
    /// `appcatalog.appscode.com/v1alpha1` AppBinding.
    AppBinding,
}

impl Kind {
    /// Every kind, in the order CRDs are written.
    pub const ALL: [Kind; 11] = [
        Kind::BackupStorage,
        Kind::Repository,
        Kind::Snapshot,
        Kind::RetentionPolicy,
        Kind::BackupConfiguration,
        Kind::BackupSession,
        Kind::RestoreSession,
        Kind::HookTemplate,
        Kind::Addon,
        Kind::Function,
        Kind::AppBinding,
    ];

    /// The `kind` string.
    pub fn name(self) -> &'static str {
        match self {
            Kind::BackupStorage => "BackupStorage",
            Kind::Repository => "Repository",
            Kind::Snapshot => "Snapshot",
            Kind::RetentionPolicy => "RetentionPolicy",
            Kind::BackupConfiguration => "BackupConfiguration",
            Kind::BackupSession => "BackupSession",
            Kind::RestoreSession => "RestoreSession",
            Kind::HookTemplate => "HookTemplate",
            Kind::Addon => "Addon",
            Kind::Function => "Function",
            Kind::AppBinding => "AppBinding",
        }
    }

    /// The API group.
    pub fn group(self) -> &'static str {
        use super::group::{ADDONS_GROUP, APPCATALOG_GROUP, CORE_GROUP, STORAGE_GROUP};
        match self {
            Kind::BackupStorage | Kind::Repository | Kind::Snapshot | Kind::RetentionPolicy => {
                STORAGE_GROUP
            }
            Kind::BackupConfiguration
            | Kind::BackupSession
            | Kind::RestoreSession
            | Kind::HookTemplate => CORE_GROUP,
            Kind::Addon | Kind::Function => ADDONS_GROUP,
            Kind::AppBinding => APPCATALOG_GROUP,
        }
    }

    /// The API version (`v1alpha1` for every kind).
    pub fn version(self) -> &'static str {
        super::group::VERSION
    }

    /// `group/version`, as written in `apiVersion`.
    pub fn api_version(self) -> String {
        format!("{}/{}", self.group(), self.version())
    }

    /// The lowercase plural resource name.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::BackupStorage => "backupstorages",
            Kind::Repository => "repositories",
            Kind::Snapshot => "snapshots",
            Kind::RetentionPolicy => "retentionpolicies",
            Kind::BackupConfiguration => "backupconfigurations",
            Kind::BackupSession => "backupsessions",
            Kind::RestoreSession => "restoresessions",
            Kind::HookTemplate => "hooktemplates",
            Kind::Addon => "addons",
            Kind::Function => "functions",
            Kind::AppBinding => "appbindings",
        }
    }

    /// Whether objects of this kind live in a namespace.
    pub fn namespaced(self) -> bool {
        !matches!(self, Kind::Addon | Kind::Function)
    }

    /// The kind named by `api_version` and `kind`, if Cairn serves it.
    pub fn from_type_meta(api_version: &str, kind: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == kind && k.api_version() == api_version)
    }
}
