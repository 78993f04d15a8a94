//! `metadata.managedFields`: ownership tracking for updates and server-side apply.

use serde_json::{json, Value};

use super::fieldset::{get_path, FieldSet, Part};
use super::listtypes::Types;

/// One `managedFields` entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `manager`.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// `apiVersion` the manager used.
    pub api_version: String,
    /// RFC 3339 `time`.
    pub time: String,
    /// `subresource` ("" or `status`).
    pub subresource: String,
    /// `fieldsV1`.
    pub set: FieldSet,
}

impl Entry {
    /// Same manager identity (manager, operation, subresource)?
    pub fn is(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }

    /// `"name"` or `"name" using apps/v1`, as upstream prints managers in conflicts.
    pub fn printed(&self) -> String {
        if self.operation == "Update" {
            format!("{:?} using {}", self.manager, self.api_version)
        } else {
            format!("{:?}", self.manager)
        }
    }
}

/// The entries of an object.
pub fn parse(obj: &Value) -> Vec<Entry> {
    let s = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| Entry {
                    manager: s(e, "manager"),
                    operation: s(e, "operation"),
                    api_version: s(e, "apiVersion"),
                    time: s(e, "time"),
                    subresource: s(e, "subresource"),
                    set: FieldSet::from_json(e.get("fieldsV1").unwrap_or(&Value::Null)),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Writes entries (dropping empty ones) into `obj.metadata.managedFields`.
pub fn write(obj: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.set.is_empty())
        .map(|e| {
            let mut v = json!({
                "manager": e.manager,
                "operation": e.operation,
                "apiVersion": e.api_version,
                "time": e.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": e.set.to_json(),
            });
            if !e.subresource.is_empty() {
                v["subresource"] = json!(e.subresource);
            }
            v
        })
        .collect();
    if list.is_empty() {
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("managedFields");
        }
    } else {
        obj["metadata"]["managedFields"] = Value::Array(list);
    }
}

/// The part of an object a subresource's managers own.
pub fn part_of(subresource: &str, has_status: bool) -> Part {
    match (subresource, has_status) {
        ("status", _) => Part::Status,
        (_, true) => Part::Main,
        _ => Part::All,
    }
}

/// Records a non-apply write (create/update/patch) by `manager`: it takes the fields it
/// changed from every other manager, without conflicts (upstream `Update` semantics).
#[allow(clippy::too_many_arguments)]
pub fn track_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: &str,
    part: Part,
    types: &dyn Types,
    now: &str,
) {
    let provided = new.pointer("/metadata/managedFields").cloned();
    let mut entries = match (old, &provided) {
        (Some(o), Some(p)) if o.pointer("/metadata/managedFields") != Some(p) => parse(new),
        (Some(o), _) => parse(o),
        (None, _) => parse(new),
    };
    let api_version = new
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let new_set = FieldSet::of_object(new, types, part);
    let empty = json!({});
    let old_obj = old.unwrap_or(&empty);
    let old_set = FieldSet::of_object(old_obj, types, part);
    let changed: Vec<Vec<String>> = new_set
        .paths()
        .into_iter()
        .filter(|p| !old_set.contains(p) || get_path(old_obj, p) != get_path(new, p))
        .collect();
    let removed: Vec<Vec<String>> = old_set
        .paths()
        .into_iter()
        .filter(|p| !new_set.contains(p))
        .collect();
    if changed.is_empty() && removed.is_empty() && old.is_some() {
        write(new, &entries);
        return;
    }
    for e in entries.iter_mut() {
        for p in changed.iter().chain(removed.iter()) {
            e.set.remove(p);
        }
    }
    let idx = match entries
        .iter()
        .position(|e| e.is(manager, "Update", subresource))
    {
        Some(i) => i,
        None => {
            entries.push(Entry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version: api_version.clone(),
                time: now.to_string(),
                subresource: subresource.to_string(),
                set: FieldSet::default(),
            });
            entries.len() - 1
        }
    };
    let e = &mut entries[idx];
    for p in &changed {
        e.set.insert(p);
    }
    e.time = now.to_string();
    e.api_version = api_version;
    write(new, &entries);
}

/// `.spec.containers[name="x"].image` for a field path (conflict messages).
pub fn path_string(path: &[String]) -> String {
    let mut out = String::new();
    for pe in path {
        if let Some(f) = pe.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = pe.strip_prefix("k:") {
            let key: Value = serde_json::from_str(k).unwrap_or(Value::Null);
            let parts: Vec<String> = key
                .as_object()
                .map(|o| o.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = pe.strip_prefix("v:") {
            out.push_str(&format!("[={v}]"));
        }
    }
    out
}
