//! Every fixture manifest parses into its typed kind and serialises back to the same
//! JSON (lossless), declares no unknown field, and its parsed form is snapshotted.

use std::fmt::Debug;
use std::path::{Path, PathBuf};

use cairn_core::api::{
    unknown_fields, Addon, AppBinding, BackupConfiguration, BackupSession, BackupStorage, Function,
    HookTemplate, Kind, Repository, RestoreSession, RetentionPolicy, Snapshot,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn kind_of(value: &Value) -> Kind {
    let api_version = value["apiVersion"].as_str().unwrap();
    let kind = value["kind"].as_str().unwrap();
    Kind::from_type_meta(api_version, kind)
        .unwrap_or_else(|| panic!("unknown kind {api_version} {kind}"))
}

/// Parses as `K`, re-serialises, returns the JSON and the parsed form's debug text.
fn reserialise<K: Serialize + DeserializeOwned + Debug>(value: &Value) -> (Value, String) {
    let typed: K = serde_json::from_value(value.clone()).unwrap();
    (serde_json::to_value(&typed).unwrap(), format!("{typed:#?}"))
}

fn reserialise_kind(kind: Kind, value: &Value) -> (Value, String) {
    match kind {
        Kind::BackupStorage => reserialise::<BackupStorage>(value),
        Kind::Repository => reserialise::<Repository>(value),
        Kind::Snapshot => reserialise::<Snapshot>(value),
        Kind::RetentionPolicy => reserialise::<RetentionPolicy>(value),
        Kind::BackupConfiguration => reserialise::<BackupConfiguration>(value),
        Kind::BackupSession => reserialise::<BackupSession>(value),
        Kind::RestoreSession => reserialise::<RestoreSession>(value),
        Kind::HookTemplate => reserialise::<HookTemplate>(value),
        Kind::Addon => reserialise::<Addon>(value),
        Kind::Function => reserialise::<Function>(value),
        Kind::AppBinding => reserialise::<AppBinding>(value),
    }
}

#[test]
fn every_kind_has_a_fixture() {
    let kinds: std::collections::BTreeSet<Kind> =
        fixtures().iter().map(|p| kind_of(&load(p))).collect();
    assert_eq!(kinds.len(), Kind::ALL.len(), "fixtures cover {kinds:?}");
}

#[test]
fn fixtures_round_trip_losslessly() {
    for path in fixtures() {
        let original = load(&path);
        let (again, debug) = reserialise_kind(kind_of(&original), &original);
        assert_eq!(again, original, "{} does not round-trip", path.display());
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("parsed_{name}"), debug);
    }
}

#[test]
fn fixtures_have_no_unknown_fields() {
    for path in fixtures() {
        let value = load(&path);
        assert_eq!(
            unknown_fields(kind_of(&value), &value),
            Vec::<String>::new(),
            "{}",
            path.display()
        );
    }
}

#[test]
fn unknown_fields_are_reported_as_json_pointers() {
    let value: Value = serde_yaml::from_str(
        r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {name: s, namespace: demo, anything: goes}
spec:
  storage:
    provider: s3
    s3: {bucket: b, bukcet: typo}
    local: {mountPath: /m, hostPath: {path: /x}}
  usagePolicy:
    allowedNamespaces:
      from: Selector
      selector:
        matchLabels: {a: b}
        matchExpresions: []
  runtimeSettings: {whatever: {deep: 1}}
  deletionPolicy: Delete
  extra/key: 1
status:
  conditions:
  - {type: T, status: "True", lastTransitionTime: "2024-01-01T00:00:00Z", colour: red}
top: 1
"#,
    )
    .unwrap();
    assert_eq!(
        unknown_fields(Kind::BackupStorage, &value),
        vec![
            "/spec/extra~1key",
            "/spec/storage/s3/bukcet",
            "/spec/usagePolicy/allowedNamespaces/selector/matchExpresions",
            "/status/conditions/0/colour",
            "/top",
        ]
    );
}

#[test]
fn unknown_fields_inside_lists_of_typed_items() {
    let value: Value = serde_yaml::from_str(
        r#"
apiVersion: core.kubestash.com/v1alpha1
kind: BackupConfiguration
metadata: {name: c}
spec:
  sessions:
  - name: s
    schedular: {}
    addon:
      name: a
      tasks:
      - name: t
        params: {free: form}
        variables:
        - {name: A, value: b, vaule: typo}
"#,
    )
    .unwrap();
    assert_eq!(
        unknown_fields(Kind::BackupConfiguration, &value),
        vec![
            "/spec/sessions/0/addon/tasks/0/variables/0/vaule",
            "/spec/sessions/0/schedular"
        ]
    );
}
