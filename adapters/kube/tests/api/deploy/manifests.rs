//! Every manifest we ship validates: built-in kinds against the Kubernetes schemas
//! (`kubernetes-validate --strict`), Cairn's kinds against our own CRD schemas (the tool
//! has no schema for them and only warns).

use std::path::{Path, PathBuf};

use cairn_core::api::{unknown_fields, Kind};
use cairn_core::crd::crd_for;
use serde_json::Value;

use super::repo;
use super::tools::{documents, validate, Verdict, KUBERNETES_VERSION};

/// Why `object`, one of Cairn's kinds, does not validate against its CRD (`None` for
/// any other kind).
pub fn custom_resource_problems(object: &Value) -> Option<Vec<String>> {
    let kind = Kind::from_type_meta(object["apiVersion"].as_str()?, object["kind"].as_str()?)?;
    let crd = crd_for(kind);
    let schema = crd.spec.versions[0]
        .schema
        .as_ref()?
        .open_api_v3_schema
        .as_ref()?;
    let schema = serde_json::to_value(schema).unwrap();
    let mut out: Vec<String> = unknown_fields(kind, object)
        .into_iter()
        .map(|p| format!("{p}: unknown field (the API server would drop it)"))
        .collect();
    for (key, value) in object.as_object().into_iter().flatten() {
        if let Some(sub) = schema["properties"].get(key) {
            check(value, sub, &format!("/{key}"), &mut out);
        }
    }
    for r in schema["required"].as_array().into_iter().flatten() {
        if object.get(r.as_str().unwrap_or_default()).is_none() {
            out.push(format!("missing required {r}"));
        }
    }
    let meta = &object["metadata"];
    if meta["name"].as_str().is_none_or(str::is_empty) {
        out.push("metadata.name is missing".to_owned());
    }
    if !kind.namespaced() && meta.get("namespace").is_some() {
        out.push(format!(
            "{} is cluster-scoped but has a namespace",
            kind.name()
        ));
    }
    Some(out)
}

/// Type, nullability, enum, bounds and required fields of `value` against `schema`.
fn check(value: &Value, schema: &Value, at: &str, out: &mut Vec<String>) {
    if schema["x-kubernetes-preserve-unknown-fields"] == Value::Bool(true)
        && schema.get("properties").is_none()
    {
        return;
    }
    if value.is_null() {
        if schema["nullable"] != Value::Bool(true) {
            out.push(format!("{at}: null but not nullable"));
        }
        return;
    }
    let int_or_string = schema["x-kubernetes-int-or-string"] == Value::Bool(true);
    let fits = match schema["type"].as_str().unwrap_or_default() {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => !int_or_string || value.is_string() || value.is_i64() || value.is_u64(),
    };
    if !fits {
        out.push(format!("{at}: {value} is not of type {}", schema["type"]));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            out.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let (Some(min), Some(v)) = (schema["minimum"].as_f64(), value.as_f64()) {
        if v < min {
            out.push(format!("{at}: {v} is below {min}"));
        }
    }
    match value {
        Value::Object(fields) => {
            for (k, v) in fields {
                let child = format!("{at}/{k}");
                if let Some(sub) = schema["properties"].get(k) {
                    check(v, sub, &child, out);
                } else if schema["additionalProperties"].is_object() {
                    check(v, &schema["additionalProperties"], &child, out);
                }
            }
            for r in schema["required"].as_array().into_iter().flatten() {
                if r.as_str().is_some_and(|r| !fields.contains_key(r)) {
                    out.push(format!("{at}: missing required {r}"));
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check(item, &schema["items"], &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A check of another operator's kind (no schema for it here): its problems.
pub type ForeignCheck = (&'static str, fn(&Value) -> Vec<String>);

/// Validates `objects` (each with where it came from) in one kubernetes-validate run:
/// built-in kinds against Kubernetes, Cairn's against their CRDs, kinds in `foreign` by
/// their check; an object of any other kind, or an invalid one, is a problem.
pub fn problems(objects: &[(String, Value)], foreign: &[ForeignCheck]) -> Vec<String> {
    let mut out = Vec::new();
    let values: Vec<Value> = objects.iter().map(|(_, o)| o.clone()).collect();
    for ((source, object), verdict) in objects.iter().zip(validate(&values)) {
        let name = format!(
            "{source}: {}/{}",
            object["kind"].as_str().unwrap_or("?"),
            object["metadata"]["name"].as_str().unwrap_or("?")
        );
        match verdict {
            Verdict::Passed => {}
            Verdict::Failed(why) => out.push(format!("{name}: {why}")),
            Verdict::NoSchema => {
                let kind = object["kind"].as_str().unwrap_or_default();
                let found = custom_resource_problems(object).or_else(|| {
                    foreign
                        .iter()
                        .find(|(k, _)| *k == kind)
                        .map(|(_, f)| f(object))
                });
                match found {
                    Some(list) => out.extend(list.into_iter().map(|p| format!("{name}: {p}"))),
                    None => out.push(format!(
                        "{name}: no Kubernetes {KUBERNETES_VERSION} schema and not a Cairn kind"
                    )),
                }
            }
        }
    }
    out
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn every_shipped_manifest_validates_against_kubernetes_1_34() {
    let mut files = Vec::new();
    for dir in ["deploy/crds", "deploy/rbac", "examples"] {
        yaml_files(&repo(dir), &mut files);
    }
    files.push(repo("deploy/operator.yaml"));
    let mut objects = Vec::new();
    for file in &files {
        let source = file
            .strip_prefix(repo(""))
            .unwrap_or(file)
            .display()
            .to_string();
        for doc in documents(&std::fs::read_to_string(file).unwrap()) {
            objects.push((source.clone(), doc));
        }
    }
    assert!(
        objects.len() > 30,
        "too few manifests found: {}",
        objects.len()
    );
    let found = problems(&objects, &[]);
    assert!(found.is_empty(), "invalid manifests:\n{}", found.join("\n"));
}

#[test]
fn the_custom_resource_check_catches_a_typo_and_a_wrong_type() {
    let object: Value = serde_yaml::from_str(
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: RetentionPolicy\nmetadata: {name: r, namespace: demo}\nspec:\n  maxRetentionPeriod: 2mo\n  successfulSnapshots: {last: five}\n  failedSnapshot: {last: 1}\n",
    )
    .unwrap();
    let found = custom_resource_problems(&object).unwrap().join("\n");
    assert!(
        found.contains("/spec/failedSnapshot: unknown field"),
        "{found}"
    );
    assert!(found.contains("/spec/successfulSnapshots/last"), "{found}");
    let secret =
        serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
    assert!(custom_resource_problems(&secret).is_none());
}

#[test]
fn kubernetes_validate_refuses_a_misspelt_field_of_a_built_in_kind() {
    let typo: Value = serde_yaml::from_str(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}], selectr: {a: b}}\n",
    )
    .unwrap();
    let found = problems(&[("inline".to_owned(), typo)], &[]).join("\n");
    assert!(found.contains("selectr"), "{found}");
}
