//! What makes `cairn run` a well-behaved daemon: one daemon per state directory (an
//! advisory lock on `<state>/run.lock`), and a graceful stop on SIGTERM or SIGINT.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// File locked by the daemon that owns a state directory.
pub const LOCK_FILE: &str = "run.lock";

/// Why the daemon cannot take its state directory.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another daemon holds the lock.
    #[error("state directory {dir} is in use by another `cairn run` ({holder}): stop it, or pass another --state")]
    Busy {
        /// The state directory.
        dir: PathBuf,
        /// What the lock file says about its holder.
        holder: String,
    },
    /// The lock file cannot be created or locked.
    #[error("cannot lock state directory {dir}: {source}; check that it exists and is writable")]
    Io {
        /// The state directory.
        dir: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}

/// The held lock; released when dropped (or when the process dies: the kernel drops
/// advisory locks with their process, so a crash never leaves a stale lock).
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

impl StateLock {
    /// Takes the lock of `dir` (created if missing), or says who holds it.
    pub fn acquire(dir: &Path) -> Result<StateLock, LockError> {
        let io = |source| LockError::Io {
            dir: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = match holder.trim() {
                    "" => "pid unknown".to_owned(),
                    h => h.to_owned(),
                };
                return Err(LockError::Busy {
                    dir: dir.to_owned(),
                    holder,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        writeln!(file, "pid {}", std::process::id()).map_err(io)?;
        Ok(StateLock { _file: file })
    }
}

/// Resolves when the process is asked to stop (SIGTERM or SIGINT). The handlers are
/// installed when this is called, not when the future is first polled: a stop request
/// during start-up (loading the state, the first turn) is then a graceful stop too,
/// instead of the default action of SIGTERM, which kills the daemon on the spot.
pub fn stop_requested() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    async move {
        let wait = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = wait(term.take()) => {}
            _ = wait(int.take()) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_is_refused_with_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(dir.path()).unwrap();
        let err = StateLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("in use by another `cairn run`")
                && err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        StateLock::acquire(dir.path()).unwrap();
    }

    #[tokio::test]
    async fn a_stop_requested_before_the_future_is_polled_is_not_lost() {
        let stop = stop_requested();
        // SIGTERM arrives while the daemon still loads its state (nothing polls `stop`).
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        tokio::time::timeout(std::time::Duration::from_secs(10), stop)
            .await
            .expect("the stop request was seen");
    }
}
