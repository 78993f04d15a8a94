//! What the core knows about the files in each backend: `metadata.yaml`, each
//! `repository.yaml` and each Snapshot YAML, as reported by the storage adapter.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::api::{Repository, Snapshot};

/// State of one backend file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum FileState {
    /// Written (by us or found there).
    Present,
    /// The last write failed.
    Failed {
        /// Why (adapter message, never a secret value).
        message: String,
        /// When it failed (retries wait from here).
        at: DateTime<Utc>,
    },
}

impl FileState {
    /// Whether the file is known to exist.
    pub fn is_present(&self) -> bool {
        matches!(self, FileState::Present)
    }
}

/// Files of one BackupStorage's backend.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BackendFacts {
    /// `metadata.yaml`; `None` until the adapter reported on it.
    pub metadata: Option<FileState>,
    /// `<dir>/repository.yaml` by path (relative to the root, no leading slash).
    pub repositories: BTreeMap<String, FileState>,
    /// Repository objects parsed from `repository.yaml` files found by a listing.
    pub found_repositories: BTreeMap<String, Repository>,
    /// `<dir>/snapshots/<name>.yaml` by path.
    pub snapshots: BTreeMap<String, FileState>,
    /// Snapshot objects parsed from snapshot YAMLs found by a listing, by path.
    pub found_snapshots: BTreeMap<String, Snapshot>,
    /// Forget results of Snapshots, by snapshot metadata path.
    pub forgotten: BTreeMap<String, FileState>,
    /// Paths whose data was wiped.
    pub wiped: BTreeMap<String, FileState>,
}
