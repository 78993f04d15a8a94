//! Snapshot component names, task names and backend layout constants (apis/constant.go).

/// Component holding a logical database dump.
pub const COMPONENT_DUMP: &str = "dump";
/// Component holding write-ahead logs.
pub const COMPONENT_WAL: &str = "wal";
/// Component holding object manifests.
pub const COMPONENT_MANIFEST: &str = "manifest";
/// Component holding volume snapshots.
pub const COMPONENT_VOLUME_SNAPSHOT: &str = "volumesnapshot";
/// Component holding dashboards.
pub const COMPONENT_DASHBOARD: &str = "dashboard";
/// Component holding a physical backup.
pub const COMPONENT_PHYSICAL: &str = "physical";
/// Component prefix for workload pods (`dump-pod-<ordinal>` style names).
pub const COMPONENT_POD: &str = "pod";

/// Addon task: logical backup.
pub const TASK_LOGICAL_BACKUP: &str = "logical-backup";
/// Addon task: restore of a logical backup.
pub const TASK_LOGICAL_BACKUP_RESTORE: &str = "logical-backup-restore";
/// Addon task: manifest backup.
pub const TASK_MANIFEST_BACKUP: &str = "manifest-backup";
/// Addon task: manifest restore.
pub const TASK_MANIFEST_RESTORE: &str = "manifest-restore";

/// Snapshot data layout version written in `spec.version`.
pub const SNAPSHOT_VERSION_V1: &str = "v1";
/// Directory under a Repository path holding restic repositories.
pub const DIR_REPOSITORY: &str = "repository";
/// Directory under a Repository path holding Snapshot YAMLs.
pub const DIR_SNAPSHOTS: &str = "snapshots";
/// File at the backend root identifying an initialized BackupStorage.
pub const FILE_BACKEND_METADATA: &str = "metadata.yaml";
/// File under a Repository path holding the Repository object.
pub const FILE_REPOSITORY: &str = "repository.yaml";

/// Name prefix of the trigger CronJob (`trigger-<config>-<session>`).
pub const PREFIX_TRIGGER: &str = "trigger";
/// Name of the scratch volume attached to executor Jobs.
pub const TEMP_DIR_VOLUME_NAME: &str = "kubestash-tmp-volume";
/// Mount path of the scratch volume.
pub const TEMP_DIR_MOUNT_PATH: &str = "/kubestash-tmp";
/// Key of the DB version placeholder in Function images (`${DB_VERSION}`).
pub const KEY_DB_VERSION: &str = "DB_VERSION";
/// Key of the restic password in the encryption Secret.
pub const KEY_RESTIC_PASSWORD: &str = "RESTIC_PASSWORD";
/// RestoreSession `dataSource.snapshot` value selecting the newest snapshot.
pub const SNAPSHOT_LATEST: &str = "latest";
