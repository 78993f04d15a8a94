//! Errors of the storage crate: each says what failed, on which object, and what to do.

use rustic_core::RusticError;

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with backends, repositories and locks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A repository address could not be parsed.
    #[error("invalid repository address {input:?}: {reason}")]
    InvalidLocation {
        /// The address as given.
        input: String,
        /// Why it is invalid and what a valid one looks like.
        reason: String,
    },
    /// A backend could not be configured (bad option, missing credential).
    #[error("cannot configure backend {location}: {reason}")]
    BackendConfig {
        /// The repository address.
        location: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The bucket or container does not exist.
    #[error("bucket {bucket} does not exist at endpoint {endpoint}: create it first (or check the address)")]
    BucketMissing {
        /// Bucket or container name.
        bucket: String,
        /// Endpoint or provider.
        endpoint: String,
    },
    /// An object storage call failed.
    #[error("storage operation {op} on {path} in {repo} failed: {source}{hint}", hint = crate::backend::tls_hint(source))]
    Store {
        /// The operation (get, put, list, delete).
        op: &'static str,
        /// Object path relative to the repository root.
        path: String,
        /// Repository label.
        repo: String,
        /// The object_store error (boxed: it is large).
        #[source]
        source: Box<object_store::Error>,
    },
    /// `init` on a repository that already has a config.
    #[error("repository {repo} is already initialised: use it as is, or choose another path")]
    AlreadyInitialised {
        /// Repository label.
        repo: String,
    },
    /// `open` on a repository without a config.
    #[error("repository {repo} is not initialised: run `cairn init --repo {repo}`")]
    NotInitialised {
        /// Repository label.
        repo: String,
    },
    /// No key of the repository opens with the password.
    #[error("wrong password for repository {repo}: check RESTIC_PASSWORD / --password-file")]
    WrongPassword {
        /// Repository label.
        repo: String,
    },
    /// No password was provided.
    #[error("no repository password given: set RESTIC_PASSWORD or RESTIC_PASSWORD_FILE, or pass --password-file")]
    PasswordMissing,
    /// The password file could not be read.
    #[error("cannot read password file {path}: {source}")]
    PasswordFile {
        /// The file.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// A rustic_core operation failed.
    #[error("{op} on repository {repo} failed: {source}")]
    Rustic {
        /// The operation.
        op: &'static str,
        /// Repository label.
        repo: String,
        /// The rustic error.
        #[source]
        source: Box<RusticError>,
    },
    /// No snapshot matches the id, prefix or `latest`.
    #[error("snapshot {snapshot} not found in {repo}: run `cairn snapshots --repo {repo}`")]
    SnapshotNotFound {
        /// What was asked for.
        snapshot: String,
        /// Repository label.
        repo: String,
    },
    /// A prefix matches several snapshots.
    #[error("snapshot prefix {prefix} is ambiguous in {repo} (matches {candidates}): give more characters")]
    AmbiguousSnapshot {
        /// The prefix.
        prefix: String,
        /// Repository label.
        repo: String,
        /// Matching short ids.
        candidates: String,
    },
    /// A path is not a file of the snapshot.
    #[error(
        "file {path} not found in snapshot {snapshot} of {repo}: run `cairn ls` to see its files"
    )]
    FileNotFound {
        /// The path asked for.
        path: String,
        /// Snapshot short id.
        snapshot: String,
        /// Repository label.
        repo: String,
    },
    /// Some entries of a backup could not be read completely: no snapshot was kept.
    #[error("backup to {repo} failed, no snapshot was saved; entries not backed up completely: {}", failed.join("; "))]
    IncompleteBackup {
        /// Repository label.
        repo: String,
        /// `path: reason` for each failed entry.
        failed: Vec<String>,
    },
    /// The backup entries are invalid (relative or duplicate paths, empty list).
    #[error("invalid backup entry {path}: {reason}")]
    InvalidEntry {
        /// The entry path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Another process holds the repository lock.
    #[error("repository {repo} is locked by {hostname} pid {pid} for {purpose} since {since}; if that process is gone, run `cairn unlock --repo {repo}`")]
    Locked {
        /// Repository label.
        repo: String,
        /// Holder hostname.
        hostname: String,
        /// Holder pid.
        pid: u32,
        /// What the holder is doing.
        purpose: String,
        /// When it took the lock (RFC 3339).
        since: String,
    },
    /// Our lock was removed or taken over while we held it.
    #[error("lost the lock on repository {repo} (removed or broken by another process): the operation was aborted, retry it")]
    LockLost {
        /// Repository label.
        repo: String,
    },
    /// A retention policy keeps nothing.
    #[error("invalid retention policy: {reason}")]
    InvalidPolicy {
        /// What is wrong.
        reason: String,
    },
    /// A YAML or JSON document could not be encoded or decoded.
    #[error("cannot {op} {path} in {repo}: {reason}")]
    Document {
        /// encode or decode.
        op: &'static str,
        /// Object path.
        path: String,
        /// Repository or backend label.
        repo: String,
        /// The parser's message.
        reason: String,
    },
}

impl Error {
    /// A short stable label (for metrics and Kubernetes event reasons).
    pub fn category(&self) -> &'static str {
        match self {
            Error::InvalidLocation { .. } => "InvalidLocation",
            Error::BackendConfig { .. } => "BackendConfig",
            Error::BucketMissing { .. } => "BucketMissing",
            Error::Store { .. } => "StorageError",
            Error::AlreadyInitialised { .. } => "AlreadyInitialised",
            Error::NotInitialised { .. } => "NotInitialised",
            Error::WrongPassword { .. } => "WrongPassword",
            Error::PasswordMissing | Error::PasswordFile { .. } => "PasswordMissing",
            Error::Rustic { .. } => "RepositoryError",
            Error::SnapshotNotFound { .. } | Error::AmbiguousSnapshot { .. } => "SnapshotNotFound",
            Error::FileNotFound { .. } => "FileNotFound",
            Error::IncompleteBackup { .. } => "IncompleteBackup",
            Error::InvalidEntry { .. } => "InvalidEntry",
            Error::Locked { .. } => "Locked",
            Error::LockLost { .. } => "LockLost",
            Error::InvalidPolicy { .. } => "InvalidPolicy",
            Error::Document { .. } => "InvalidDocument",
        }
    }

    /// Whether retrying the same call later may succeed (network, lock contention).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Store { .. } | Error::Locked { .. } | Error::LockLost { .. }
        )
    }
}

/// Wraps a rustic error with the operation and repository.
pub(crate) fn rustic<'a>(
    op: &'static str,
    repo: &'a str,
) -> impl FnOnce(Box<RusticError>) -> Error + 'a {
    move |source| Error::Rustic {
        op,
        repo: repo.to_owned(),
        source,
    }
}
