//! Every condition type and reason string KubeStash writes, with KubeStash's exact
//! spelling, so status written by Cairn reads the same to KubeStash tooling.

// BackupStorage.

/// BackupStorage: the backend root (`metadata.yaml`) is initialized.
pub const TYPE_BACKEND_INITIALIZED: &str = "BackendInitialized";
/// Reason for `BackendInitialized=True`.
pub const REASON_BACKEND_INITIALIZATION_SUCCEEDED: &str = "BackendInitializationSucceeded";
/// Reason for `BackendInitialized=False`.
pub const REASON_BACKEND_INITIALIZATION_FAILED: &str = "BackendInitializationFailed";
/// BackupStorage: the storage credential Secret exists.
pub const TYPE_BACKEND_SECRET_FOUND: &str = "BackendSecretFound";
/// Reason for `BackendSecretFound=True`.
pub const REASON_BACKEND_SECRET_AVAILABLE: &str = "BackendSecretAvailable";
/// Reason for `BackendSecretFound=False`.
pub const REASON_BACKEND_SECRET_NOT_AVAILABLE: &str = "BackendSecretNotAvailable";

// Repository.

/// Repository: `repository.yaml` uploaded and restic repositories ready.
pub const TYPE_REPOSITORY_INITIALIZED: &str = "RepositoryInitialized";
/// Reason for `RepositoryInitialized=True`.
pub const REASON_REPOSITORY_INITIALIZATION_SUCCEEDED: &str = "RepositoryInitializationSucceeded";
/// Reason for `RepositoryInitialized=False`.
pub const REASON_REPOSITORY_INITIALIZATION_FAILED: &str = "RepositoryInitializationFailed";

// Snapshot.

/// Snapshot: its YAML was uploaded to the backend.
pub const TYPE_SNAPSHOT_METADATA_UPLOADED: &str = "SnapshotMetadataUploaded";
/// Reason for `SnapshotMetadataUploaded=True`.
pub const REASON_SUCCESSFULLY_UPLOADED_SNAPSHOT_METADATA: &str =
    "SuccessfullyUploadedSnapshotMetadata";
/// Reason for `SnapshotMetadataUploaded=False`.
pub const REASON_FAILED_TO_UPLOAD_SNAPSHOT_METADATA: &str = "FailedToUploadSnapshotMetadata";
/// Snapshot: the Repository's recent-snapshot list includes it.
pub const TYPE_RECENT_SNAPSHOT_LIST_UPDATED: &str = "RecentSnapshotListUpdated";
/// Reason for `RecentSnapshotListUpdated=True`.
pub const REASON_SUCCESSFULLY_UPDATED_RECENT_SNAPSHOT_LIST: &str =
    "SuccessfullyUpdatedRecentSnapshotList";
/// Reason for `RecentSnapshotListUpdated=False`.
pub const REASON_FAILED_TO_UPDATE_RECENT_SNAPSHOT_LIST: &str = "FailedToUpdateRecentSnapshotList";
/// Snapshot: the executor died before finishing.
pub const TYPE_BACKUP_INCOMPLETE: &str = "BackupIncomplete";
/// Reason for `BackupIncomplete=True`.
pub const REASON_BACKUP_EXECUTOR_TERMINATED_BEFORE_COMPLETION: &str =
    "BackupExecutorTerminatedBeforeCompletion";

// BackupConfiguration (and RestoreSession for ValidationPassed).

/// BackupConfiguration/RestoreSession: the spec passed validation.
pub const TYPE_VALIDATION_PASSED: &str = "ValidationPassed";
/// Reason for `ValidationPassed=True`.
pub const REASON_RESOURCE_VALIDATION_PASSED: &str = "ResourceValidationPassed";
/// Reason for `ValidationPassed=False`.
pub const REASON_RESOURCE_VALIDATION_FAILED: &str = "ResourceValidationFailed";
/// BackupConfiguration session: the trigger schedule exists.
pub const TYPE_SCHEDULER_ENSURED: &str = "SchedulerEnsured";
/// Reason for `SchedulerEnsured=True` (same string as the type).
pub const REASON_SCHEDULER_ENSURED: &str = "SchedulerEnsured";
/// Reason for `SchedulerEnsured=False`.
pub const REASON_SCHEDULER_NOT_ENSURED: &str = "SchedulerNotEnsured";
/// BackupConfiguration: the instant backup after becoming Ready was created.
pub const TYPE_INITIAL_BACKUP_TRIGGERED: &str = "InitialBackupTriggered";
/// Reason for `InitialBackupTriggered=True`.
pub const REASON_SUCCESSFULLY_TRIGGERED_INITIAL_BACKUP: &str = "SuccessfullyTriggeredInitialBackup";
/// Reason for `InitialBackupTriggered=False`.
pub const REASON_FAILED_TO_TRIGGER_INITIAL_BACKUP: &str = "FailedToTriggerInitialBackup";

// BackupSession.

/// BackupSession: the run was skipped.
pub const TYPE_BACKUP_SKIPPED: &str = "BackupSkipped";
/// Reason for `BackupSkipped=True` (Go name `ReasonSkippedTakingNewBackup`).
pub const REASON_SKIPPED_TAKING_NEW_BACKUP: &str = "PreRequisitesNotSatisfied";
/// BackupSession: old sessions beyond `sessionHistoryLimit` were removed.
pub const TYPE_SESSION_HISTORY_CLEANED: &str = "SessionHistoryCleaned";
/// Reason for `SessionHistoryCleaned=True`.
pub const REASON_SUCCESSFULLY_CLEANED_SESSION_HISTORY: &str = "SuccessfullyCleanedSessionHistory";
/// Reason for `SessionHistoryCleaned=False`.
pub const REASON_FAILED_TO_CLEAN_SESSION_HISTORY: &str = "FailedToCleanSessionHistory";
/// BackupSession: preBackup hooks ran.
pub const TYPE_PRE_BACKUP_HOOKS_EXECUTION_SUCCEEDED: &str = "PreBackupHooksExecutionSucceeded";
/// Reason for `PreBackupHooksExecutionSucceeded=True`.
pub const REASON_SUCCESSFULLY_EXECUTED_PRE_BACKUP_HOOKS: &str =
    "SuccessfullyExecutedPreBackupHooks";
/// Reason for `PreBackupHooksExecutionSucceeded=False`.
pub const REASON_FAILED_TO_EXECUTE_PRE_BACKUP_HOOKS: &str = "FailedToExecutePreBackupHooks";
/// BackupSession: postBackup hooks ran.
pub const TYPE_POST_BACKUP_HOOKS_EXECUTION_SUCCEEDED: &str = "PostBackupHooksExecutionSucceeded";
/// Reason for `PostBackupHooksExecutionSucceeded=True`.
pub const REASON_SUCCESSFULLY_EXECUTED_POST_BACKUP_HOOKS: &str =
    "SuccessfullyExecutedPostBackupHooks";
/// Reason for `PostBackupHooksExecutionSucceeded=False`.
pub const REASON_FAILED_TO_EXECUTE_POST_BACKUP_HOOKS: &str = "FailedToExecutePostBackupHooks";
/// BackupSession: the backup executor (Job) exists.
pub const TYPE_BACKUP_EXECUTOR_ENSURED: &str = "BackupExecutorEnsured";
/// Reason for `BackupExecutorEnsured=True`.
pub const REASON_SUCCESSFULLY_ENSURED_BACKUP_EXECUTOR: &str = "SuccessfullyEnsuredBackupExecutor";
/// Reason for `BackupExecutorEnsured=False`.
pub const REASON_FAILED_TO_ENSURE_BACKUP_EXECUTOR: &str = "FailedToEnsureBackupExecutor";
/// BackupSession: the retention-policy executor exists.
pub const TYPE_RETENTION_POLICY_EXECUTOR_ENSURED: &str = "RetentionPolicyExecutorEnsured";
/// Reason for `RetentionPolicyExecutorEnsured=True`.
pub const REASON_SUCCESSFULLY_ENSURED_RETENTION_POLICY_EXECUTOR: &str =
    "SuccessfullyEnsuredRetentionPolicyExecutor";
/// Reason for `RetentionPolicyExecutorEnsured=False`.
pub const REASON_FAILED_TO_ENSURE_RETENTION_POLICY_EXECUTOR: &str =
    "FailedToEnsureRetentionPolicyExecutor";
/// BackupSession: one Snapshot per repository exists.
pub const TYPE_SNAPSHOTS_ENSURED: &str = "SnapshotsEnsured";
/// Reason for `SnapshotsEnsured=True`.
pub const REASON_SUCCESSFULLY_ENSURED_SNAPSHOTS: &str = "SuccessfullyEnsuredSnapshots";
/// Reason for `SnapshotsEnsured=False`.
pub const REASON_FAILED_TO_ENSURE_SNAPSHOTS: &str = "FailedToEnsureSnapshots";
/// BackupSession: snapshot cleanup was interrupted.
pub const TYPE_SNAPSHOT_CLEANUP_INCOMPLETE: &str = "SnapshotCleanupIncomplete";
/// Reason for `SnapshotCleanupIncomplete=True`.
pub const REASON_SNAPSHOT_CLEANUP_TERMINATED_BEFORE_COMPLETION: &str =
    "SnapshotCleanupTerminatedBeforeCompletion";
/// BackupSession: the executor pod is stuck in Pending.
pub const TYPE_POD_HAS_BEEN_IN_PENDING_STATE_FOR_LONGER_THAN_EXPECTED: &str =
    "PodHasBeenInPendingStateForLongerThanExpected";
/// Reason for the stuck-pending condition (same string as the type).
pub const REASON_POD_HAS_BEEN_IN_PENDING_STATE_FOR_LONGER_THAN_EXPECTED: &str =
    "PodHasBeenInPendingStateForLongerThanExpected";

// Sessions (backup and restore): the final step.

/// BackupSession/RestoreSession: metrics pushed; KubeStash's "final step" marker.
pub const TYPE_METRICS_PUSHED: &str = "MetricsPushed";
/// Reason for `MetricsPushed=True`.
pub const REASON_SUCCESSFULLY_PUSHED_METRICS: &str = "SuccessfullyPushedMetrics";
/// Reason for `MetricsPushed=False`.
pub const REASON_FAILED_TO_PUSH_METRICS: &str = "FailedToPushMetrics";

// RestoreSession.

/// RestoreSession: the restore executor (Job) exists.
pub const TYPE_RESTORE_EXECUTOR_ENSURED: &str = "RestoreExecutorEnsured";
/// Reason for `RestoreExecutorEnsured=True`.
pub const REASON_SUCCESSFULLY_ENSURED_RESTORE_EXECUTOR: &str = "SuccessfullyEnsuredRestoreExecutor";
/// Reason for `RestoreExecutorEnsured=False`.
pub const REASON_FAILED_TO_ENSURE_RESTORE_EXECUTOR: &str = "FailedToEnsureRestoreExecutor";
/// RestoreSession: preRestore hooks ran.
pub const TYPE_PRE_RESTORE_HOOKS_EXECUTION_SUCCEEDED: &str = "PreRestoreHooksExecutionSucceeded";
/// Reason for `PreRestoreHooksExecutionSucceeded=True`.
pub const REASON_SUCCESSFULLY_EXECUTED_PRE_RESTORE_HOOKS: &str =
    "SuccessfullyExecutedPreRestoreHooks";
/// Reason for `PreRestoreHooksExecutionSucceeded=False`.
pub const REASON_FAILED_TO_EXECUTE_PRE_RESTORE_HOOKS: &str = "FailedToExecutePreRestoreHooks";
/// RestoreSession: postRestore hooks ran.
pub const TYPE_POST_RESTORE_HOOKS_EXECUTION_SUCCEEDED: &str = "PostRestoreHooksExecutionSucceeded";
/// Reason for `PostRestoreHooksExecutionSucceeded=True`.
pub const REASON_SUCCESSFULLY_EXECUTED_POST_RESTORE_HOOKS: &str =
    "SuccessfullyExecutedPostRestoreHooks";
/// Reason for `PostRestoreHooksExecutionSucceeded=False`.
pub const REASON_FAILED_TO_EXECUTE_POST_RESTORE_HOOKS: &str = "FailedToExecutePostRestoreHooks";
/// RestoreSession: whether the restore target exists.
pub const TYPE_RESTORE_TARGET_FOUND: &str = "RestoreTargetFound";
/// Reason when the target's existence could not be checked.
pub const REASON_UNABLE_TO_CHECK_TARGET_AVAILABILITY: &str = "UnableToCheckTargetAvailability";
/// RestoreSession: the executor died before finishing.
pub const TYPE_RESTORE_INCOMPLETE: &str = "RestoreIncomplete";
/// Reason for `RestoreIncomplete=True`.
pub const REASON_RESTORE_EXECUTOR_TERMINATED_BEFORE_COMPLETION: &str =
    "RestoreExecutorTerminatedBeforeCompletion";
