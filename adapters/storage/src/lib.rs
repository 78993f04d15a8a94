//! Storage backends (object_store) and restic-format repositories (rustic_core) for Cairn.
//!
//! - [`location`]: restic repository addresses; [`backend`]: open an `ObjectStore` rooted at one.
//! - [`restic_backend`]: rustic_core's sync backend traits over `ObjectStore` (blocks on a tokio handle).
//! - [`repo`]: the blocking repository API (init, open, backup, snapshots, dump, forget, check, stats).
//!   Call it from `spawn_blocking` or a plain thread.
//! - [`lock`]: Cairn's exclusive repository lock (`cairn.lock`); `Repo` takes it itself for
//!   backup, forget/prune and check.
//! - [`backend_meta`]: KubeStash `metadata.yaml`, `repository.yaml` and snapshot YAML files.

#![warn(missing_docs)]

pub mod backend;
pub mod backend_meta;
mod backup_source;
pub mod clock;
pub mod error;
pub mod fault_store;
mod file_reader;
pub mod interrupted_init;
pub mod location;
pub mod lock;
pub mod password;
pub mod repo;
pub mod reports;
pub mod restic_backend;
mod retention;
pub mod secret;
mod snapshot_record;

pub use backend::{open_store, BackendOptions};
pub use backup_source::SourceEntry;
pub use error::{Error, Result};
pub use location::Location;
pub use lock::{pod as lock_pod, LockGuard, LockInfo, LockOptions, PodIdentity, PodLiveness};
pub use password::Password;
pub use repo::Repo;
pub use reports::{
    BackupSummary, CheckReport, FileInfo, ForgetReport, KeepPolicy, PruneReport, RepoStats,
    SnapshotInfo, SnapshotMeta,
};
pub use secret::Secret;

#[cfg(test)]
mod s3_tests;
