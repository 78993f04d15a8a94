//! The apiextensions.k8s.io/v1 rules a CRD's `openAPIV3Schema` must follow to be accepted
//! (structural schema, k8s.io/apiextensions-apiserver `pkg/apiserver/schema/validation.go`
//! and `pkg/apis/apiextensions/validation/validation.go`), as a walk over the JSON form.
//! Each violation is reported as `<json path>: <rule>`.

use serde_json::{Map, Value};

/// Keywords the API server refuses anywhere in a CRD schema.
const FORBIDDEN: [(&str, &str); 7] = [
    ("$ref", "$ref is not supported"),
    ("$schema", "$schema is not supported"),
    ("definitions", "definitions is not supported"),
    ("dependencies", "dependencies is not supported"),
    ("patternProperties", "patternProperties is not supported"),
    ("additionalItems", "additionalItems is not supported"),
    ("id", "id is not supported"),
];

/// Keys a schema inside `allOf`/`anyOf`/`oneOf`/`not` must not set (value validations only).
const NOT_IN_JUNCTORS: [&str; 13] = [
    "type",
    "description",
    "title",
    "default",
    "nullable",
    "additionalProperties",
    "externalDocs",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
];

const JUNCTORS: [&str; 3] = ["allOf", "anyOf", "oneOf"];
const TYPES: [&str; 6] = ["object", "array", "string", "integer", "number", "boolean"];

/// Where a node sits, which decides whether it needs a `type`.
#[derive(Clone, Copy, PartialEq)]
enum Level {
    Root,
    Item,
    Field,
}

/// Every violation of the CRD schema rules in `schema` (the version's `openAPIV3Schema`).
pub fn violations(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    node(schema, "", Level::Root, &mut out);
    out
}

fn node(s: &Value, path: &str, level: Level, out: &mut Vec<String>) {
    let Some(s) = s.as_object() else {
        out.push(format!("{path}: a schema must be an object"));
        return;
    };
    let mut bad = |rule: &str| out.push(format!("{}: {rule}", display(path)));
    let ty = s.get("type").and_then(Value::as_str).unwrap_or_default();
    let flag = |k: &str| s.get(k) == Some(&Value::Bool(true));
    let preserve = flag("x-kubernetes-preserve-unknown-fields");
    let int_or_string = flag("x-kubernetes-int-or-string");
    let embedded = flag("x-kubernetes-embedded-resource");

    for (key, rule) in FORBIDDEN {
        if s.contains_key(key) {
            bad(rule);
        }
    }
    if flag("uniqueItems") {
        bad("uniqueItems cannot be true");
    }
    if ty == "null" {
        bad("type null is forbidden (use nullable)");
    } else if !ty.is_empty() && !TYPES.contains(&ty) {
        bad(&format!("unknown type {ty:?}"));
    }
    if ty.is_empty() && !int_or_string && !preserve {
        bad("type must not be empty");
    }
    if level == Level::Root && ty != "object" {
        bad("type must be object at the root");
    }
    if ty == "array" && !s.contains_key("items") {
        bad("items must be specified for an array");
    }
    if s.get("items").is_some_and(Value::is_array) {
        bad("items must be a schema object and not an array");
    }
    if s.contains_key("items") && ty != "array" {
        bad("items on a node that is not an array");
    }
    let has_properties = s
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    if has_properties && !ty.is_empty() && ty != "object" {
        bad("properties on a node that is not an object");
    }
    if let Some(additional) = s.get("additionalProperties") {
        if has_properties && additional != &Value::Bool(true) {
            bad("additionalProperties and properties are mutually exclusive");
        }
        if level == Level::Root {
            bad("additionalProperties must not be used at the root");
        }
        if embedded {
            bad("additionalProperties must not be used with x-kubernetes-embedded-resource");
        }
    }
    extensions(s, ty, &mut bad);
    if embedded && ty != "object" {
        bad("x-kubernetes-embedded-resource needs type object");
    }
    if embedded && !preserve && !has_properties {
        bad("x-kubernetes-embedded-resource needs properties or x-kubernetes-preserve-unknown-fields");
    }
    if int_or_string && (preserve || embedded) {
        bad("x-kubernetes-int-or-string excludes preserve-unknown-fields and embedded-resource");
    }
    if int_or_string && !ty.is_empty() {
        bad("type must be empty with x-kubernetes-int-or-string");
    }
    if let Some(default) = s.get("default") {
        for problem in check_value(default, &Value::Object(s.clone()), true) {
            bad(&format!("default {default}: {problem}"));
        }
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        let mut plain = s.clone();
        plain.remove("enum");
        for v in values {
            for problem in check_value(v, &Value::Object(plain.clone()), false) {
                bad(&format!("enum value {v}: {problem}"));
            }
        }
    }
    let resource = level == Level::Root || embedded;
    if resource {
        for key in ["apiVersion", "kind"] {
            if let Some(p) = property(s, key) {
                if p.get("type").and_then(Value::as_str) != Some("string") {
                    bad(&format!("{key} must be string"));
                }
                if p.get("default").is_some() && level == Level::Root {
                    bad(&format!("default in top-level {key} is forbidden"));
                }
            }
        }
        if let Some(meta) = property(s, "metadata") {
            metadata(meta, level, &mut bad);
        }
    }
    let int_or_string_any_of = |v: Option<&Value>| {
        v == Some(&serde_json::json!([{"type": "integer"}, {"type": "string"}]))
    };
    for junctor in JUNCTORS {
        for (i, branch) in s
            .get(junctor)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let here = format!("{path}.{junctor}[{i}]");
            let pattern = int_or_string
                && ((junctor == "anyOf" && int_or_string_any_of(s.get("anyOf")))
                    || (junctor == "allOf" && i == 0 && int_or_string_any_of(branch.get("anyOf"))));
            if !pattern {
                nested(branch, &here, out);
            }
            complete(branch, s, &here, out);
        }
    }
    if let Some(not) = s.get("not") {
        let here = format!("{path}.not");
        nested(not, &here, out);
        complete(not, s, &here, out);
    }
    for (key, child) in s
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        node(
            child,
            &format!("{path}.properties.{key}"),
            Level::Field,
            out,
        );
    }
    if let Some(items) = s.get("items").filter(|i| i.is_object()) {
        node(items, &format!("{path}.items"), Level::Item, out);
    }
    if let Some(additional) = s.get("additionalProperties").filter(|a| a.is_object()) {
        node(
            additional,
            &format!("{path}.additionalProperties"),
            Level::Field,
            out,
        );
    }
}

fn display(path: &str) -> &str {
    if path.is_empty() {
        "<root>"
    } else {
        path
    }
}

fn property<'a>(s: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    s.get("properties")?.get(key)?.as_object()
}

/// `x-kubernetes-*` placement and values.
fn extensions(s: &Map<String, Value>, ty: &str, bad: &mut impl FnMut(&str)) {
    for key in [
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-embedded-resource",
        "x-kubernetes-int-or-string",
    ] {
        match s.get(key) {
            None | Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) if key != "x-kubernetes-preserve-unknown-fields" => {}
            Some(other) => bad(&format!("{key} must be true or undefined, not {other}")),
        }
    }
    if let Some(map_type) = s.get("x-kubernetes-map-type") {
        if ty != "object" {
            bad("x-kubernetes-map-type needs type object");
        }
        if !matches!(map_type.as_str(), Some("atomic" | "granular")) {
            bad("x-kubernetes-map-type must be atomic or granular");
        }
    }
    let list_type = s
        .get("x-kubernetes-list-type")
        .map(|v| v.as_str().unwrap_or("?"));
    if let Some(list_type) = list_type {
        if ty != "array" {
            bad("x-kubernetes-list-type needs type array");
        }
        if !matches!(list_type, "atomic" | "set" | "map") {
            bad("x-kubernetes-list-type must be atomic, set or map");
        }
    }
    let keys: Vec<&str> = s
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !keys.is_empty() && list_type != Some("map") {
        bad("x-kubernetes-list-map-keys needs x-kubernetes-list-type map");
    }
    if list_type == Some("map") {
        let items = s.get("items").and_then(Value::as_object);
        if keys.is_empty() {
            bad("x-kubernetes-list-type map needs x-kubernetes-list-map-keys");
        }
        match items {
            Some(items) if items.get("type").and_then(Value::as_str) == Some("object") => {
                for k in keys {
                    match property(items, k)
                        .and_then(|p| p.get("type"))
                        .and_then(Value::as_str)
                    {
                        Some("object" | "array") => {
                            bad(&format!("list map key {k} must be scalar"))
                        }
                        Some(_) => {}
                        None => bad(&format!("list map key {k} is no property of the items")),
                    }
                }
            }
            _ => bad("x-kubernetes-list-type map needs object items"),
        }
    }
}

/// `metadata` of a resource: an object; at the root only name/generateName may be restricted.
fn metadata(meta: &Map<String, Value>, level: Level, bad: &mut impl FnMut(&str)) {
    if meta.get("type").and_then(Value::as_str) != Some("object") {
        bad("metadata must be type object");
    }
    if level != Level::Root {
        return;
    }
    for (key, value) in meta {
        match key.as_str() {
            "type" | "description" => {}
            "properties" => {
                let names = value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.as_str());
                for name in names {
                    if !matches!(name, "name" | "generateName") {
                        bad(&format!(
                            "metadata may restrict only name and generateName, not {name}"
                        ));
                    }
                }
            }
            other => bad(&format!("metadata at the root must not specify {other}")),
        }
    }
}

/// A schema under a logical junctor: value validations only.
fn nested(s: &Value, path: &str, out: &mut Vec<String>) {
    let Some(s) = s.as_object() else {
        return;
    };
    for key in NOT_IN_JUNCTORS {
        if s.contains_key(key) {
            out.push(format!(
                "{path}: {key} must not be set inside allOf/anyOf/oneOf/not"
            ));
        }
    }
    if s.get("properties")
        .and_then(|p| p.get("metadata"))
        .is_some()
    {
        out.push(format!(
            "{path}: metadata must not be specified in a nested context"
        ));
    }
    for (key, rule) in FORBIDDEN {
        if s.contains_key(key) {
            out.push(format!("{path}: {rule}"));
        }
    }
    for junctor in JUNCTORS {
        for (i, b) in s
            .get(junctor)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            nested(b, &format!("{path}.{junctor}[{i}]"), out);
        }
    }
    for (k, p) in s
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        nested(p, &format!("{path}.properties.{k}"), out);
    }
    if let Some(items) = s.get("items") {
        nested(items, &format!("{path}.items"), out);
    }
}

/// Every field and item a junctor branch mentions is also specified outside of it.
fn complete(branch: &Value, outer: &Map<String, Value>, path: &str, out: &mut Vec<String>) {
    let Some(branch) = branch.as_object() else {
        return;
    };
    if outer.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        return;
    }
    for (k, p) in branch
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        match property(outer, k) {
            Some(o) => complete(p, o, &format!("{path}.properties.{k}"), out),
            None => out.push(format!(
                "{path}.properties.{k}: not specified outside the junctor"
            )),
        }
    }
    if let Some(items) = branch.get("items") {
        match outer.get("items").and_then(Value::as_object) {
            Some(o) => complete(items, o, &format!("{path}.items"), out),
            None => out.push(format!("{path}.items: not specified outside the junctor")),
        }
    }
    for junctor in JUNCTORS {
        for (i, b) in branch
            .get(junctor)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            complete(b, outer, &format!("{path}.{junctor}[{i}]"), out);
        }
    }
}

/// Why `value` does not validate against `schema` (type, nullable, enum, bounds, and
/// for defaults: fields the schema would prune).
fn check_value(value: &Value, schema: &Value, pruned: bool) -> Vec<String> {
    let mut out = Vec::new();
    check_into(value, schema, pruned, "", &mut out);
    out
}

fn check_into(value: &Value, schema: &Value, pruned: bool, at: &str, out: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        return;
    };
    let flag = |k: &str| s.get(k) == Some(&Value::Bool(true));
    if value.is_null() {
        if !flag("nullable") {
            out.push(format!("{at} null but the schema is not nullable"));
        }
        return;
    }
    let ty = s.get("type").and_then(Value::as_str).unwrap_or_default();
    let fits = match ty {
        "" => {
            !flag("x-kubernetes-int-or-string")
                || value.is_i64()
                || value.is_u64()
                || value.is_string()
        }
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => false,
    };
    if !fits {
        out.push(format!("{at} is not of type {ty}"));
        return;
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        if !values.contains(value) {
            out.push(format!("{at} is not one of the enum values"));
        }
    }
    if let (Some(min), Some(v)) = (s.get("minimum").and_then(Value::as_f64), value.as_f64()) {
        if v < min {
            out.push(format!("{at} is below the minimum {min}"));
        }
    }
    if let (Some(max), Some(v)) = (s.get("maximum").and_then(Value::as_f64), value.as_f64()) {
        if v > max {
            out.push(format!("{at} is above the maximum {max}"));
        }
    }
    if flag("x-kubernetes-preserve-unknown-fields") && !s.contains_key("properties") {
        return;
    }
    match value {
        Value::Object(fields) => {
            for (k, v) in fields {
                let child = format!("{at}.{k}");
                if let Some(p) = s.get("properties").and_then(|p| p.get(k)) {
                    check_into(v, p, pruned, &child, out);
                } else if let Some(a) = s.get("additionalProperties").filter(|a| a.is_object()) {
                    check_into(v, a, pruned, &child, out);
                } else if pruned
                    && s.get("additionalProperties") != Some(&Value::Bool(true))
                    && !flag("x-kubernetes-preserve-unknown-fields")
                {
                    out.push(format!("{child} would be pruned (not in the schema)"));
                }
            }
            for r in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if r.as_str().is_some_and(|r| !fields.contains_key(r)) {
                    out.push(format!("{at} lacks required field {r}"));
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = s.get("items") {
                for (i, v) in items.iter().enumerate() {
                    check_into(v, item, pruned, &format!("{at}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Why the printer column `jsonPath` of type `column_type` does not point at a field of
/// `schema` (`.metadata.*` resolves against ObjectMeta, which every kind has).
pub fn column_problem(schema: &Value, json_path: &str, column_type: &str) -> Option<String> {
    const COLUMN_TYPES: [&str; 5] = ["integer", "number", "string", "boolean", "date"];
    if !COLUMN_TYPES.contains(&column_type) {
        return Some(format!(
            "column type {column_type:?} is not one of {COLUMN_TYPES:?}"
        ));
    }
    let Some(rest) = json_path.strip_prefix('.') else {
        return Some(format!("{json_path}: a column path starts with '.'"));
    };
    let segments: Vec<&str> = rest.split('.').collect();
    if segments.first() == Some(&"metadata") {
        const META: [&str; 9] = [
            "name",
            "namespace",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
            "labels",
            "annotations",
            "uid",
            "resourceVersion",
        ];
        return match segments.get(1) {
            Some(field) if META.contains(field) => None,
            _ => Some(format!("{json_path}: no such ObjectMeta field")),
        };
    }
    let mut here = schema;
    for segment in &segments {
        if segment.contains('[') {
            return Some(format!(
                "{json_path}: array paths are not checked; keep columns simple"
            ));
        }
        let next = here
            .get("properties")
            .and_then(|p| p.get(*segment))
            .or_else(|| here.get("additionalProperties").filter(|a| a.is_object()));
        match next {
            Some(n) => here = n,
            None => return Some(format!("{json_path}: no field {segment} in the schema")),
        }
    }
    let ty = here.get("type").and_then(Value::as_str).unwrap_or_default();
    let fits = match column_type {
        "integer" => ty == "integer",
        "number" => matches!(ty, "integer" | "number"),
        "boolean" => ty == "boolean",
        "date" | "string" => !matches!(ty, "object" | "array"),
        _ => false,
    };
    (!fits).then(|| format!("{json_path}: column type {column_type} but the field is {ty:?}"))
}
