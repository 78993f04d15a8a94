//! core/v1 Secret and Namespace manifests: the fields the local control plane reads.
//!
//! A Secret's `data` is base64, `stringData` plain text and wins over `data` for the
//! same key, as the API server merges them. Values must be UTF-8 text (credentials,
//! passwords); binary values are refused with the key named, never the value.

use std::collections::BTreeMap;

use cairn_core::world::{Secret, SecretValue};
use serde_json::Value;

use crate::manifest_base64;

/// Top-level fields a v1 Secret may carry.
const SECRET_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "data",
    "stringData",
    "type",
    "immutable",
];
/// Top-level fields a v1 Namespace may carry.
const NAMESPACE_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec", "status"];

/// What is wrong with one Secret value (never the value itself).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretValueError {
    /// `data` value that is not base64.
    #[error("data.{key} is not valid base64; put plain text under stringData instead")]
    NotBase64 {
        /// The key.
        key: String,
    },
    /// `data` value whose bytes are not UTF-8.
    #[error("data.{key} decodes to bytes that are not UTF-8 text; only text values are supported")]
    NotText {
        /// The key.
        key: String,
    },
    /// A value that is not a string.
    #[error("{field}.{key} must be a string")]
    NotString {
        /// `data` or `stringData`.
        field: &'static str,
        /// The key.
        key: String,
    },
}

/// JSON pointers of undeclared top-level fields of a Secret.
pub fn unknown_secret_fields(value: &Value) -> Vec<String> {
    unknown_top_level(value, SECRET_FIELDS)
}

/// JSON pointers of undeclared top-level fields of a Namespace.
pub fn unknown_namespace_fields(value: &Value) -> Vec<String> {
    unknown_top_level(value, NAMESPACE_FIELDS)
}

fn unknown_top_level(value: &Value, known: &[&str]) -> Vec<String> {
    value
        .as_object()
        .map(|m| {
            m.keys()
                .filter(|k| !known.contains(&k.as_str()))
                .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
                .collect()
        })
        .unwrap_or_default()
}

/// Builds the core's Secret from a v1 Secret manifest.
pub fn secret_from_value(
    namespace: &str,
    name: &str,
    value: &Value,
) -> Result<Secret, SecretValueError> {
    let mut data = BTreeMap::new();
    for (key, v) in entries(value, "data")? {
        let bytes = manifest_base64::decode(v)
            .ok_or_else(|| SecretValueError::NotBase64 { key: key.clone() })?;
        let text =
            String::from_utf8(bytes).map_err(|_| SecretValueError::NotText { key: key.clone() })?;
        data.insert(key, SecretValue::new(text));
    }
    for (key, v) in entries(value, "stringData")? {
        data.insert(key, SecretValue::new(v));
    }
    Ok(Secret {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        data,
    })
}

fn entries<'a>(
    value: &'a Value,
    field: &'static str,
) -> Result<Vec<(String, &'a str)>, SecretValueError> {
    let Some(map) = value.get(field).and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    map.iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|s| (k.clone(), s))
                .ok_or_else(|| SecretValueError::NotString {
                    field,
                    key: k.clone(),
                })
        })
        .collect()
}

/// Labels of a Namespace manifest.
pub fn namespace_labels(value: &Value) -> BTreeMap<String, String> {
    value
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_data_wins_and_base64_decodes() {
        let v = json!({"data": {"a": "cGFzcw==", "b": "eA=="}, "stringData": {"b": "y"}});
        let s = secret_from_value("demo", "s", &v).unwrap();
        assert_eq!(s.data["a"].expose(), "pass");
        assert_eq!(s.data["b"].expose(), "y");
    }

    #[test]
    fn bad_values_name_the_key_only() {
        let v = json!({"data": {"k": "!!!"}});
        let e = secret_from_value("demo", "s", &v).unwrap_err();
        assert_eq!(
            e.to_string(),
            "data.k is not valid base64; put plain text under stringData instead"
        );
    }
}
