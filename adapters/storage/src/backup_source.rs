//! A rustic `ReadSource` made of caller-supplied entries, each opened lazily by the archiver's
//! worker threads, with every entry's completion tracked.
//!
//! rustic_core skips (with a warning only) any entry whose open or read fails and still saves the
//! snapshot; the [`Tracker`] lets the caller notice and discard such a snapshot.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustic_core::repofile::{Metadata, Node, NodeType};
use rustic_core::{
    ErrorKind, ReadSource, ReadSourceEntry, ReadSourceOpen, RusticError, RusticResult,
};

use crate::error::{Error, Result};

/// Opens one entry's content; called once, lazily, on an archiver thread.
pub type Opener = Box<dyn FnOnce() -> std::io::Result<Box<dyn Read + Send>> + Send>;

/// One file of a backup: its absolute path in the snapshot and how to open it.
pub struct SourceEntry {
    /// Absolute path inside the snapshot, e.g. `/data/db/t/000001.tsv`.
    pub path: String,
    /// Opens the content (e.g. starts the query); called at most once.
    pub open: Opener,
}

impl SourceEntry {
    /// An entry from a path and an opener.
    pub fn new(
        path: impl Into<String>,
        open: impl FnOnce() -> std::io::Result<Box<dyn Read + Send>> + Send + 'static,
    ) -> Self {
        Self {
            path: path.into(),
            open: Box::new(open),
        }
    }
}

impl std::fmt::Debug for SourceEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceEntry")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
enum EntryState {
    Pending,
    Opened,
    Complete,
    Failed(String),
}

/// Completion of every entry of one backup.
#[derive(Debug)]
pub(crate) struct Tracker {
    paths: Vec<String>,
    states: Mutex<Vec<EntryState>>,
}

impl Tracker {
    fn set(&self, i: usize, state: EntryState) {
        let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        // The first failure is the informative one; later events must not hide it.
        if !matches!(states[i], EntryState::Failed(_)) {
            states[i] = state;
        }
    }

    /// `path: reason` for every entry that was not read to its end without error.
    pub(crate) fn failures(&self) -> Vec<String> {
        let states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        self.paths
            .iter()
            .zip(states.iter())
            .filter_map(|(p, s)| match s {
                EntryState::Complete => None,
                EntryState::Pending => Some(format!("{p}: never read (skipped by the archiver)")),
                EntryState::Opened => Some(format!("{p}: not read to the end")),
                EntryState::Failed(why) => Some(format!("{p}: {why}")),
            })
            .collect()
    }
}

/// The `ReadSource` handed to rustic's archiver.
pub(crate) struct EntrySource {
    entries: Mutex<Option<Vec<(PathBuf, Opener)>>>,
    tracker: Arc<Tracker>,
    time: Option<rustic_core::jiff::Timestamp>,
}

/// A validated, sorted backup: the source, its tracker and the snapshot's `paths`.
pub(crate) struct PreparedBackup {
    pub(crate) source: EntrySource,
    pub(crate) tracker: Arc<Tracker>,
    pub(crate) snapshot_paths: Vec<PathBuf>,
}

/// Validates entries (absolute, normal, unique, no file inside another) and sorts them in tree order.
pub(crate) fn prepare(
    entries: Vec<SourceEntry>,
    time: Option<rustic_core::jiff::Timestamp>,
) -> Result<PreparedBackup> {
    if entries.is_empty() {
        return Err(Error::InvalidEntry {
            path: String::new(),
            reason: "a backup needs at least one entry".into(),
        });
    }
    let mut items = Vec::with_capacity(entries.len());
    for e in entries {
        let path = PathBuf::from(&e.path);
        let normal = path
            .components()
            .skip(1)
            .all(|c| matches!(c, Component::Normal(_)));
        if !path.is_absolute() || !normal || path.file_name().is_none() || e.path.ends_with('/') {
            return Err(Error::InvalidEntry {
                path: e.path,
                reason: "must be an absolute file path without '.', '..' or a trailing '/'".into(),
            });
        }
        items.push((path, e.open));
    }
    // PathBuf orders component-wise, which is the depth-first order rustic's tree builder needs.
    items.sort_by(|a, b| a.0.cmp(&b.0));
    for pair in items.windows(2) {
        if pair[1].0.starts_with(&pair[0].0) {
            let reason = if pair[1].0 == pair[0].0 {
                "appears twice"
            } else {
                "is both a file and a directory"
            };
            return Err(Error::InvalidEntry {
                path: pair[0].0.display().to_string(),
                reason: reason.into(),
            });
        }
    }
    let snapshot_paths = snapshot_paths(items.iter().map(|(p, _)| p.as_path()));
    let tracker = Arc::new(Tracker {
        paths: items.iter().map(|(p, _)| p.display().to_string()).collect(),
        states: Mutex::new(vec![EntryState::Pending; items.len()]),
    });
    Ok(PreparedBackup {
        source: EntrySource {
            entries: Mutex::new(Some(items)),
            tracker: tracker.clone(),
            time,
        },
        tracker,
        snapshot_paths,
    })
}

/// restic's `paths` of a snapshot: the file itself for one entry, else the deepest common directory.
fn snapshot_paths<'a>(mut paths: impl Iterator<Item = &'a Path>) -> Vec<PathBuf> {
    let first = paths.next().expect("at least one entry").to_path_buf();
    let mut common: Option<PathBuf> = None;
    for p in paths {
        let base =
            common.get_or_insert_with(|| first.parent().unwrap_or(Path::new("/")).to_path_buf());
        while !p.starts_with(&*base) {
            if !base.pop() {
                break;
            }
        }
    }
    vec![common.unwrap_or(first)]
}

impl ReadSource for EntrySource {
    type Open = TrackedOpen;
    type Iter = std::vec::IntoIter<RusticResult<ReadSourceEntry<TrackedOpen>>>;

    fn size(&self) -> RusticResult<Option<u64>> {
        Ok(None)
    }

    fn entries(&self) -> Self::Iter {
        let items = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default();
        let meta = Metadata {
            mode: Some(0o644),
            mtime: self.time,
            ..Default::default()
        };
        items
            .into_iter()
            .enumerate()
            .map(|(index, (path, opener))| {
                let name = path.file_name().expect("validated in prepare").to_owned();
                Ok(ReadSourceEntry {
                    node: Node::new_node(&name, NodeType::File, meta.clone()),
                    path,
                    open: Some(TrackedOpen {
                        index,
                        opener,
                        tracker: self.tracker.clone(),
                    }),
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
    }
}

/// How the archiver opens one entry; records the outcome.
pub(crate) struct TrackedOpen {
    index: usize,
    opener: Opener,
    tracker: Arc<Tracker>,
}

impl ReadSourceOpen for TrackedOpen {
    type Reader = TrackedReader;

    fn open(self) -> RusticResult<TrackedReader> {
        match (self.opener)() {
            Ok(inner) => {
                self.tracker.set(self.index, EntryState::Opened);
                Ok(TrackedReader {
                    inner,
                    index: self.index,
                    tracker: self.tracker,
                })
            }
            Err(err) => {
                self.tracker.set(
                    self.index,
                    EntryState::Failed(format!("open failed: {err}")),
                );
                Err(RusticError::with_source(
                    ErrorKind::InputOutput,
                    "opening a backup entry failed",
                    err,
                ))
            }
        }
    }
}

/// The entry's reader; marks the entry complete at end of input, failed on an error.
pub(crate) struct TrackedReader {
    inner: Box<dyn Read + Send>,
    index: usize,
    tracker: Arc<Tracker>,
}

impl Read for TrackedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.inner.read(buf) {
            Ok(0) if !buf.is_empty() => {
                self.tracker.set(self.index, EntryState::Complete);
                Ok(0)
            }
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.tracker
                    .set(self.index, EntryState::Failed(format!("read failed: {e}")));
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> SourceEntry {
        SourceEntry::new(path, || {
            Ok(Box::new(std::io::empty()) as Box<dyn Read + Send>)
        })
    }

    #[test]
    fn sorts_in_tree_order_and_finds_common_root() {
        let p = prepare(
            vec![
                entry("/data/db/t.sql"),
                entry("/data/db/t/2.tsv"),
                entry("/data/db/t/1.tsv"),
            ],
            None,
        )
        .unwrap();
        assert_eq!(
            p.tracker.paths,
            ["/data/db/t/1.tsv", "/data/db/t/2.tsv", "/data/db/t.sql"]
        );
        assert_eq!(p.snapshot_paths, [PathBuf::from("/data/db")]);
        let one = prepare(vec![entry("/dumpfile.sql")], None).unwrap();
        assert_eq!(one.snapshot_paths, [PathBuf::from("/dumpfile.sql")]);
        let spread = prepare(vec![entry("/a/x"), entry("/b/y")], None).unwrap();
        assert_eq!(spread.snapshot_paths, [PathBuf::from("/")]);
    }

    #[test]
    fn rejects_bad_entries() {
        for (entries, needle) in [
            (vec![], "at least one"),
            (vec![entry("rel/x")], "absolute"),
            (vec![entry("/a/../x")], "absolute"),
            (vec![entry("/a/")], "absolute"),
            (vec![entry("/a"), entry("/a")], "twice"),
            (
                vec![entry("/a"), entry("/a/b")],
                "both a file and a directory",
            ),
        ] {
            let err = prepare(entries, None).err().expect(needle).to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn tracker_reports_unread_failed_and_partial_entries() {
        let p = prepare(
            vec![
                entry("/ok"),
                entry("/never"),
                SourceEntry::new("/broken", || Err(std::io::Error::other("db gone"))),
                SourceEntry::new("/partial", || {
                    Ok(Box::new(std::io::repeat(7)) as Box<dyn Read + Send>)
                }),
            ],
            None,
        )
        .unwrap();
        // Tree order: /broken, /never, /ok, /partial.
        let mut opens: Vec<_> = p
            .source
            .entries()
            .map(|e| Some(e.unwrap().open.unwrap()))
            .collect();
        assert!(opens[0].take().unwrap().open().is_err());
        let mut ok = opens[2].take().unwrap().open().unwrap();
        std::io::copy(&mut ok, &mut std::io::sink()).unwrap();
        let mut partial = opens[3].take().unwrap().open().unwrap();
        let _ = partial.read(&mut [0u8; 0]).unwrap();
        let failures = p.tracker.failures();
        assert_eq!(failures.len(), 3, "{failures:?}");
        assert!(failures[0].starts_with("/broken: open failed: db gone"));
        assert!(failures[1].starts_with("/never: never read"));
        assert!(failures[2].starts_with("/partial: not read to the end"));
    }
}
