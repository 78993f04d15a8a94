//! Picking stored objects for the views (`get`, `describe`, `delete`): kind names as
//! users type them, optional name (`name` or `namespace/name`) and namespace, and
//! redaction of Secret values.

use cairn_core::world::secret::REDACTED;
use cairn_core::world::ObjectKey;
use serde_json::Value;

use crate::manifest_kind::ManifestKind;
use crate::store::{StateDir, StoreError};

/// Why a view could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The kind name matches no kind.
    #[error("unknown resource type \"{0}\": use a kind, plural, singular or short name of {known}", known = ManifestKind::known_list())]
    UnknownKind(String),
    /// No stored object matches.
    #[error("{plural} \"{name}\" not found{scope}; `cairn get {plural}` lists them")]
    NotFound {
        /// Plural of the kind.
        plural: String,
        /// The name asked for.
        name: String,
        /// ` in namespace X` when a namespace was given.
        scope: String,
    },
    /// The name exists in several namespaces.
    #[error("{plural} \"{name}\" exists in namespaces {namespaces}; pick one with -n NAMESPACE")]
    Ambiguous {
        /// Plural of the kind.
        plural: String,
        /// The name.
        name: String,
        /// The namespaces, comma-separated.
        namespaces: String,
    },
    /// The state directory could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Resolves a kind name as typed by a user.
pub fn resolve_kind(name: &str) -> Result<ManifestKind, ViewError> {
    ManifestKind::from_user(name).ok_or_else(|| ViewError::UnknownKind(name.to_owned()))
}

/// Stored objects of `kind`, filtered by `namespace` and `name` (which may be written
/// `namespace/name`). A missing name is an error only when a name was given.
pub fn select<'a>(
    state: &'a StateDir,
    kind: ManifestKind,
    name: Option<&str>,
    namespace: Option<&str>,
) -> Result<Vec<(&'a ObjectKey, &'a Value)>, ViewError> {
    let (namespace, name) = match name.and_then(|n| n.split_once('/')) {
        Some((ns, n)) => (Some(ns), Some(n)),
        None => (namespace, name),
    };
    let rows: Vec<_> = state
        .stored(kind)
        .into_iter()
        .filter(|(k, _)| namespace.is_none_or(|ns| !kind.namespaced() || k.namespace == ns))
        .filter(|(k, _)| name.is_none_or(|n| k.name == n))
        .collect();
    if let (Some(name), true) = (name, rows.is_empty()) {
        return Err(ViewError::NotFound {
            plural: kind.plural().to_owned(),
            name: name.to_owned(),
            scope: namespace
                .map(|ns| format!(" in namespace {ns}"))
                .unwrap_or_default(),
        });
    }
    Ok(rows)
}

/// Exactly one object of `kind` named `name`.
pub fn select_one<'a>(
    state: &'a StateDir,
    kind: ManifestKind,
    name: &str,
    namespace: Option<&str>,
) -> Result<(&'a ObjectKey, &'a Value), ViewError> {
    let rows = select(state, kind, Some(name), namespace)?;
    match rows.as_slice() {
        [one] => Ok(*one),
        _ => Err(ViewError::Ambiguous {
            plural: kind.plural().to_owned(),
            name: name.to_owned(),
            namespaces: rows
                .iter()
                .map(|(k, _)| k.namespace.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// The object with any Secret value replaced by a placeholder (keys kept).
pub fn redact(kind: ManifestKind, value: &Value) -> Value {
    let mut v = value.clone();
    if kind != ManifestKind::Secret {
        return v;
    }
    if let Some(map) = v.as_object_mut() {
        let mut keys: Vec<String> = Vec::new();
        for field in ["data", "stringData"] {
            if let Some(Value::Object(m)) = map.remove(field) {
                keys.extend(m.keys().cloned());
            }
        }
        keys.sort();
        keys.dedup();
        let data: serde_json::Map<String, Value> = keys
            .into_iter()
            .map(|k| (k, Value::String(REDACTED.to_owned())))
            .collect();
        map.insert("data".to_owned(), Value::Object(data));
    }
    v
}
