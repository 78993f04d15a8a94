//! Secrets as the core sees them: names and keys, with values that never render.
//!
//! The core needs a Secret's keys (to tell the user which key is missing) and, only for
//! the no-leak invariant, its values. Values are wrapped so that `Debug`, `Display` and
//! `Serialize` print a placeholder: a status, event or snapshot file cannot carry one by
//! accident.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Mutex;

use serde::{Serialize, Serializer};

/// Placeholder printed instead of a secret value.
pub const REDACTED: &str = "<redacted>";

/// A secret value; opaque to everything but [`SecretValue::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value (and [`remember`]s it).
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        remember(&value);
        Self(value)
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

/// Every secret value this process has held: text that cannot be typed (a panic
/// message) is masked against them by the `cairn` binary's panic hook.
static KNOWN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Remembers `value` as a secret of this process (empty values mask nothing).
pub fn remember(value: &str) {
    if value.is_empty() {
        return;
    }
    let mut known = KNOWN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !known.contains(value) {
        known.insert(value.to_owned());
    }
}

/// The secret values remembered so far.
pub fn known() -> Vec<String> {
    KNOWN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .cloned()
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_values_are_remembered_for_the_panic_hook() {
        let value = "remember-me-4f1c";
        let wrapped = SecretValue::new(value);
        assert_eq!(format!("{wrapped:?}"), REDACTED);
        assert!(known().iter().any(|k| k == value));
        remember("");
        assert!(!known().iter().any(String::is_empty));
    }
}
