//! Feeding `LOAD DATA LOCAL INFILE` from a blocking reader without temporary files.
//!
//! The reader (a file inside a restic snapshot) is read on a `spawn_blocking` thread into a
//! bounded channel, so memory stays at [`INFILE_QUEUE`] × [`INFILE_CHUNK`] bytes per load and
//! the async connection never blocks. A read error ends the stream with that error, which
//! makes the driver fail the `LOAD DATA` statement instead of loading a silently short file.

use std::io::{self, Read};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use mysql_async::InfileData;

use crate::restore_progress::RestoreProgress;

/// Bytes per read and per packet batch handed to the driver.
pub const INFILE_CHUNK: usize = 256 * 1024;

/// Chunks buffered between the reading thread and the connection.
pub const INFILE_QUEUE: usize = 4;

/// Opens the blocking reader of one data file; called on the blocking thread.
pub type OpenReader = Box<dyn FnOnce() -> io::Result<Box<dyn Read + Send>> + Send + Sync + 'static>;

/// A stream of the bytes of `open()`, read on a blocking thread; `label` names the file in errors.
///
/// Must be called inside a Tokio runtime. Dropping the stream stops the reading thread.
pub fn infile_stream(
    open: OpenReader,
    label: String,
    progress: Arc<RestoreProgress>,
) -> InfileData {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(INFILE_QUEUE);
    tokio::task::spawn_blocking(move || pump(open, &label, &tx, &progress));
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed()
}

/// Copies the reader into the channel until end of file, an error, or the receiver is gone.
fn pump(
    open: OpenReader,
    label: &str,
    tx: &tokio::sync::mpsc::Sender<io::Result<Bytes>>,
    progress: &RestoreProgress,
) {
    let named = |e: io::Error, doing: &str| {
        io::Error::new(
            e.kind(),
            format!("{doing} {label} from the snapshot failed: {e}"),
        )
    };
    let mut reader = match open() {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.blocking_send(Err(named(e, "opening")));
            return;
        }
    };
    loop {
        let mut buf = BytesMut::zeroed(INFILE_CHUNK);
        let n = match read_full(&mut reader, &mut buf) {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.blocking_send(Err(named(e, "reading")));
                return;
            }
        };
        if n == 0 {
            return;
        }
        buf.truncate(n);
        progress.add_bytes(n as u64);
        if tx.blocking_send(Ok(buf.freeze())).is_err() {
            // The statement ended (or failed) before the file: nothing left to feed.
            return;
        }
        if n < INFILE_CHUNK {
            // `read_full` stops short only at end of file.
            return;
        }
    }
}

/// Reads until `buf` is full or end of file; returns the bytes read.
fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    /// Yields `good` bytes, then fails.
    struct FailingReader {
        good: usize,
    }

    impl Read for FailingReader {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.good == 0 {
                return Err(io::Error::other("backend went away"));
            }
            let n = self.good.min(out.len());
            out[..n].fill(b'x');
            self.good -= n;
            Ok(n)
        }
    }

    #[tokio::test]
    async fn streams_all_bytes_and_counts_them() {
        let data: Vec<u8> = (0..INFILE_CHUNK * 2 + 17)
            .map(|i| (i % 251) as u8)
            .collect();
        let expected = data.clone();
        let progress = Arc::new(RestoreProgress::default());
        let open: OpenReader =
            Box::new(move || Ok(Box::new(io::Cursor::new(data)) as Box<dyn Read + Send>));
        let chunks: Vec<Bytes> =
            infile_stream(open, "/data/a/b/000001.tsv".into(), progress.clone())
                .try_collect()
                .await
                .unwrap();
        assert_eq!(chunks.concat(), expected);
        assert_eq!(progress.snapshot().bytes, expected.len() as u64);
    }

    #[tokio::test]
    async fn read_error_ends_the_stream_with_a_named_error() {
        let open: OpenReader =
            Box::new(|| Ok(Box::new(FailingReader { good: 1000 }) as Box<dyn Read + Send>));
        let mut s = infile_stream(open, "/data/a/b/000001.tsv".into(), Arc::default());
        let mut got = 0;
        let err = loop {
            match s.next().await {
                Some(Ok(b)) => got += b.len(),
                Some(Err(e)) => break e,
                None => panic!("stream ended without the error"),
            }
        };
        // the partial bytes are never sent: read_full fails before handing the chunk over
        assert_eq!(got, 0);
        let msg = err.to_string();
        assert!(
            msg.contains("/data/a/b/000001.tsv") && msg.contains("backend went away"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn open_error_is_reported() {
        let open: OpenReader =
            Box::new(|| Err(io::Error::new(io::ErrorKind::NotFound, "no such file")));
        let mut s = infile_stream(open, "/data/x.tsv".into(), Arc::default());
        let err = s.next().await.unwrap().unwrap_err();
        assert!(err.to_string().contains("opening /data/x.tsv"), "{err}");
    }

    #[tokio::test]
    async fn dropping_the_stream_stops_the_reader() {
        let open: OpenReader = Box::new(|| Ok(Box::new(io::repeat(b'a')) as Box<dyn Read + Send>));
        let mut s = infile_stream(open, "/endless".into(), Arc::default());
        assert!(s.next().await.unwrap().is_ok());
        drop(s); // the blocking thread's next send fails and it returns
    }
}
