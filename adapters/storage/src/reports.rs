//! Plain data returned by [`crate::repo::Repo`] operations (serialisable for `--json` output).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Snapshot metadata supplied by the caller of `backup`.
#[derive(Debug, Clone, Default)]
pub struct SnapshotMeta {
    /// Hostname recorded in the snapshot (restic `--host`).
    pub hostname: String,
    /// Tags (restic `--tag`); must not contain ','.
    pub tags: Vec<String>,
    /// Optional label.
    pub label: Option<String>,
    /// Optional free-text description.
    pub description: Option<String>,
    /// Snapshot time; now when `None`.
    pub time: Option<DateTime<Utc>>,
}

/// Result of a successful backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSummary {
    /// Full snapshot id (64 hex digits).
    pub snapshot_id: String,
    /// First 8 hex digits of the id.
    pub short_id: String,
    /// Snapshot time.
    pub time: DateTime<Utc>,
    /// Files backed up.
    pub files: u64,
    /// Bytes read from the entries.
    pub bytes_read: u64,
    /// Bytes added to the repository after compression (packed, data and trees).
    pub bytes_added: u64,
    /// Bytes of new, deduplicated data before compression.
    pub bytes_added_uncompressed: u64,
    /// New data blobs stored.
    pub data_blobs_added: u64,
    /// New tree blobs stored.
    pub tree_blobs_added: u64,
}

/// A snapshot as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// Full id (64 hex digits).
    pub id: String,
    /// First 8 hex digits.
    pub short_id: String,
    /// Snapshot time.
    pub time: DateTime<Utc>,
    /// Hostname.
    pub hostname: String,
    /// Backed-up paths.
    pub paths: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Label (empty if none).
    pub label: String,
    /// Description.
    pub description: Option<String>,
    /// Bytes of the files (restic `total_bytes_processed`), if recorded.
    pub total_bytes: Option<u64>,
    /// Bytes added to the repository by this snapshot (packed), if recorded.
    pub bytes_added: Option<u64>,
    /// Number of files, if recorded.
    pub files: Option<u64>,
}

/// A file inside a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    /// Absolute path, e.g. `/dumpfile.sql`.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}

/// Retention: how many snapshots to keep per period (restic `--keep-*`); `None` = not used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeepPolicy {
    /// Keep the last N.
    pub last: Option<u32>,
    /// Keep the last per hour, for N hours.
    pub hourly: Option<u32>,
    /// Per day.
    pub daily: Option<u32>,
    /// Per week.
    pub weekly: Option<u32>,
    /// Per month.
    pub monthly: Option<u32>,
    /// Per year.
    pub yearly: Option<u32>,
}

/// What `forget` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgetReport {
    /// Ids of removed snapshots.
    pub removed: Vec<String>,
    /// Ids of kept snapshots.
    pub kept: Vec<String>,
    /// Prune outcome, when prune was requested.
    pub prune: Option<PruneReport>,
}

/// What prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    /// Pack files deleted.
    pub packs_removed: u64,
    /// Bytes deleted.
    pub bytes_removed: u64,
    /// Pack files repacked (partly used).
    pub packs_repacked: u64,
}

/// Findings of `check`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Integrity errors (the repository is damaged).
    pub errors: Vec<String>,
    /// Warnings (e.g. unused data; `prune` fixes them).
    pub warnings: Vec<String>,
}

impl CheckReport {
    /// No errors (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Repository size figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoStats {
    /// Number of pack files.
    pub packs: u64,
    /// Bytes of pack files (KubeStash "size").
    pub pack_bytes: u64,
    /// Number of snapshots.
    pub snapshots: u64,
    /// Bytes of every object of the repository (packs, index, keys, snapshots, config).
    pub total_bytes: u64,
}
