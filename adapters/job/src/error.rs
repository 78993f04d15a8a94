//! Errors of the job crate: each names the object involved and what to do.

/// Result type of this crate.
pub type Result<T, E = JobError> = std::result::Result<T, E>;

/// Why a job could not be resolved or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// A referenced object does not exist.
    #[error("{kind} {key} not found: create it (it is referenced by {by})")]
    MissingObject {
        /// Kind of the missing object.
        kind: &'static str,
        /// `namespace/name`.
        key: String,
        /// Which object references it.
        by: String,
    },
    /// A Secret lacks a key the job needs.
    #[error("Secret {secret} has no key {key:?} ({purpose}): add it to the Secret")]
    MissingSecretKey {
        /// `namespace/name` of the Secret.
        secret: String,
        /// The missing key.
        key: &'static str,
        /// What the key is for.
        purpose: &'static str,
    },
    /// The AppBinding does not say how to reach the database.
    #[error("AppBinding {app} cannot be used: {reason}")]
    InvalidAppBinding {
        /// `namespace/name`.
        app: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The BackupStorage does not describe a usable backend.
    #[error("BackupStorage {storage} cannot be used: {reason}")]
    InvalidStorage {
        /// `namespace/name`.
        storage: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The job spec asks for something this executor cannot do.
    #[error("{0}")]
    Unsupported(String),
    /// A storage or repository operation failed.
    #[error("{what}: {source}")]
    Storage {
        /// What was being done, naming the repository.
        what: String,
        /// The storage error (boxed: it is large).
        #[source]
        source: Box<cairn_storage::Error>,
    },
    /// A database operation failed.
    #[error("{what}: {message}")]
    Database {
        /// What was being done, naming the AppBinding.
        what: String,
        /// The database error, rewritten for the job context (never a password).
        message: String,
    },
    /// Loading the snapshot into the database failed.
    #[error("{what}: {source}")]
    Restore {
        /// What was being done.
        what: String,
        /// The restore error (boxed: it is large).
        #[source]
        source: Box<cairn_db::restore::RestoreError>,
    },
    /// A background task panicked or was cancelled.
    #[error("internal error: {0}; please report it")]
    Internal(String),
}

impl JobError {
    /// A short stable label (for metrics and event reasons).
    pub fn category(&self) -> &'static str {
        match self {
            JobError::MissingObject { .. } => "MissingObject",
            JobError::MissingSecretKey { .. } => "MissingSecretKey",
            JobError::InvalidAppBinding { .. } => "InvalidAppBinding",
            JobError::InvalidStorage { .. } => "InvalidStorage",
            JobError::Unsupported(_) => "Unsupported",
            JobError::Storage { source, .. } => source.category(),
            JobError::Database { .. } => "DatabaseError",
            JobError::Restore { source, .. } => source.category(),
            JobError::Internal(_) => "Internal",
        }
    }
}

/// A database error rewritten for the job context: the hint names the AppBinding and
/// its auth Secret instead of CLI flags. Never contains a password (the driver's
/// messages do not, and the URL was redacted when parsed).
pub(crate) fn db_error(what: &str, app: &str, err: cairn_db::conn::Error) -> JobError {
    use cairn_db::conn::Error as E;
    let message = match err {
        E::AccessDenied {
            user,
            host,
            port,
            message,
        } => format!(
            "access denied for user `{user}` at {host}:{port} ({message}): check `username` and `password` in the auth Secret of AppBinding {app}, and the user's grants"
        ),
        E::Unreachable {
            user,
            host,
            port,
            source,
        } => format!(
            "cannot connect to {host}:{port} as `{user}` ({source}): is the database running and reachable? check clientConfig of AppBinding {app}"
        ),
        other => other.to_string(),
    };
    JobError::Database {
        what: what.to_owned(),
        message,
    }
}
