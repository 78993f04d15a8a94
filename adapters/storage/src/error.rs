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
    #[error("{op} on repository {repo} failed: {}", one_line(source))]
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

/// A rustic error as one line: its message, then each cause once. Its `Display` is a
/// multi-line report (section titles, the cause's source twice, a backtrace when
/// RUST_BACKTRACE is set) that would end up verbatim in a Snapshot's status and in
/// one-line CLI errors; causes that are rustic errors themselves are shortened alike.
pub(crate) fn one_line(e: &RusticError) -> String {
    let mut text = head(e);
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let part = match (
            c.downcast_ref::<RusticError>(),
            c.downcast_ref::<Box<RusticError>>(),
        ) {
            (Some(r), _) => head(r),
            (_, Some(r)) => head(r),
            _ => c.to_string(),
        };
        let part = part.split_whitespace().collect::<Vec<_>>().join(" ");
        // Many errors repeat their source's text in their own.
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    let mut text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.contains("No space left on device") {
        text.push_str(
            ": the backend is full; free space there (or grow its volume) and back up again",
        );
    }
    text
}

/// The message and kind of a rustic error, without its causes.
fn head(e: &RusticError) -> String {
    let log = e.display_log();
    let log = log.strip_prefix("Error: ").unwrap_or(&log);
    let head = log.split(": caused by: ").next().unwrap_or(log);
    head.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustic_core::ErrorKind;

    #[derive(Debug, thiserror::Error)]
    #[error("HTTP 500 on PUT data/ab/cd:\n<Error>injected</Error>")]
    struct Cause(#[source] std::io::Error);

    #[test]
    fn rustic_errors_read_as_one_line_with_their_cause() {
        let source = RusticError::with_source(
            ErrorKind::Backend,
            "storage `put` of `{path}` failed",
            Cause(std::io::Error::other("HTTP 500 on PUT data/ab/cd")),
        )
        .attach_context("path", "data/ab/cd");
        let err = Error::Rustic {
            op: "backup",
            repo: "s3:http://127.0.0.1:1/b/r".into(),
            source,
        };
        let text = err.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(
            !text.contains("Backtrace") && !text.contains("Message:"),
            "{text}"
        );
        assert!(
            text.starts_with("backup on repository s3:http://127.0.0.1:1/b/r failed: storage `put` of `data/ab/cd` failed")
                && text.contains("HTTP 500 on PUT data/ab/cd: <Error>injected</Error>"),
            "{text}"
        );
        assert_eq!(
            text.matches("HTTP 500").count(),
            1,
            "the source is not repeated: {text}"
        );
    }

    #[test]
    fn a_full_backend_says_what_to_do() {
        let source = RusticError::with_source(
            ErrorKind::Backend,
            "storage `put` failed",
            std::io::Error::from_raw_os_error(28),
        );
        let err = Error::Rustic {
            op: "backup",
            repo: "/mnt/backups".into(),
            source,
        };
        let text = err.to_string();
        assert!(
            text.contains("No space left on device") && text.contains("free space"),
            "{text}"
        );
    }

    #[test]
    fn nested_rustic_errors_are_shortened_too() {
        let inner = RusticError::with_source(
            ErrorKind::Cryptography,
            "Data decryption failed, MAC check failed.",
            std::io::Error::other("aead::Error"),
        );
        let source = RusticError::with_source(
            ErrorKind::Cryptography,
            "error processing Pack:24888adf",
            inner,
        );
        let err = Error::Rustic {
            op: "read",
            repo: "/r".into(),
            source,
        };
        let text = err.to_string();
        assert_eq!(
            text,
            "read on repository /r failed: error processing Pack:24888adf (kind: related to \
             cryptographic operations): Data decryption failed, MAC check failed. (kind: related \
             to cryptographic operations): aead::Error"
        );
    }
}
