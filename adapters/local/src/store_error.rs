//! Errors of the state directory: which file, what failed, what to do.

use std::path::PathBuf;

use crate::store_lock::LockError;
use crate::world_io::WorldIoError;

/// Why the state directory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or directory operation failed.
    #[error("{}: cannot {action}: {source}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What was being done (`read`, `write`, `create the directory`, ...).
        action: &'static str,
        /// The IO error.
        source: std::io::Error,
    },
    /// A state file does not parse.
    #[error("{}: {source}; fix the file or remove it (objects come back with the next `cairn apply`)", .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: WorldIoError,
    },
    /// The state lock is held by another process.
    #[error(transparent)]
    Lock(#[from] LockError),
}

impl StoreError {
    /// Short category, for logs and event reasons.
    pub fn category(&self) -> &'static str {
        match self {
            StoreError::Io { .. } => "StateIo",
            StoreError::Corrupt { .. } => "StateCorrupt",
            StoreError::Lock(_) => "StateLocked",
        }
    }
}

/// Result of state directory operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
