//! What the core knows about the files in each backend: `metadata.yaml`, each
//! `repository.yaml` and each Snapshot YAML, as reported by the storage adapter.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::{Kind, Repository, Snapshot};

use super::ObjectKey;

/// State of one backend file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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

impl BackendFacts {
    /// Forgets the listing entries of a Repository or Snapshot object that was removed,
    /// so recovery does not bring back what the user deleted.
    pub fn forget_found(&mut self, kind: Kind, key: &ObjectKey) {
        let is = |meta: &ObjectMeta| {
            meta.name.as_deref() == Some(key.name.as_str())
                && meta
                    .namespace
                    .as_deref()
                    .is_none_or(|ns| ns.is_empty() || ns == key.namespace)
        };
        match kind {
            Kind::Repository => self.found_repositories.retain(|_, r| !is(&r.metadata)),
            Kind::Snapshot => self.found_snapshots.retain(|_, s| !is(&s.metadata)),
            _ => {}
        }
    }
}
