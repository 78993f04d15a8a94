//! CRD generation: every kind's CRD (insta), the checked-in deploy file is current, and
//! the API server would accept every schema and printer column.

#[path = "api_crd/structural.rs"]
mod structural;

use cairn_core::api::Kind;
use cairn_core::crd::{all_crds, crd_for, crds_yaml};
use serde_json::{json, Value};

/// `(kind, version, openAPIV3Schema as JSON)` of every CRD version.
fn schemas() -> Vec<(Kind, String, Value)> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        for version in crd_for(kind).spec.versions {
            let schema = version
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .map(|s| serde_json::to_value(s).unwrap())
                .unwrap_or(Value::Null);
            out.push((kind, version.name.clone(), schema));
        }
    }
    out
}

#[test]
fn every_crd_schema_is_structural() {
    let mut problems = Vec::new();
    for (kind, version, schema) in schemas() {
        for v in structural::violations(&schema) {
            problems.push(format!("{}/{version} {v}", kind.name()));
        }
    }
    assert!(
        problems.is_empty(),
        "the API server would refuse these CRD schemas:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_structural_check_catches_what_the_api_server_refuses() {
    let cases = [
        (
            json!({"type": "object", "properties": {"a": {}}}),
            "type must not be empty",
        ),
        (
            json!({"type": "object", "properties": {"a": {"$ref": "#/x", "type": "string"}}}),
            "$ref",
        ),
        (
            json!({"type": "object", "properties": {"m": {"type": "object",
                "properties": {"x": {"type": "string"}}, "additionalProperties": {"type": "string"}}}}),
            "mutually exclusive",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "string",
                "anyOf": [{"type": "string"}, {"type": "integer"}]}}}),
            "type must not be set inside",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "object",
                "oneOf": [{"properties": {"b": {"minLength": 1}}}]}}}),
            "not specified outside the junctor",
        ),
        (
            json!({"type": "object", "properties": {"metadata": {"type": "object",
                "properties": {"labels": {"type": "object"}}}}}),
            "only name and generateName",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "string", "enum": ["x"], "default": "y"}}}),
            "not one of the enum values",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "object",
                "properties": {"b": {"type": "string"}}, "default": {"c": 1}}}}),
            "would be pruned",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "array"}}}),
            "items must be specified",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "string",
                "x-kubernetes-preserve-unknown-fields": false}}}),
            "must be true or undefined",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "string", "x-kubernetes-map-type": "atomic"}}}),
            "x-kubernetes-map-type needs type object",
        ),
    ];
    for (schema, want) in cases {
        let found = structural::violations(&schema);
        assert!(
            found.iter().any(|v| v.contains(want)),
            "{schema} should be refused with {want:?}, got {found:?}"
        );
    }
    let fine = json!({"type": "object", "properties": {
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "mode": {"type": "string", "enum": ["A", "B"], "default": "A", "nullable": true},
    }});
    assert_eq!(structural::violations(&fine), Vec::<String>::new());
}

#[test]
fn every_printer_column_points_at_a_field_of_its_version() {
    let mut problems = Vec::new();
    for kind in Kind::ALL {
        for version in crd_for(kind).spec.versions {
            let schema = version
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .map(|s| serde_json::to_value(s).unwrap())
                .unwrap_or(Value::Null);
            for column in version.additional_printer_columns.iter().flatten() {
                if let Some(p) =
                    structural::column_problem(&schema, &column.json_path, &column.type_)
                {
                    problems.push(format!(
                        "{}/{} column {:?}: {p}",
                        kind.name(),
                        version.name,
                        column.name
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

const CRDS_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../deploy/crds/cairn-crds.yaml"
);

#[test]
fn crds_file_is_current() {
    let want = crds_yaml();
    if std::env::var_os("CAIRN_UPDATE_CRDS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(CRDS_FILE).parent().unwrap()).unwrap();
        std::fs::write(CRDS_FILE, &want).unwrap();
    }
    let have = std::fs::read_to_string(CRDS_FILE).unwrap_or_default();
    assert!(
        have == want,
        "deploy/crds/cairn-crds.yaml is stale; regenerate with \
         `cargo run -- crds > deploy/crds/cairn-crds.yaml` \
         (or `CAIRN_UPDATE_CRDS=1 cargo test -p cairn-core --test api_crd`)"
    );
}

#[test]
fn crds_yaml_is_deterministic() {
    assert_eq!(crds_yaml(), crds_yaml());
}

#[test]
fn crd_snapshots() {
    for kind in Kind::ALL {
        let crd = crd_for(kind);
        insta::assert_yaml_snapshot!(format!("crd_{}", kind.plural()), crd);
    }
}

#[test]
fn crd_names_scopes_and_categories() {
    let crds = all_crds();
    assert_eq!(crds.len(), Kind::ALL.len());
    for (kind, crd) in Kind::ALL.into_iter().zip(&crds) {
        let names = &crd.spec.names;
        assert_eq!(
            crd.metadata.name.as_deref(),
            Some(format!("{}.{}", kind.plural(), kind.group()).as_str())
        );
        assert_eq!(names.kind, kind.name());
        assert_eq!(names.plural, kind.plural());
        assert_eq!(
            names.singular.as_deref(),
            Some(kind.name().to_lowercase().as_str())
        );
        let scope = if kind.namespaced() {
            "Namespaced"
        } else {
            "Cluster"
        };
        assert_eq!(crd.spec.scope, scope, "{kind:?}");
        let categories = names.categories.clone().unwrap_or_default();
        let want: &[&str] = match kind {
            Kind::Snapshot | Kind::RetentionPolicy => &["kubestash", "appscode"],
            Kind::AppBinding => &["catalog", "appscode", "all"],
            _ => &["kubestash", "appscode", "all"],
        };
        assert_eq!(categories, want, "{kind:?}");
        let short: &[&str] = match kind {
            Kind::Repository => &["repo"],
            Kind::BackupConfiguration => &["bc"],
            Kind::RestoreSession => &["restore"],
            Kind::Function => &["fn"],
            _ => &[],
        };
        assert_eq!(
            names.short_names.clone().unwrap_or_default(),
            short,
            "{kind:?}"
        );
        let version = &crd.spec.versions[0];
        assert_eq!(version.name, "v1alpha1");
        let has_status = !matches!(
            kind,
            Kind::RetentionPolicy
                | Kind::HookTemplate
                | Kind::Addon
                | Kind::Function
                | Kind::AppBinding
        );
        assert_eq!(
            version
                .subresources
                .as_ref()
                .is_some_and(|s| s.status.is_some()),
            has_status,
            "{kind:?}"
        );
        let columns = version
            .additional_printer_columns
            .clone()
            .unwrap_or_default();
        assert_eq!(
            columns.last().map(|c| c.name.as_str()),
            Some("Age"),
            "{kind:?}"
        );
    }
}

#[test]
fn kind_from_type_meta() {
    for kind in Kind::ALL {
        assert_eq!(
            Kind::from_type_meta(&kind.api_version(), kind.name()),
            Some(kind)
        );
    }
    assert_eq!(
        Kind::from_type_meta("storage.kubestash.com/v1", "Snapshot"),
        None
    );
}
