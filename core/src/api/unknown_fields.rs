//! Finds fields a manifest carries that the schema of its kind does not declare, so the
//! local loader can warn about typos instead of silently dropping them.

use serde_json::{Map, Value};

use super::kind::Kind;
use super::schema::PRESERVE_UNKNOWN_FIELDS;
use crate::crd::crd_for;

/// JSON pointers (RFC 6901) of the fields in `object` that the `kind` schema does not
/// declare, in document order. Subtrees marked `x-kubernetes-preserve-unknown-fields`
/// accept anything; `apiVersion`, `kind` and `metadata` are always accepted.
pub fn unknown_fields(kind: Kind, object: &Value) -> Vec<String> {
    let crd = crd_for(kind);
    let schema = crd
        .spec
        .versions
        .first()
        .and_then(|v| v.schema.as_ref())
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or(Value::Null);
    let mut out = Vec::new();
    let Some(fields) = object.as_object() else {
        return out;
    };
    for (key, value) in fields {
        if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        let pointer = format!("/{}", escape(key));
        match property(&schema, key) {
            Some(sub) => walk(value, &sub, &pointer, &mut out),
            None => out.push(pointer),
        }
    }
    out
}

/// Collects unknown fields of `value` against `schema` into `out`.
fn walk(value: &Value, schema: &Value, pointer: &str, out: &mut Vec<String>) {
    if schema.get(PRESERVE_UNKNOWN_FIELDS) == Some(&Value::Bool(true)) {
        return;
    }
    match value {
        Value::Object(fields) => walk_object(fields, schema, pointer, out),
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(item, item_schema, &format!("{pointer}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

fn walk_object(fields: &Map<String, Value>, schema: &Value, pointer: &str, out: &mut Vec<String>) {
    let additional = schema.get("additionalProperties");
    for (key, value) in fields {
        let child = format!("{pointer}/{}", escape(key));
        if let Some(sub) = property(schema, key) {
            walk(value, &sub, &child, out);
            continue;
        }
        match additional {
            Some(Value::Bool(true)) => {}
            Some(sub @ Value::Object(_)) => walk(value, sub, &child, out),
            _ => out.push(child),
        }
    }
}

/// The schema of property `key`, looking through `allOf`/`anyOf`/`oneOf` branches.
fn property(schema: &Value, key: &str) -> Option<Value> {
    if let Some(sub) = schema.get("properties").and_then(|p| p.get(key)) {
        return Some(sub.clone());
    }
    ["allOf", "anyOf", "oneOf"]
        .iter()
        .filter_map(|k| schema.get(*k).and_then(Value::as_array))
        .flatten()
        .find_map(|branch| property(branch, key))
}

/// Escapes a key for use in a JSON pointer.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
