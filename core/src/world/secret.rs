//! Secrets as the core sees them: names and keys, with values that never render.
//!
//! The core needs a Secret's keys (to tell the user which key is missing) and, only for
//! the no-leak invariant, its values. Values are wrapped so that `Debug`, `Display` and
//! `Serialize` print a placeholder: a status, event or snapshot file cannot carry one by
//! accident.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

/// Placeholder printed instead of a secret value.
pub const REDACTED: &str = "<redacted>";

/// A secret value; opaque to everything but [`SecretValue::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself; only the leak checker and executors may call this.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for SecretValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

/// A Kubernetes Secret reduced to its identity and keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Secret {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Values by key; rendered as [`REDACTED`].
    pub data: BTreeMap<String, SecretValue>,
}

impl Secret {
    /// A Secret with the given `(key, value)` pairs.
    pub fn new<K: Into<String>, V: Into<String>>(
        namespace: impl Into<String>,
        name: impl Into<String>,
        data: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
            data: data
                .into_iter()
                .map(|(k, v)| (k.into(), SecretValue::new(v)))
                .collect(),
        }
    }

    /// Whether the Secret has `key`.
    pub fn has_key(&self, key: &str) -> bool {
        self.data.contains_key(key)
    }

    /// The Secret's keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.data.keys().map(String::as_str)
    }
}
