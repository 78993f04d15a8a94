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

/// Resolves when the process is asked to stop (SIGTERM or SIGINT).
pub async fn stop_requested() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
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
}
