//! What the apiextensions server does with a custom resource's openAPIV3Schema: prune unknown
//! fields (unless `x-kubernetes-preserve-unknown-fields`), drop nulls of non-nullable fields,
//! apply `default`s, then validate (type, enum, required, bounds, pattern, lengths, items).

use serde_json::{Map, Value};

use crate::apiserver::http::status::{show, Cause};

/// The ObjectMeta fields kept on a custom resource (the rest is pruned).
const META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Prunes `obj` (a whole custom resource) in place; returns the unknown field paths removed.
pub fn prune(obj: &mut Value, schema: &Value) -> Vec<String> {
    let mut unknown = Vec::new();
    if let Some(m) = obj.as_object_mut() {
        for (k, v) in m.iter_mut() {
            match k.as_str() {
                "apiVersion" | "kind" => {}
                "metadata" => prune_meta(v, "metadata", &mut unknown),
                _ => {}
            }
        }
        let props = schema.get("properties");
        let keys: Vec<String> = m.keys().cloned().collect();
        for k in keys {
            if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            match props.and_then(|p| p.get(&k)) {
                Some(s) => {
                    if let Some(v) = m.get_mut(&k) {
                        if v.is_null() && !nullable(s) {
                            m.remove(&k);
                        } else {
                            prune_value(v, s, &k, &mut unknown);
                        }
                    }
                }
                None if preserves(schema) => {}
                None => {
                    m.remove(&k);
                    unknown.push(format!(".{k}"));
                }
            }
        }
    }
    unknown
}

fn prune_meta(meta: &mut Value, path: &str, unknown: &mut Vec<String>) {
    if let Some(m) = meta.as_object_mut() {
        let keys: Vec<String> = m.keys().cloned().collect();
        for k in keys {
            if !META_FIELDS.contains(&k.as_str()) {
                m.remove(&k);
                unknown.push(format!(".{path}.{k}"));
            }
        }
    }
}

fn preserves(schema: &Value) -> bool {
    schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
}

fn nullable(schema: &Value) -> bool {
    schema.get("nullable").and_then(Value::as_bool) == Some(true)
}

fn prune_value(v: &mut Value, schema: &Value, path: &str, unknown: &mut Vec<String>) {
    let embedded = schema
        .get("x-kubernetes-embedded-resource")
        .and_then(Value::as_bool)
        == Some(true);
    match v {
        Value::Object(m) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            if props.is_none()
                && additional.is_none()
                && (preserves(schema) || schema.get("type").is_none())
            {
                return;
            }
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let child_path = format!("{path}.{k}");
                if embedded && matches!(k.as_str(), "apiVersion" | "kind") {
                    continue;
                }
                if embedded && k == "metadata" {
                    if let Some(meta) = m.get_mut(&k) {
                        prune_meta(meta, &child_path, unknown);
                    }
                    continue;
                }
                let sub = props.and_then(|p| p.get(&k)).or(match additional {
                    Some(a) if a.is_object() => Some(a),
                    _ => None,
                });
                match sub {
                    Some(s) => {
                        if m.get(&k).is_some_and(Value::is_null) && !nullable(s) {
                            m.remove(&k);
                        } else if let Some(child) = m.get_mut(&k) {
                            prune_value(child, s, &child_path, unknown);
                        }
                    }
                    None if preserves(schema) || additional == Some(&Value::Bool(true)) => {}
                    None => {
                        m.remove(&k);
                        unknown.push(format!(".{child_path}"));
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune_value(item, s, &format!("{path}[{i}]"), unknown);
                }
            }
        }
        _ => {}
    }
}

/// Applies `default`s of the schema (a defaulted object gets its own nested defaults).
pub fn apply_defaults(v: &mut Value, schema: &Value) {
    match v {
        Value::Object(m) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, s) in props {
                    if !m.contains_key(k) {
                        if let Some(d) = s.get("default") {
                            m.insert(k.clone(), d.clone());
                        }
                    }
                    if let Some(child) = m.get_mut(k) {
                        apply_defaults(child, s);
                    }
                }
            }
            if let Some(a) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for child in m.values_mut() {
                    apply_defaults(child, a);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for item in items {
                    apply_defaults(item, s);
                }
            }
        }
        _ => {}
    }
}

/// Validates a whole custom resource (metadata excluded) against its schema.
pub fn validate(obj: &Value, schema: &Value) -> Vec<Cause> {
    let mut errs = Vec::new();
    let Some(m) = obj.as_object() else {
        return errs;
    };
    let mut body = Map::new();
    for (k, v) in m {
        if !matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            body.insert(k.clone(), v.clone());
        }
    }
    let mut root = schema.clone();
    if let Some(props) = root.get_mut("properties").and_then(Value::as_object_mut) {
        props.remove("metadata");
        props.remove("apiVersion");
        props.remove("kind");
    }
    if let Some(req) = root.get_mut("required").and_then(Value::as_array_mut) {
        req.retain(|r| !matches!(r.as_str(), Some("apiVersion" | "kind" | "metadata")));
    }
    check(&Value::Object(body), &root, "", &mut errs);
    errs
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

fn check(v: &Value, s: &Value, path: &str, errs: &mut Vec<Cause>) {
    if v.is_null() {
        return;
    }
    let int_or_string = s.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true);
    if int_or_string {
        if !matches!(type_name(v), "integer" | "string") {
            errs.push(Cause::invalid(
                path,
                &Value::String(type_name(v).into()),
                &format!(
                    "{path} in body must be of type integer,string: {:?}",
                    type_name(v)
                ),
            ));
        }
        return;
    }
    if let Some(t) = s.get("type").and_then(Value::as_str) {
        let actual = type_name(v);
        let ok = actual == t || (t == "number" && actual == "integer");
        if !ok {
            errs.push(Cause::new(
                "FieldValueTypeInvalid",
                path,
                format!(
                    "Invalid value: {:?}: {path} in body must be of type {t}: {:?}",
                    actual, actual
                ),
            ));
            return;
        }
    }
    if let Some(en) = s.get("enum").and_then(Value::as_array) {
        if !en.contains(v) {
            let supported: Vec<String> = en.iter().map(show).collect();
            errs.push(Cause::new(
                "FieldValueNotSupported",
                path,
                format!(
                    "Unsupported value: {}: supported values: {}",
                    show(v),
                    supported.join(", ")
                ),
            ));
        }
    }
    let num = |k: &str| s.get(k).and_then(Value::as_f64);
    if let Some(x) = v.as_f64() {
        let bound = |k: &str| s.get(k).map(|b| b.to_string()).unwrap_or_default();
        if let Some(min) = num("minimum") {
            let excl = s.get("exclusiveMinimum").and_then(Value::as_bool) == Some(true);
            if x < min || (excl && x == min) {
                let rel = if excl {
                    "greater than"
                } else {
                    "greater than or equal to"
                };
                errs.push(Cause::invalid(
                    path,
                    v,
                    &format!("{path} in body should be {rel} {}", bound("minimum")),
                ));
            }
        }
        if let Some(max) = num("maximum") {
            let excl = s.get("exclusiveMaximum").and_then(Value::as_bool) == Some(true);
            if x > max || (excl && x == max) {
                let rel = if excl {
                    "less than"
                } else {
                    "less than or equal to"
                };
                errs.push(Cause::invalid(
                    path,
                    v,
                    &format!("{path} in body should be {rel} {}", bound("maximum")),
                ));
            }
        }
    }
    if let Some(text) = v.as_str() {
        if let Some(p) = s.get("pattern").and_then(Value::as_str) {
            if regex::Regex::new(p).is_ok_and(|re| !re.is_match(text)) {
                errs.push(Cause::invalid(
                    path,
                    v,
                    &format!("{path} in body should match '{p}'"),
                ));
            }
        }
        if let Some(min) = num("minLength") {
            if (text.chars().count() as f64) < min {
                errs.push(Cause::invalid(
                    path,
                    v,
                    &format!("{path} in body should be at least {min} chars long"),
                ));
            }
        }
        if let Some(max) = num("maxLength") {
            if (text.chars().count() as f64) > max {
                errs.push(Cause::new(
                    "FieldValueTooLong",
                    path,
                    format!("Too long: may not be more than {max} bytes"),
                ));
            }
        }
    }
    match v {
        Value::Object(m) => {
            for r in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(r) = r.as_str() {
                    if !m.contains_key(r) {
                        errs.push(Cause::required(join(path, r)));
                    }
                }
            }
            let props = s.get("properties").and_then(Value::as_object);
            for (k, child) in m {
                let sub = props
                    .and_then(|p| p.get(k))
                    .or(s.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(sub) = sub {
                    let child_path = if props.is_some_and(|p| p.contains_key(k)) {
                        join(path, k)
                    } else {
                        format!("{path}[{k}]")
                    };
                    check(child, sub, &child_path, errs);
                }
            }
        }
        Value::Array(items) => {
            if let Some(min) = num("minItems") {
                if (items.len() as f64) < min {
                    errs.push(Cause::invalid(
                        path,
                        &Value::from(items.len()),
                        &format!("{path} in body should have at least {min} items"),
                    ));
                }
            }
            if let Some(max) = num("maxItems") {
                if (items.len() as f64) > max {
                    errs.push(Cause::new(
                        "FieldValueTooMany",
                        path,
                        format!("Too many: {}: must have at most {max} items", items.len()),
                    ));
                }
            }
            if let Some(is) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item, is, &format!("{path}[{i}]"), errs);
                }
            }
        }
        _ => {}
    }
}
