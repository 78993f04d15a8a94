//! Errors of the operator, each with a stable category used as metric label and Event
//! reason.

use thiserror::Error;

/// Result with the operator's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while talking to the API server or a backend.
#[derive(Debug, Error)]
pub enum Error {
    /// The API server answered 409: somebody else changed the object; requeue.
    #[error("conflict on {what}: {message}")]
    Conflict {
        /// The request.
        what: String,
        /// The server's message.
        message: String,
    },
    /// The API server refused the request (4xx other than 404/409).
    #[error("API server refused {what}: {code} {message}")]
    Rejected {
        /// The request.
        what: String,
        /// HTTP status.
        code: u16,
        /// The server's message.
        message: String,
    },
    /// The API server could not be reached or failed (5xx, transport).
    #[error("API server unavailable for {what}: {message}")]
    Unavailable {
        /// The request.
        what: String,
        /// The error.
        message: String,
    },
    /// An object could not be encoded or decoded.
    #[error("serialization of {what} failed: {message}")]
    Serialization {
        /// The object.
        what: String,
        /// The error.
        message: String,
    },
    /// This replica lost (or never had) the leader lease.
    #[error("not the leader: {0}")]
    NotLeader(String),
    /// A backend operation failed before it could be reported as a fact.
    #[error("backend: {0}")]
    Backend(String),
    /// An input of `cairn exec` or `cairn trigger` is missing or invalid.
    #[error("{0}")]
    Input(String),
}

impl Error {
    /// Stable CamelCase category: the `category` label of the reconcile-error metric and
    /// the reason of the Warning Event about it.
    pub fn category(&self) -> &'static str {
        match self {
            Error::Conflict { .. } => "Conflict",
            Error::Rejected { .. } => "Rejected",
            Error::Unavailable { .. } => "ApiUnavailable",
            Error::Serialization { .. } => "Serialization",
            Error::NotLeader(_) => "NotLeader",
            Error::Backend(_) => "BackendError",
            Error::Input(_) => "InvalidInput",
        }
    }

    /// Classifies a kube client error for the request `what`.
    pub fn from_kube(what: impl Into<String>, err: kube::Error) -> Self {
        let what = what.into();
        match err {
            kube::Error::Api(status) if status.code == 409 => Error::Conflict {
                what,
                message: status.message.clone(),
            },
            kube::Error::Api(status) if status.code < 500 => Error::Rejected {
                what,
                code: status.code,
                message: with_causes(&status),
            },
            other => Error::Unavailable {
                what,
                message: other.to_string(),
            },
        }
    }
}

/// The server's message with the causes it lists (a 422 names each invalid field only
/// there: "spec.schedule: Invalid value: ...").
fn with_causes(status: &kube::core::Status) -> String {
    let causes: Vec<String> = status
        .details
        .iter()
        .flat_map(|d| d.causes.iter())
        .map(|c| match (c.field.as_str(), c.message.as_str()) {
            ("", m) => m.to_owned(),
            (f, m) => format!("{f}: {m}"),
        })
        .filter(|c| !c.is_empty() && !status.message.contains(c.as_str()))
        .collect();
    if causes.is_empty() {
        status.message.clone()
    } else {
        format!("{} ({})", status.message, causes.join("; "))
    }
}
