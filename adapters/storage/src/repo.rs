//! The restic repository API the CLI calls. Every method blocks (on the runtime handle given at
//! open/init for storage IO): call them from `spawn_blocking` or a plain thread.
//!
//! `backup`, `forget`, `forget_ids` and `check` take the repository lock ([`crate::lock`]) themselves.

use std::io::Read;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use rustic_core::jiff::Zoned;
use rustic_core::repofile::{MasterKey, SnapshotFile, Tree};
use rustic_core::{
    BackupOptions, CheckOptions, ConfigOptions, Credentials, ForgetGroups, Grouped,
    IndexedFullStatus, KeyOptions, OpenStatus, PruneOptions, Repository, RepositoryBackends,
    RepositoryOptions, SnapshotGroupCriterion,
};
use tokio::runtime::Handle;
use tracing::{info, warn};

use crate::backup_source::{self, SourceEntry};
use crate::error::{rustic, Error, Result};
use crate::file_reader::SnapshotFileReader;
use crate::location::Location;
use crate::lock::{LockGuard, LockOptions};
use crate::password::Password;
use crate::reports::{
    BackupSummary, CheckReport, FileInfo, ForgetReport, KeepPolicy, PruneReport, RepoStats,
    SnapshotInfo, SnapshotMeta,
};
use crate::restic_backend::ObjectStoreBackend;
use crate::retention::keep_options;
use crate::snapshot_record::{snapshot_file, snapshot_info, to_chrono, to_timestamp};

type IndexedRepo = Repository<IndexedFullStatus>;

/// The decrypted master key, kept so later operations skip the (slow) key derivation.
#[derive(Clone)]
struct Key(MasterKey);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(***)")
    }
}

/// An open restic repository.
#[derive(Debug)]
pub struct Repo {
    store: Arc<dyn ObjectStore>,
    label: String,
    rt: Handle,
    key: Key,
    lock_opts: LockOptions,
    /// Full index for reads; dropped whenever we write.
    indexed: Mutex<Option<Arc<IndexedRepo>>>,
}

/// zstd level of repositories Cairn creates. Level 1 compresses table data within a few
/// percent of level 3 (the default, and what restic uses) at about 1.4x its speed, and
/// compression is the largest single cost of a backup. restic ignores this config field
/// and reads the data either way.
pub const COMPRESSION_LEVEL: i32 = 1;

impl Repo {
    /// Creates a restic repository (format v2, zstd) in `store`; fails if one exists.
    pub fn init(
        store: Arc<dyn ObjectStore>,
        label: &str,
        password: &Password,
        rt: Handle,
    ) -> Result<Repo> {
        if probe(&store, label, &rt)? {
            return Err(Error::AlreadyInitialised {
                repo: label.to_owned(),
            });
        }
        let repo = Repository::new(&repo_options(), &backends(&store, label, &rt))
            .map_err(rustic("init", label))?
            .init(
                &Credentials::password(password.expose()),
                &KeyOptions::default(),
                &ConfigOptions::default().set_compression(COMPRESSION_LEVEL),
            )
            .map_err(rustic("init", label))?;
        info!(repo = %label, id = %repo.config().id, "repository initialised");
        Ok(Self::from_open(store, label, rt, &repo))
    }

    /// Opens an existing repository, telling "not initialised" from "wrong password".
    pub fn open(
        store: Arc<dyn ObjectStore>,
        label: &str,
        password: &Password,
        rt: Handle,
    ) -> Result<Repo> {
        if !probe(&store, label, &rt)? {
            return Err(Error::NotInitialised {
                repo: label.to_owned(),
            });
        }
        let repo = Repository::new(&repo_options(), &backends(&store, label, &rt))
            .map_err(rustic("open", label))?
            .open(&Credentials::password(password.expose()))
            .map_err(|e| {
                if e.is_incorrect_password() {
                    Error::WrongPassword {
                        repo: label.to_owned(),
                    }
                } else {
                    rustic("open", label)(e)
                }
            })?;
        Ok(Self::from_open(store, label, rt, &repo))
    }

    fn from_open(
        store: Arc<dyn ObjectStore>,
        label: &str,
        rt: Handle,
        repo: &Repository<OpenStatus>,
    ) -> Repo {
        Repo {
            store,
            label: label.to_owned(),
            rt,
            key: Key(repo.key()),
            lock_opts: LockOptions::default(),
            indexed: Mutex::new(None),
        }
    }

    /// Replaces the lock options (stale timeout, clock, identity).
    pub fn with_lock_options(mut self, opts: LockOptions) -> Repo {
        self.lock_opts = opts;
        self
    }

    /// The label used in messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The underlying store (rooted at the repository).
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    fn open_raw(&self) -> Result<Repository<OpenStatus>> {
        Repository::new(
            &repo_options(),
            &backends(&self.store, &self.label, &self.rt),
        )
        .and_then(|r| r.open(&Credentials::Masterkey(self.key.0.clone())))
        .map_err(rustic("open", &self.label))
    }

    fn indexed(&self) -> Result<Arc<IndexedRepo>> {
        let mut slot = self.indexed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(repo) = slot.as_ref() {
            return Ok(repo.clone());
        }
        let repo = Arc::new(
            self.open_raw()?
                .to_indexed()
                .map_err(rustic("read index", &self.label))?,
        );
        *slot = Some(repo.clone());
        Ok(repo)
    }

    fn invalidate(&self) {
        *self.indexed.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn with_lock<T>(&self, purpose: &str, f: impl FnOnce(&LockGuard) -> Result<T>) -> Result<T> {
        let guard = LockGuard::acquire(
            self.store.clone(),
            &self.label,
            purpose,
            &self.lock_opts,
            self.rt.clone(),
        )?;
        let result = f(&guard);
        self.invalidate();
        let released = guard.release();
        let value = result?;
        released?;
        Ok(value)
    }

    /// Backs up `entries` as one snapshot. Entries are opened lazily and in parallel by the
    /// archiver; if any cannot be read completely, the snapshot is deleted and the call fails.
    pub fn backup(&self, entries: Vec<SourceEntry>, meta: &SnapshotMeta) -> Result<BackupSummary> {
        let time = Some(to_timestamp(meta.time.unwrap_or_else(Utc::now)));
        let prepared = backup_source::prepare(entries, time)?;
        let snap = snapshot_file(meta, time)?;
        self.with_lock("backup", |lock| {
            let repo = self.open_raw()?.to_indexed_ids().map_err(rustic("read index", &self.label))?;
            let mut opts = BackupOptions::default();
            // No parent: our nodes carry no real metadata, so parent matching would skip reading.
            opts.parent_opts.force = true;
            let archived = repo.archive(&opts, &prepared.source, snap, &prepared.snapshot_paths);
            let failed = prepared.tracker.failures();
            let snap = match archived {
                Ok(snap) => snap,
                Err(e) if !failed.is_empty() => {
                    warn!(repo = %self.label, error = %e.display_log(), "archive failed");
                    return Err(Error::IncompleteBackup { repo: self.label.clone(), failed });
                }
                Err(e) => return Err(rustic("backup", &self.label)(e)),
            };
            // Re-check now, not at the last periodic refresh: was our lock broken meanwhile?
            let lost = lock.refresh();
            if !failed.is_empty() || lost.is_err() {
                // A listed snapshot must be complete: drop it, leave its packs for prune.
                repo.delete_snapshots(&[snap.id]).map_err(rustic("delete incomplete snapshot", &self.label))?;
                lost?;
                return Err(Error::IncompleteBackup { repo: self.label.clone(), failed });
            }
            let s = snap.summary.clone().unwrap_or_default();
            let id = snap.id.to_hex().as_str().to_owned();
            info!(repo = %self.label, snapshot = %id, files = s.total_files_processed, bytes = s.total_bytes_processed, "backup saved");
            Ok(BackupSummary {
                short_id: id[..8].to_owned(),
                snapshot_id: id,
                time: to_chrono(&snap.time),
                files: s.total_files_processed,
                bytes_read: s.total_bytes_processed,
                bytes_added: s.data_added_packed,
                bytes_added_uncompressed: s.data_added,
                data_blobs_added: s.data_blobs,
                tree_blobs_added: s.tree_blobs,
            })
        })
    }

    /// All snapshots, oldest first.
    pub fn snapshots(&self) -> Result<Vec<SnapshotInfo>> {
        let mut snaps: Vec<_> = self.snapshot_files()?.iter().map(snapshot_info).collect();
        snaps.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
        Ok(snaps)
    }

    fn snapshot_files(&self) -> Result<Vec<SnapshotFile>> {
        self.open_raw()?
            .get_all_snapshots()
            .map_err(rustic("list snapshots", &self.label))
    }

    /// Finds a snapshot by full id, unique id prefix, or `latest`.
    pub fn find_snapshot(&self, id_or_prefix_or_latest: &str) -> Result<SnapshotInfo> {
        let want = id_or_prefix_or_latest.trim().to_ascii_lowercase();
        let snaps = self.snapshots()?;
        let not_found = || Error::SnapshotNotFound {
            snapshot: want.clone(),
            repo: self.label.clone(),
        };
        if want == "latest" {
            return snaps.into_iter().next_back().ok_or_else(not_found);
        }
        if want.is_empty() {
            return Err(not_found());
        }
        let mut hits: Vec<_> = snaps
            .into_iter()
            .filter(|s| s.id.starts_with(&want))
            .collect();
        match hits.len() {
            0 => Err(not_found()),
            1 => Ok(hits.remove(0)),
            _ => Err(Error::AmbiguousSnapshot {
                prefix: want.clone(),
                repo: self.label.clone(),
                candidates: hits
                    .iter()
                    .map(|s| s.short_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    fn snapshot_file(&self, repo: &IndexedRepo, snap: &SnapshotInfo) -> Result<SnapshotFile> {
        let mut found =
            repo.get_snapshots(&[snap.id.as_str()])
                .map_err(|_| Error::SnapshotNotFound {
                    snapshot: snap.short_id.clone(),
                    repo: self.label.clone(),
                })?;
        found.pop().ok_or_else(|| Error::SnapshotNotFound {
            snapshot: snap.short_id.clone(),
            repo: self.label.clone(),
        })
    }

    /// Runs a read against the cached index, reloading it once if the read fails: another
    /// process may have added packs since we loaded it.
    fn with_index<T>(&self, f: impl Fn(Arc<IndexedRepo>) -> Result<T>) -> Result<T> {
        match f(self.indexed()?) {
            Err(Error::Rustic { .. }) => {
                self.invalidate();
                f(self.indexed()?)
            }
            other => other,
        }
    }

    /// Every regular file of a snapshot, with absolute paths, in tree order.
    pub fn files(&self, snap: &SnapshotInfo) -> Result<Vec<FileInfo>> {
        self.with_index(|repo| self.files_in(&repo, snap))
    }

    fn files_in(&self, repo: &IndexedRepo, snap: &SnapshotInfo) -> Result<Vec<FileInfo>> {
        let sf = self.snapshot_file(repo, snap)?;
        let root = repo
            .node_from_snapshot_and_path(&sf, "")
            .map_err(rustic("read snapshot tree", &self.label))?;
        let mut files = Vec::new();
        for item in repo
            .ls(&root, &Default::default())
            .map_err(rustic("list files", &self.label))?
        {
            let (path, node) = item.map_err(rustic("list files", &self.label))?;
            if !node.is_file() {
                continue;
            }
            let mut size = node.meta.size;
            if size == 0 {
                // Nodes written from streams carry no size: add up the blob lengths instead.
                for id in node.content.iter().flatten() {
                    let entry = repo
                        .get_index_entry(id)
                        .map_err(rustic("read index", &self.label))?;
                    size += u64::from(entry.data_length());
                }
            }
            files.push(FileInfo {
                path: format!("/{}", path.display()),
                size,
            });
        }
        Ok(files)
    }

    /// Streams one file of a snapshot (bounded memory; callable from several threads at once).
    pub fn open_file(&self, snap: &SnapshotInfo, path: &str) -> Result<Box<dyn Read + Send>> {
        self.with_index(|repo| self.open_file_in(repo, snap, path))
    }

    fn open_file_in(
        &self,
        repo: Arc<IndexedRepo>,
        snap: &SnapshotInfo,
        path: &str,
    ) -> Result<Box<dyn Read + Send>> {
        let sf = self.snapshot_file(&repo, snap)?;
        let not_found = || Error::FileNotFound {
            path: path.to_owned(),
            snapshot: snap.short_id.clone(),
            repo: self.label.clone(),
        };
        let mut tree_id = sf.tree;
        let mut node = None;
        for name in path.split('/').filter(|s| !s.is_empty()) {
            let tree: Tree = repo
                .get_tree(&tree_id)
                .map_err(rustic("read snapshot tree", &self.label))?;
            let found = tree
                .nodes
                .into_iter()
                .find(|n| n.name() == std::ffi::OsStr::new(name))
                .ok_or_else(not_found)?;
            if let Some(sub) = found.subtree {
                tree_id = sub;
            }
            node = Some(found);
        }
        let node = node.filter(|n| n.is_file()).ok_or_else(not_found)?;
        let file = repo
            .open_file(&node)
            .map_err(rustic("open file", &self.label))?;
        Ok(Box::new(SnapshotFileReader::new(repo, file)))
    }

    /// Removes snapshots not kept by `keep` (grouped by host, label and paths), then prunes if asked.
    pub fn forget(&self, keep: &KeepPolicy, prune: bool) -> Result<ForgetReport> {
        let opts = keep_options(keep)?;
        self.with_lock("forget", |_| {
            let repo = self.open_raw()?;
            let snaps = repo.get_all_snapshots().map_err(rustic("list snapshots", &self.label))?;
            let grouped = Grouped::from_items(snaps, SnapshotGroupCriterion::default());
            let groups = ForgetGroups::from_grouped_snapshots_with_retention(grouped, &opts, &Zoned::now())
                .map_err(rustic("apply retention", &self.label))?;
            let mut report = ForgetReport::default();
            let mut remove = Vec::new();
            for item in groups.0.into_iter().flat_map(|g| g.items) {
                let id = item.snapshot.id.to_hex().as_str().to_owned();
                if item.keep {
                    report.kept.push(id);
                } else {
                    remove.push(item.snapshot.id);
                    report.removed.push(id);
                }
            }
            repo.delete_snapshots(&remove).map_err(rustic("delete snapshots", &self.label))?;
            info!(repo = %self.label, removed = remove.len(), kept = report.kept.len(), "forget done");
            if prune {
                report.prune = Some(self.prune(&repo)?);
            }
            Ok(report)
        })
    }

    /// Removes the given snapshots (ids or unique prefixes), then prunes if asked.
    pub fn forget_ids(&self, ids: &[String], prune: bool) -> Result<ForgetReport> {
        self.with_lock("forget", |_| {
            let all = self.snapshots()?;
            let mut report = ForgetReport::default();
            let mut remove = Vec::new();
            for want in ids {
                let want = want.trim().to_ascii_lowercase();
                let hits: Vec<_> = all
                    .iter()
                    .filter(|s| !want.is_empty() && s.id.starts_with(&want))
                    .collect();
                match hits.as_slice() {
                    [one] => {
                        remove.push(
                            one.id
                                .parse()
                                .map_err(rustic("parse snapshot id", &self.label))?,
                        );
                        report.removed.push(one.id.clone());
                    }
                    [] => {
                        return Err(Error::SnapshotNotFound {
                            snapshot: want,
                            repo: self.label.clone(),
                        })
                    }
                    many => {
                        return Err(Error::AmbiguousSnapshot {
                            prefix: want,
                            repo: self.label.clone(),
                            candidates: many
                                .iter()
                                .map(|s| s.short_id.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                        })
                    }
                }
            }
            report.kept = all
                .iter()
                .filter(|s| !report.removed.contains(&s.id))
                .map(|s| s.id.clone())
                .collect();
            let repo = self.open_raw()?;
            repo.delete_snapshots(&remove)
                .map_err(rustic("delete snapshots", &self.label))?;
            if prune {
                report.prune = Some(self.prune(&repo)?);
            }
            Ok(report)
        })
    }

    fn prune(&self, repo: &Repository<OpenStatus>) -> Result<PruneReport> {
        let mut opts = PruneOptions::default();
        // We hold the exclusive lock, so nothing can still reference packs we drop: delete at once.
        opts.instant_delete = true;
        let plan = repo
            .prune_plan(&opts)
            .map_err(rustic("plan prune", &self.label))?;
        let (stats, sizes) = (&plan.stats, plan.stats.size_sum());
        let report = PruneReport {
            // Unused packs are "marked" and, with instant delete, removed right away.
            packs_removed: stats.packs.unused + stats.packs_to_delete.remove,
            bytes_removed: sizes.remove + sizes.repackrm + stats.size_to_delete.remove,
            packs_repacked: stats.packs.repack,
        };
        repo.prune(&opts, plan)
            .map_err(rustic("prune", &self.label))?;
        info!(repo = %self.label, packs = report.packs_removed, bytes = report.bytes_removed, "prune done");
        Ok(report)
    }

    /// Verifies the repository structure (and every pack's content with `read_data`).
    pub fn check(&self, read_data: bool) -> Result<CheckReport> {
        self.with_lock("check", |_| {
            let repo = self.open_raw()?;
            let mut opts = CheckOptions::default();
            opts.read_data = read_data;
            opts.trust_cache = false;
            let results = repo.check(opts).map_err(rustic("check", &self.label))?;
            let mut report = CheckReport::default();
            for (level, finding) in results.0 {
                // The level enum is not exported by rustic_core; its Debug name is stable.
                if format!("{level:?}") == "Warn" {
                    report.warnings.push(finding.to_string());
                } else {
                    report.errors.push(finding.to_string());
                }
            }
            for e in &report.errors {
                warn!(repo = %self.label, finding = %e, "check error");
            }
            Ok(report)
        })
    }

    /// Object counts and sizes (from listing the store; no decryption).
    pub fn stats(&self) -> Result<RepoStats> {
        let metas: Vec<_> = self
            .rt
            .block_on(self.store.list(None).try_collect())
            .map_err(|source| Error::Store {
                op: "list",
                path: String::new(),
                repo: self.label.clone(),
                source: Box::new(source),
            })?;
        let mut stats = RepoStats::default();
        for m in metas {
            let key = m.location.as_ref();
            stats.total_bytes += m.size;
            if key.starts_with("data/") {
                stats.packs += 1;
                stats.pack_bytes += m.size;
            } else if key.starts_with("snapshots/") {
                stats.snapshots += 1;
            }
        }
        Ok(stats)
    }
}

fn repo_options() -> RepositoryOptions {
    // No local cache: jobs run in fresh pods and the cache would only cost disk.
    RepositoryOptions::default().no_cache(true)
}

fn backends(store: &Arc<dyn ObjectStore>, label: &str, rt: &Handle) -> RepositoryBackends {
    RepositoryBackends::new(
        Arc::new(ObjectStoreBackend::new(store.clone(), label, rt.clone())),
        None,
    )
}

/// Whether the repository config exists; maps a missing bucket to a clear error.
fn probe(store: &Arc<dyn ObjectStore>, label: &str, rt: &Handle) -> Result<bool> {
    let store_err = |op, source: object_store::Error| {
        let text = format!("{source:?} {source}");
        if ["NoSuchBucket", "ContainerNotFound", "bucket does not exist"]
            .iter()
            .any(|n| text.contains(n))
        {
            let (bucket, endpoint) = match Location::parse(label) {
                Ok(loc) => (loc.bucket().to_owned(), loc.endpoint()),
                Err(_) => (label.to_owned(), "the configured endpoint".to_owned()),
            };
            return Error::BucketMissing { bucket, endpoint };
        }
        Error::Store {
            op,
            path: "config".into(),
            repo: label.to_owned(),
            source: Box::new(source),
        }
    };
    rt.block_on(async {
        // Listing fails on a missing bucket, where a HEAD of `config` would just say "not found".
        store
            .list_with_delimiter(None)
            .await
            .map_err(|e| store_err("list", e))?;
        match store.head(&Path::from("config")).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(store_err("head", e)),
        }
    })
}

#[cfg(test)]
pub(crate) mod tests;
