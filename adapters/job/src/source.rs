//! Serves one restic snapshot's files to the restore engine.

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::Arc;

use cairn_db::restore::SnapshotSource;
use cairn_storage::{Repo, SnapshotInfo};

/// One snapshot of one repository, readable file by file.
pub struct RepoSnapshotSource {
    repo: Arc<Repo>,
    snapshot: SnapshotInfo,
    paths: BTreeSet<String>,
}

impl RepoSnapshotSource {
    /// Lists the snapshot's files once, so `exists` is cheap. Blocking.
    pub fn new(repo: Arc<Repo>, snapshot: SnapshotInfo) -> cairn_storage::Result<Self> {
        let paths = repo.files(&snapshot)?.into_iter().map(|f| f.path).collect();
        Ok(Self {
            repo,
            snapshot,
            paths,
        })
    }
}

impl SnapshotSource for RepoSnapshotSource {
    fn open(&self, path: &str) -> std::io::Result<Box<dyn Read + Send>> {
        self.repo.open_file(&self.snapshot, path).map_err(|err| {
            std::io::Error::other(format!(
                "reading {path} from snapshot {}: {err}",
                self.snapshot.short_id
            ))
        })
    }

    fn exists(&self, path: &str) -> bool {
        self.paths.contains(path)
    }

    fn describe(&self) -> String {
        format!("snapshot {}", self.snapshot.short_id)
    }
}
