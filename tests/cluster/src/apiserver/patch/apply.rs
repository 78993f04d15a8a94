//! Server-side apply (`application/apply-patch+yaml`): conflicts, force, ownership, removal
//! of fields a manager stopped applying.

use serde_json::{json, Value};

use super::fieldset::{get_path, remove_path, FieldSet, Part};
use super::listtypes::{ListKind, Types};
use super::managed::{self, path_string, Entry};
use crate::apiserver::http::status::ApiError;

/// What an apply request asks.
pub struct ApplyRequest<'a> {
    /// The applied configuration (JSON of the YAML body).
    pub applied: &'a Value,
    /// `fieldManager`.
    pub manager: &'a str,
    /// `force=true`.
    pub force: bool,
    /// "" or `status`.
    pub subresource: &'a str,
    /// Which part of the object this subresource owns.
    pub part: Part,
    /// Now, RFC 3339.
    pub now: &'a str,
}

/// The object after applying `req` on `live` (None: create), with its managedFields.
pub fn apply(
    live: Option<&Value>,
    req: &ApplyRequest<'_>,
    types: &dyn Types,
) -> Result<Value, ApiError> {
    let mut entries = live.map(managed::parse).unwrap_or_default();
    let mut applied = req.applied.clone();
    if let Some(m) = applied.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    let applied_set = FieldSet::of_object(&applied, types, req.part);
    let base = live.cloned().unwrap_or_else(|| json!({}));
    let mine = |e: &Entry| e.is(req.manager, "Apply", req.subresource);

    let mut conflicts: Vec<(usize, Vec<String>)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if mine(e) || e.subresource != req.subresource {
            continue;
        }
        for p in applied_set.paths() {
            if p.last().map(String::as_str) == Some(".") || !e.set.contains(&p) {
                continue;
            }
            if get_path(&base, &p) != get_path(&applied, &p) {
                conflicts.push((i, p));
            }
        }
    }
    if !conflicts.is_empty() {
        if !req.force {
            return Err(conflict_error(&entries, &conflicts));
        }
        for (i, p) in &conflicts {
            entries[*i].set.remove(p);
        }
    }

    let prev = entries
        .iter()
        .find(|e| mine(e))
        .map(|e| e.set.clone())
        .unwrap_or_default();
    let mut merged = base;
    merge(&mut merged, &applied, &mut Vec::new(), types);
    for p in prev.paths() {
        if applied_set.contains(&p) {
            continue;
        }
        let node: &[String] = if p.last().map(String::as_str) == Some(".") {
            &p[..p.len() - 1]
        } else {
            &p
        };
        let owned_elsewhere = entries.iter().any(|e| !mine(e) && e.set.touches(node));
        if !owned_elsewhere {
            remove_path(&mut merged, &p);
        }
    }

    let api_version = applied
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match entries.iter_mut().find(|e| mine(e)) {
        Some(e) => {
            if e.set != applied_set {
                e.time = req.now.to_string();
            }
            e.set = applied_set;
            e.api_version = api_version;
        }
        None => entries.push(Entry {
            manager: req.manager.to_string(),
            operation: "Apply".into(),
            api_version,
            time: req.now.to_string(),
            subresource: req.subresource.to_string(),
            set: applied_set,
        }),
    }
    managed::write(&mut merged, &entries);
    Ok(merged)
}

fn conflict_error(entries: &[Entry], conflicts: &[(usize, Vec<String>)]) -> ApiError {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(i, p)| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", entries[*i].printed()),
                "field": path_string(p),
            })
        })
        .collect();
    let message = if conflicts.len() == 1 {
        let (i, p) = &conflicts[0];
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            entries[*i].printed(),
            path_string(p)
        )
    } else {
        let mut managers: Vec<usize> = conflicts.iter().map(|(i, _)| *i).collect();
        managers.sort_by_key(|i| entries[*i].printed());
        managers.dedup();
        let mut lines = Vec::new();
        for m in managers {
            lines.push(format!("conflicts with {}:", entries[m].printed()));
            for (_, p) in conflicts.iter().filter(|(i, _)| *i == m) {
                lines.push(format!("- {}", path_string(p)));
            }
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    let mut e = ApiError::new(409, "Conflict", message);
    e.details = Some(json!({"causes": causes}));
    e
}

/// Merges an applied configuration into an object: maps per key, list-maps by key, sets by
/// value, atomic lists and scalars replaced; explicit nulls remove.
pub fn merge(live: &mut Value, applied: &Value, path: &mut Vec<String>, types: &dyn Types) {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match (live.as_object_mut(), applied.as_object()) {
        (Some(l), Some(a)) if path.is_empty() || !types.atomic_map(&p) => {
            for (k, av) in a {
                if av.is_null() {
                    l.remove(k);
                    continue;
                }
                path.push(k.clone());
                match l.get_mut(k) {
                    Some(lv) => merge(lv, av, path, types),
                    None => {
                        l.insert(k.clone(), av.clone());
                    }
                }
                path.pop();
            }
            return;
        }
        _ => {}
    }
    if let (Some(l), Some(a)) = (live.as_array_mut(), applied.as_array()) {
        match types.list(&p) {
            ListKind::Map(keys) => {
                for item in a {
                    let same = |x: &Value| keys.iter().all(|k| x.get(k) == item.get(k));
                    match l.iter_mut().find(|x| same(x)) {
                        Some(x) => merge(x, item, path, types),
                        None => l.push(item.clone()),
                    }
                }
                return;
            }
            ListKind::Set => {
                for item in a {
                    if !l.contains(item) {
                        l.push(item.clone());
                    }
                }
                return;
            }
            ListKind::Atomic => {}
        }
    }
    *live = applied.clone();
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::apiserver::patch::listtypes::Builtin;

    fn deploy(port: u16, label: Option<&str>) -> Value {
        image(port, label, "i")
    }

    fn image(port: u16, label: Option<&str>, image: &str) -> Value {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "op", "image": image, "ports": [{"name": "http", "containerPort": port}]}]}}}});
        if let Some(l) = label {
            d["metadata"]["labels"] = json!({l: "1"});
        }
        d
    }

    fn req<'a>(applied: &'a Value, manager: &'a str, force: bool) -> ApplyRequest<'a> {
        ApplyRequest {
            applied,
            manager,
            force,
            subresource: "",
            part: Part::Main,
            now: "t",
        }
    }

    #[test]
    fn reapply_replaces_a_list_map_item_and_keeps_its_parent() {
        let t = Builtin("Deployment");
        let live = apply(None, &req(&deploy(8080, Some("a")), "m", false), &t).expect("create");
        // managedFields round-trip through JSON between the two applies.
        let out = apply(Some(&live), &req(&deploy(9090, None), "m", false), &t).expect("apply");
        let cs = out
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .expect("containers");
        assert_eq!(cs.len(), 1, "{out}");
        assert_eq!(
            cs[0]["ports"],
            json!([{"name": "http", "containerPort": 9090}])
        );
        assert!(
            out.pointer("/metadata/labels/a").is_none(),
            "label no longer applied is removed"
        );
    }

    #[test]
    fn conflicts_unless_forced_and_shared_when_equal() {
        let t = Builtin("Deployment");
        let live = apply(None, &req(&deploy(8080, None), "a", false), &t).expect("create");
        let same = apply(Some(&live), &req(&deploy(8080, None), "b", false), &t)
            .expect("same value: shared");
        let err = apply(Some(&same), &req(&image(8080, None, "j"), "b", false), &t)
            .expect_err("conflict");
        assert_eq!(err.code, 409);
        assert!(
            err.message.starts_with("Apply failed with"),
            "{}",
            err.message
        );
        apply(Some(&same), &req(&image(8080, None, "j"), "b", true), &t).expect("forced");
    }

    #[test]
    fn fields_v1_round_trips() {
        let v = json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:list": {"k:{\"name\":\"x\"}": {".": {}, "f:name": {}}}}});
        assert_eq!(FieldSet::from_json(&v).to_json(), v);
    }
}
