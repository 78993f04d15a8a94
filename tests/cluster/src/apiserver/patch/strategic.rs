//! Strategic merge patch for built-in kinds (what kubectl sends): lists with a
//! `patchMergeKey` merge by key, `$patch: delete|replace`, `$setElementOrder/<f>`,
//! `$deleteFromPrimitiveList/<f>`, `$retainKeys`.

use serde_json::{Map, Value};

use super::listtypes::{ListKind, Types};

/// Applies a strategic merge patch to `target`.
pub fn apply(target: &mut Value, patch: &Value, types: &dyn Types) {
    apply_at(target, patch, &mut Vec::new(), types);
}

fn apply_at(target: &mut Value, patch: &Value, path: &mut Vec<String>, types: &dyn Types) {
    let Some(p) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    match p.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut clean = p.clone();
            clean.remove("$patch");
            *target = Value::Object(clean);
            return;
        }
        Some("delete") => {
            *target = Value::Null;
            return;
        }
        _ => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Some(keys) = p.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        if let Some(t) = target.as_object_mut() {
            t.retain(|k, _| keep.contains(&k.as_str()) || p.contains_key(k));
        }
    }
    for (k, pv) in p {
        if k.starts_with("$setElementOrder/") || k == "$retainKeys" || k == "$patch" {
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(list), Some(del)) = (
                target.get_mut(field).and_then(Value::as_array_mut),
                pv.as_array(),
            ) {
                list.retain(|x| !del.contains(x));
            }
            continue;
        }
        let Some(t) = target.as_object_mut() else {
            return;
        };
        if pv.is_null() {
            t.remove(k);
            continue;
        }
        path.push(k.clone());
        let ps: Vec<&str> = path.iter().map(String::as_str).collect();
        match pv {
            Value::Object(_) => {
                let entry = t.entry(k.clone()).or_insert(Value::Null);
                if types.atomic_map(&ps) {
                    *entry = pv.clone();
                } else {
                    apply_at(entry, pv, path, types);
                    if entry.is_null() {
                        t.remove(k);
                    }
                }
            }
            Value::Array(items) => {
                let kind = types.list(&ps);
                let existing = t.get(k).and_then(Value::as_array).cloned();
                let merged = merge_list(existing, items, &kind, path, types);
                t.insert(k.clone(), Value::Array(merged));
            }
            _ => {
                t.insert(k.clone(), pv.clone());
            }
        }
        path.pop();
    }
}

fn merge_list(
    existing: Option<Vec<Value>>,
    items: &[Value],
    kind: &ListKind,
    path: &mut Vec<String>,
    types: &dyn Types,
) -> Vec<Value> {
    let replace = items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"));
    let mut out = if replace {
        Vec::new()
    } else {
        existing.unwrap_or_default()
    };
    match kind {
        ListKind::Map(keys) if !keys.is_empty() => {
            for item in items {
                if item.get("$patch").and_then(Value::as_str) == Some("replace") {
                    continue;
                }
                // The primary merge key is the first (upstream patchMergeKey is one field).
                let key = &keys[0];
                let same = |x: &Value| x.get(key) == item.get(key);
                let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                if delete {
                    out.retain(|x| !same(x));
                    continue;
                }
                match out.iter_mut().find(|x| same(x)) {
                    Some(x) => apply_at(x, item, path, types),
                    None => {
                        let mut fresh = Value::Null;
                        apply_at(&mut fresh, item, path, types);
                        out.push(fresh);
                    }
                }
            }
            out
        }
        ListKind::Set => {
            for item in items {
                if !out.contains(item) {
                    out.push(item.clone());
                }
            }
            out
        }
        _ => items.to_vec(),
    }
}
