//! Errors of the manifest loader: each names the file and line, what is wrong and,
//! where it helps, what to write instead.

use std::fmt;
use std::path::PathBuf;

use crate::manifest_secret::SecretValueError;

/// A place in a manifest file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Source {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// Why a manifest could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// A file or directory could not be read.
    #[error("{}: cannot read manifests: {source}", .path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The YAML itself is malformed.
    #[error("{at}:{column}: invalid YAML: {message}")]
    Yaml {
        /// File and line.
        at: Source,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The document is not a mapping, or lacks `apiVersion`, `kind` or `metadata.name`.
    #[error("{at}: {problem}; every manifest needs apiVersion, kind and metadata.name")]
    Incomplete {
        /// File and line.
        at: Source,
        /// What is missing.
        problem: String,
    },
    /// A kind Cairn does not serve.
    #[error("{at}: unknown kind \"{kind}\" (apiVersion {api_version}): known kinds are {known}")]
    UnknownKind {
        /// File and line of `kind:`.
        at: Source,
        /// The kind as written.
        kind: String,
        /// The apiVersion as written.
        api_version: String,
        /// Every kind Cairn serves, with its apiVersion.
        known: String,
    },
    /// A known kind under the wrong apiVersion.
    #[error(
        "{at}: kind {kind} is served as apiVersion {expected}, not {found}; change apiVersion"
    )]
    WrongApiVersion {
        /// File and line of `apiVersion:`.
        at: Source,
        /// The kind.
        kind: &'static str,
        /// The apiVersion Cairn serves.
        expected: String,
        /// The apiVersion as written.
        found: String,
    },
    /// A name that Kubernetes would refuse (and that could escape the state directory).
    #[error("{at}: invalid {field} {value:?} in {kind}: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters")]
    InvalidName {
        /// File and line.
        at: Source,
        /// `metadata.name` or `metadata.namespace`.
        field: &'static str,
        /// The value.
        value: String,
        /// The kind.
        kind: &'static str,
    },
    /// A field the kind's schema does not declare (usually a typo).
    #[error("{at}: unknown field {field} in {kind} {object}{more}")]
    UnknownField {
        /// File and line of the field.
        at: Source,
        /// Dotted path, e.g. `spec.sessions[0].schedular`.
        field: String,
        /// The kind.
        kind: &'static str,
        /// `namespace/name` or `name`.
        object: String,
        /// `" (and 2 more: a, b)"` when the document has more unknown fields.
        more: String,
    },
    /// A field has the wrong type or an invalid value.
    #[error("{at}:{column}: invalid {kind} {object}: {message}")]
    Invalid {
        /// File and line.
        at: Source,
        /// 1-based column (0 when unknown).
        column: usize,
        /// The kind.
        kind: &'static str,
        /// `namespace/name` or `name`.
        object: String,
        /// The parser's message.
        message: String,
    },
    /// A Secret value that cannot be used.
    #[error("{at}: Secret {object}: {source}")]
    SecretValue {
        /// File and line.
        at: Source,
        /// `namespace/name`.
        object: String,
        /// What is wrong (never the value).
        source: SecretValueError,
    },
    /// The same object twice among the manifests.
    #[error("{at}: {kind} {object} is defined twice (first at {first}); keep one of them")]
    Duplicate {
        /// The second definition.
        at: Source,
        /// The kind.
        kind: &'static str,
        /// `namespace/name` or `name`.
        object: String,
        /// The first definition.
        first: Source,
    },
}

impl ManifestError {
    /// Short category, for logs and event reasons.
    pub fn category(&self) -> &'static str {
        match self {
            ManifestError::Read { .. } => "ManifestUnreadable",
            ManifestError::Yaml { .. } => "ManifestInvalidYaml",
            ManifestError::Incomplete { .. } => "ManifestIncomplete",
            ManifestError::UnknownKind { .. } | ManifestError::WrongApiVersion { .. } => {
                "ManifestUnknownKind"
            }
            ManifestError::InvalidName { .. } => "ManifestInvalidName",
            ManifestError::UnknownField { .. } => "ManifestUnknownField",
            ManifestError::Invalid { .. } | ManifestError::SecretValue { .. } => "ManifestInvalid",
            ManifestError::Duplicate { .. } => "ManifestDuplicate",
        }
    }
}

/// Result of the manifest loader.
pub type Result<T, E = ManifestError> = std::result::Result<T, E>;
