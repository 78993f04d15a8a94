//! Live counters of a running restore, read by a progress bar while the restore runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Counters updated by the restore tasks; every field only grows (except `*_total`, set once).
#[derive(Debug, Default)]
pub struct RestoreProgress {
    /// Bytes of row data (or SQL text) read from the snapshot so far.
    pub bytes: AtomicU64,
    /// Rows loaded so far (counted per finished chunk or statement).
    pub rows: AtomicU64,
    /// Tables whose data is completely loaded.
    pub tables_done: AtomicU64,
    /// Tables to load in total (0 until known).
    pub tables_total: AtomicU64,
    /// Rows to load in total, from the manifest (0 when unknown, e.g. SQL restores).
    pub rows_total: AtomicU64,
    /// Data files completely loaded (native restores).
    pub chunks_done: AtomicU64,
    /// Data files to load in total (0 until known, and for SQL restores).
    pub chunks_total: AtomicU64,
}

/// A point-in-time copy of [`RestoreProgress`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// See [`RestoreProgress::bytes`].
    pub bytes: u64,
    /// See [`RestoreProgress::rows`].
    pub rows: u64,
    /// See [`RestoreProgress::tables_done`].
    pub tables_done: u64,
    /// See [`RestoreProgress::tables_total`].
    pub tables_total: u64,
    /// See [`RestoreProgress::rows_total`].
    pub rows_total: u64,
    /// See [`RestoreProgress::chunks_done`].
    pub chunks_done: u64,
    /// See [`RestoreProgress::chunks_total`].
    pub chunks_total: u64,
}

impl RestoreProgress {
    /// A fresh set of counters to share between the restore and a progress bar.
    pub fn shared() -> Arc<Self> {
        Arc::default()
    }

    /// Reads all counters (each individually consistent).
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            bytes: self.bytes.load(Ordering::Relaxed),
            rows: self.rows.load(Ordering::Relaxed),
            tables_done: self.tables_done.load(Ordering::Relaxed),
            tables_total: self.tables_total.load(Ordering::Relaxed),
            rows_total: self.rows_total.load(Ordering::Relaxed),
            chunks_done: self.chunks_done.load(Ordering::Relaxed),
            chunks_total: self.chunks_total.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn add_bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_rows(&self, n: u64) {
        self.rows.fetch_add(n, Ordering::Relaxed);
    }
}
