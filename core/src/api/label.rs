//! Label, annotation and finalizer keys KubeStash puts on the objects it manages.

/// Label `app.kubernetes.io/managed-by` key.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY`] on KubeStash-managed objects.
pub const MANAGED_BY_KUBESTASH: &str = "kubestash.com";
/// Finalizer that blocks deletion until backend cleanup ran.
pub const CLEANUP_FINALIZER: &str = "kubestash.com/cleanup";
/// Label: kind of the invoker (BackupConfiguration, BackupBatch).
pub const INVOKER_KIND: &str = "kubestash.com/invoker-kind";
/// Label: name of the invoker.
pub const INVOKER_NAME: &str = "kubestash.com/invoker-name";
/// Label: namespace of the invoker.
pub const INVOKER_NAMESPACE: &str = "kubestash.com/invoker-namespace";
/// Label: BackupConfiguration session name.
pub const SESSION_NAME: &str = "kubestash.com/session-name";
/// Snapshot label: owning Repository name.
pub const REPO_NAME: &str = "kubestash.com/repo-name";
/// Snapshot label: kind of the backed-up application.
pub const APP_REF_KIND: &str = "kubestash.com/app-ref-kind";
/// Snapshot label: namespace of the backed-up application.
pub const APP_REF_NAMESPACE: &str = "kubestash.com/app-ref-namespace";
/// Snapshot label: name of the backed-up application.
pub const APP_REF_NAME: &str = "kubestash.com/app-ref-name";
/// Snapshot annotation: database version at backup time.
pub const ANN_KUBEDB_APP_VERSION: &str = "kubedb.com/db-version";
/// Annotation naming the beneficiary of a RestoreSession.
pub const ANN_RESTORE_SESSION_BENEFICIARY: &str = "restoresession.kubestash.com/beneficiary";
