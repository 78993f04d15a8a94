//! Streaming a file out of a snapshot: blobs are fetched lazily, one window at a time, so memory
//! stays bounded whatever the file size.

use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use rustic_core::vfs::OpenFile;
use rustic_core::{IndexedFullStatus, Repository};

/// How much to fetch per backend round trip (blobs are ~1 MiB on average).
const WINDOW: usize = 4 << 20;

/// A `Read` over one file of a snapshot.
pub(crate) struct SnapshotFileReader {
    repo: Arc<Repository<IndexedFullStatus>>,
    file: OpenFile,
    offset: usize,
    buf: Bytes,
    eof: bool,
}

impl SnapshotFileReader {
    pub(crate) fn new(repo: Arc<Repository<IndexedFullStatus>>, file: OpenFile) -> Self {
        Self {
            repo,
            file,
            offset: 0,
            buf: Bytes::new(),
            eof: false,
        }
    }
}

impl Read for SnapshotFileReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.buf.is_empty() && !self.eof && !out.is_empty() {
            let next = self
                .repo
                .read_file_at(&self.file, self.offset, WINDOW)
                .map_err(|e| std::io::Error::other(crate::error::one_line(&e)))?;
            self.offset += next.len();
            self.eof = next.is_empty();
            self.buf = next;
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        let _ = self.buf.split_to(n);
        Ok(n)
    }
}
