//! resourceVersion, generation and uid, the way the API server assigns them:
//! - `resourceVersion` changes on every write of the object (a store-wide counter);
//! - `generation` starts at 1 and grows when anything but `metadata` and `status`
//!   changes (KubeStash kinds keep their spec there); Secrets and Namespaces have none;
//! - `uid` and `creationTimestamp` are kept from the stored object, a `uid` is made
//!   for a new object that has none.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use serde_json::{Map, Value};

/// Metadata fields only the store writes.
const VERSION_FIELDS: [&str; 2] = ["resourceVersion", "generation"];
/// Metadata fields kept from the stored object when the new one lacks them.
const KEPT_FIELDS: [&str; 2] = ["uid", "creationTimestamp"];

/// The object to write for `new`, given the stored `old`, or `None` when nothing but
/// store-owned fields differ. `revision` is the store-wide counter (bumped on write).
pub fn stamp(mut new: Value, old: Option<&Value>, revision: &mut u64) -> Option<Value> {
    let has_generation = new.get("apiVersion").and_then(Value::as_str) != Some("v1");
    let meta = metadata_mut(&mut new)?;
    for f in VERSION_FIELDS {
        meta.remove(f);
    }
    let old_meta = old
        .and_then(|o| o.get("metadata"))
        .and_then(Value::as_object);
    for f in KEPT_FIELDS {
        if !meta.contains_key(f) {
            if let Some(v) = old_meta.and_then(|m| m.get(f)) {
                meta.insert(f.to_owned(), v.clone());
            }
        }
    }
    if old.is_none() && !meta.contains_key("uid") {
        meta.insert("uid".to_owned(), Value::String(new_uid()));
    }
    let old_body = old.map(without_versions);
    if old_body.as_ref() == Some(&new) {
        return None;
    }
    let old_generation = old_meta
        .and_then(|m| m.get("generation"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let spec_changed = old.is_none_or(|o| spec_part(o) != spec_part(&new));
    let generation = if spec_changed {
        old_generation + 1
    } else {
        old_generation.max(1)
    };
    *revision += 1;
    let meta = metadata_mut(&mut new)?;
    if has_generation {
        meta.insert("generation".to_owned(), Value::from(generation));
    }
    meta.insert(
        "resourceVersion".to_owned(),
        Value::String(revision.to_string()),
    );
    Some(new)
}

/// The resourceVersion of a stored object, as a number (0 when absent or foreign).
pub fn resource_version(value: &Value) -> u64 {
    value
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn metadata_mut(value: &mut Value) -> Option<&mut Map<String, Value>> {
    let object = value.as_object_mut()?;
    object
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

fn without_versions(value: &Value) -> Value {
    let mut v = value.clone();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in VERSION_FIELDS {
            meta.remove(f);
        }
    }
    v
}

/// Everything but `metadata` and `status`.
fn spec_part(value: &Value) -> Value {
    let mut v = value.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("metadata");
        o.remove("status");
    }
    v
}

/// A random version-4 UUID (from the standard library's randomly keyed hasher).
pub fn new_uid() -> String {
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let mut h = RandomState::new().build_hasher();
        h.write_usize(i);
        h.write_u128(std::process::id().into());
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(spec: i64, phase: &str) -> Value {
        json!({"apiVersion": "g/v1alpha1", "kind": "K",
            "metadata": {"name": "n", "uid": "u"}, "spec": {"x": spec}, "status": {"phase": phase}})
    }

    #[test]
    fn generation_and_resource_version() {
        let mut rev = 0;
        let first = stamp(obj(1, "A"), None, &mut rev).unwrap();
        assert_eq!(first["metadata"]["generation"], 1);
        assert_eq!(first["metadata"]["resourceVersion"], "1");
        assert_eq!(stamp(obj(1, "A"), Some(&first), &mut rev), None);
        let status = stamp(obj(1, "B"), Some(&first), &mut rev).unwrap();
        assert_eq!(status["metadata"]["generation"], 1);
        assert_eq!(status["metadata"]["resourceVersion"], "2");
        let spec = stamp(obj(2, "B"), Some(&status), &mut rev).unwrap();
        assert_eq!(spec["metadata"]["generation"], 2);
        assert_eq!(spec["metadata"]["resourceVersion"], "3");
    }

    #[test]
    fn uids_look_like_uuids() {
        let (a, b) = (new_uid(), new_uid());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
