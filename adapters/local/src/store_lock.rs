//! A lock file serialising writers of one state directory (`cairn run`, `cairn apply`,
//! `cairn delete`): created exclusively, holding the owner's pid, removed on drop.
//! A lock whose process is gone (a crash) is taken over.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Name of the lock file inside the state directory.
pub const LOCK_FILE: &str = "lock";

/// Held lock; released when dropped.
#[derive(Debug)]
pub struct StateLock {
    path: PathBuf,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live process holds it.
    #[error("{}: held by process {pid} for longer than {waited:?}; wait for it or stop it", .path.display())]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// The holder.
        pid: u32,
        /// How long we waited.
        waited: Duration,
    },
    /// The lock file could not be created or read.
    #[error("{}: cannot take the state lock: {source}", .path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The IO error.
        source: io::Error,
    },
}

impl StateLock {
    /// Takes the lock of the state directory `root`, waiting up to `wait`.
    pub fn acquire(root: &Path, wait: Duration) -> Result<StateLock, LockError> {
        let path = root.join(LOCK_FILE);
        let io_err = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let step = Duration::from_millis(20);
        let mut waited = Duration::ZERO;
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    writeln!(f, "{}", std::process::id()).map_err(io_err)?;
                    return Ok(StateLock { path });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err(e)),
            }
            let holder = fs::read_to_string(&path)
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok());
            match holder {
                Some(pid) if !process_alive(pid) => {
                    let _ = fs::remove_file(&path); // stale: its owner crashed
                    continue;
                }
                Some(pid) if waited >= wait => {
                    return Err(LockError::Busy {
                        path: path.clone(),
                        pid,
                        waited,
                    })
                }
                // Unreadable pid: the holder is between create and write.
                _ => {}
            }
            std::thread::sleep(step);
            waited += step;
        }
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Whether a process with `pid` exists (Linux `/proc`; elsewhere assumed alive).
pub fn process_alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new("/proc").join(pid.to_string()).exists()
}
