//! Driver-specific statistics of a snapshot component (restic, Solr, WAL-G, ...).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::wire::{is_zero_f64, is_zero_i64};

/// Statistics of one restic snapshot.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResticStats {
    /// Final summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<ResticSummary>,
    /// Progress while running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<BackupProgress>,
}

/// Summary of a finished restic backup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResticSummary {
    /// restic snapshot id (64 hex digits).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Bytes added to the repository, e.g. `1.036 MiB`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uploaded: String,
    /// Path (or stdin file name) backed up, e.g. `dumpfile.sql`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host_path: String,
    /// Size of the backed-up data.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub size: String,
    /// Backup start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<DateTime<Utc>>,
    /// Backup end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<DateTime<Utc>>,
}

/// Progress of a running backup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupProgress {
    /// Seconds since start.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub seconds_elapsed: i64,
    /// Percentage done, as a string.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub percent_done: String,
    /// Files to back up.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub total_files: i64,
    /// Files backed up.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub files_done: i64,
    /// Bytes backed up.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub backup_done: String,
    /// Bytes to back up.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub total: String,
    /// Throughput.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub speed: String,
}

/// Statistics of one volume snapshot.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSnapshotterStats {
    /// Source PVC.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pvc_name: String,
    /// Mount path of the PVC.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host_path: String,
    /// VolumeSnapshot object name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub volume_snapshot_name: String,
    /// When the VolumeSnapshot was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_snapshot_time: Option<DateTime<Utc>>,
}

/// WAL-G statistics.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalGStats {
    /// Backup id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Databases included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<String>,
    /// Backup start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<DateTime<Utc>>,
    /// Backup end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_time: Option<DateTime<Utc>>,
}

/// Medusa statistics.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MedusaStats {
    /// Backup name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub backup_name: String,
    /// Nodes included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backup_nodes: Vec<String>,
    /// Medusa status string.
    #[serde(default, rename = "status", skip_serializing_if = "String::is_empty")]
    pub status_type: String,
    /// Start time, as Medusa reports it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub start_time: String,
    /// Finish time, as Medusa reports it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub finish_time: String,
}

/// Solr statistics.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SolrStats {
    /// Backup id.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub backup_id: i64,
    /// Backup name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub backup_name: String,
    /// Collection.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub collection: String,
    /// Number of index files.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub index_file_count: i64,
    /// Index size in MB.
    #[serde(default, rename = "indexSizeMB", skip_serializing_if = "is_zero_f64")]
    pub index_size_mb: f64,
    /// Backup location.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub location: String,
    /// Start time, as Solr reports it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub start_time: String,
    /// Uploaded index size in MB.
    #[serde(
        default,
        rename = "uploadedIndexFileMB",
        skip_serializing_if = "is_zero_f64"
    )]
    pub uploaded_index_file_mb: f64,
}

/// Statistics of archived logs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogStats {
    /// First log position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Last log position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Log sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lsn: Option<String>,
    /// Failed pushes.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub total_failed_count: i64,
    /// The latest failed pushes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_failed_stats: Vec<Log>,
    /// Successful pushes.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub total_succeeded_count: i64,
    /// The latest successful pushes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_succeeded_stats: Vec<Log>,
    /// The latest log retention runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_log_retention_stats: Vec<LogRetentionStatus>,
}

/// One log retention run.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogRetentionStatus {
    /// When it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_execution_time: Option<String>,
    /// Retention period applied.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub retention_period_applied: String,
    /// Logs deleted.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub deleted_log_count: i64,
    /// Failure, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// One log push.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Log {
    /// First position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Last position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Failure, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// clickhouse-backup statistics.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClickHouseStats {
    /// Backup id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Status string.
    #[serde(default, rename = "status", skip_serializing_if = "String::is_empty")]
    pub status_type: String,
    /// Host.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// Start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<DateTime<Utc>>,
    /// Finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<DateTime<Utc>>,
}

/// neo4j-admin statistics.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jStats {
    /// Backup file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file: String,
    /// Database.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub database: String,
    /// Database id.
    #[serde(
        default,
        rename = "databaseID",
        skip_serializing_if = "String::is_empty"
    )]
    pub database_id: String,
    /// Time, as neo4j reports it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub time: String,
    /// Full backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full: Option<bool>,
    /// Compressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compressed: Option<bool>,
    /// Lowest transaction id.
    #[serde(default, rename = "lowestTX", skip_serializing_if = "is_zero_i64")]
    pub lowest_tx: i64,
    /// Highest transaction id.
    #[serde(default, rename = "highestTX", skip_serializing_if = "is_zero_i64")]
    pub highest_tx: i64,
    /// Store id hash.
    #[serde(
        default,
        rename = "storeIDHash",
        skip_serializing_if = "String::is_empty"
    )]
    pub store_id_hash: String,
    /// Recovered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered: Option<bool>,
}
