//! The state directory: world round trip, versions, crash safety, Secret files,
//! refresh from other processes, and the get/describe views over a fixture world.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use cairn_core::api::Kind;
use cairn_core::effect::Effect;
use cairn_core::reconcile::reconcile;
use cairn_core::world::{apply, observe, Fact, ObjectKey, ObjectRef, Outcome, World};
use cairn_local::describe::describe;
use cairn_local::get::{get, GetQuery, OutputFormat};
use cairn_local::manifest::load_str;
use cairn_local::manifest_kind::ManifestKind;
use cairn_local::store::{apply_manifests, StateDir};
use cairn_local::store_atomic::stage;
use cairn_local::store_layout::StatePath;
use chrono::{DateTime, Utc};

const MANIFESTS: &str = r#"
apiVersion: v1
kind: Secret
metadata: {name: gcs-secret, namespace: demo}
stringData:
  GOOGLE_PROJECT_ID: appscode-testing
  GOOGLE_SERVICE_ACCOUNT_JSON_KEY: sa-key-TOPSECRET
---
apiVersion: v1
kind: Secret
metadata: {name: encrypt-secret, namespace: demo}
data:
  RESTIC_PASSWORD: Y2hhbmdlaXQtVE9QU0VDUkVU   # changeit-TOPSECRET
---
apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {name: gcs-storage, namespace: demo}
spec:
  storage:
    provider: gcs
    gcs: {bucket: kubestash-qa, prefix: demo, secretName: gcs-secret}
  usagePolicy: {allowedNamespaces: {from: All}}
  default: true
  deletionPolicy: Delete
---
apiVersion: storage.kubestash.com/v1alpha1
kind: RetentionPolicy
metadata: {name: demo-retention, namespace: demo}
spec:
  default: true
  failedSnapshots: {last: 2}
  maxRetentionPeriod: 2mo
  successfulSnapshots: {last: 5}
  usagePolicy: {allowedNamespaces: {from: All}}
---
apiVersion: appcatalog.appscode.com/v1alpha1
kind: AppBinding
metadata: {name: sdb-sample, namespace: demo}
spec:
  type: kubedb.com/singlestore
  version: 8.5.7
  clientConfig: {service: {name: sdb-sample, port: 3306, scheme: tcp}}
  secret: {name: sdb-sample-root-cred}
---
apiVersion: core.kubestash.com/v1alpha1
kind: BackupConfiguration
metadata: {name: sample-sdb-backup, namespace: demo}
spec:
  target: {apiGroup: kubedb.com, kind: Singlestore, namespace: demo, name: sdb-sample}
  backends:
  - name: gcs-backend
    storageRef: {namespace: demo, name: gcs-storage}
    retentionPolicy: {name: demo-retention, namespace: demo}
  sessions:
  - name: frequent-backup
    scheduler:
      schedule: "*/5 * * * *"
      jobTemplate: {backoffLimit: 1}
    repositories:
    - name: gcs-sdb-repo
      backend: gcs-backend
      directory: /singlestore
      encryptionSecret: {name: encrypt-secret, namespace: demo}
    addon:
      name: singlestore-addon
      tasks:
      - name: logical-backup
"#;

const SECRET_VALUES: [&str; 3] = ["TOPSECRET", "c2Etz2V5", "Y2hhbmdlaXQtVE9QU0VDUkVU"];

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn t0() -> DateTime<Utc> {
    at("2024-08-19T10:58:20Z")
}

/// The storage adapter answering every backend write with success.
fn answers(effects: &[Effect], now: DateTime<Utc>) -> Vec<Fact> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::InitBackend { storage, .. } => Some(Fact::BackendInitialized {
                storage: storage.key.clone(),
                outcome: Outcome::Ok,
                at: now,
                repositories: BTreeMap::new(),
                snapshots: BTreeMap::new(),
            }),
            Effect::InitRepository { storage, path, .. } => Some(Fact::RepositoryInitialized {
                storage: storage.key.clone(),
                path: path.clone(),
                outcome: Outcome::Ok,
                at: now,
            }),
            _ => None,
        })
        .collect()
}

/// Manifests applied, then reconciled with a succeeding backend until quiet: Ready
/// storage and configuration, a Repository, a trigger, a BackupSession with its job.
fn fixture_world() -> World {
    let mut world = World::new();
    let loaded = load_str(MANIFESTS, Path::new("demo.yaml")).unwrap();
    apply_manifests(&mut world, loaded, t0());
    for _ in 0..20 {
        let plan = reconcile(&world, t0());
        if plan.effects.is_empty() {
            break;
        }
        for e in &plan.effects {
            apply(&mut world, e);
        }
        for f in answers(&plan.effects, t0()) {
            observe(&mut world, f);
        }
    }
    world
}

/// Store-stamped fields that differ run to run.
fn stable(text: &str) -> String {
    text.lines()
        .map(|l| match l.trim_start() {
            t if t.starts_with("uid:") => format!("{}uid: <uid>", &l[..l.len() - t.len()]),
            t if t.starts_with("UID:") => "UID:              <uid>".to_owned(),
            t if t.starts_with("\"uid\":") => {
                let comma = if t.ends_with(',') { "," } else { "" };
                format!("{}\"uid\": \"<uid>\"{comma}", &l[..l.len() - t.len()])
            }
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn saved_fixture() -> (tempfile::TempDir, StateDir, World) {
    let dir = tempfile::tempdir().unwrap();
    let world = fixture_world();
    let mut state = StateDir::open(dir.path()).unwrap();
    state.save_world_at(&world, t0()).unwrap();
    (dir, state, world)
}

#[test]
fn world_round_trips_through_the_directory() {
    let (dir, _state, world) = saved_fixture();
    assert!(!world.jobs.is_empty(), "fixture has a job");
    assert!(!world.triggers.is_empty(), "fixture has a trigger");
    assert!(!world.events.is_empty(), "fixture has events");
    let reopened = StateDir::open(dir.path()).unwrap();
    let loaded = reopened.load_world().unwrap();
    // Versions and uids are stamped by the store; compare everything else.
    let mut again = StateDir::open(dir.path()).unwrap();
    assert!(again.save_world(&loaded).unwrap().written.is_empty());
    assert_eq!(loaded.jobs, world.jobs);
    assert_eq!(loaded.triggers, world.triggers);
    assert_eq!(loaded.events, world.events);
    assert_eq!(loaded.backends, world.backends);
    assert_eq!(loaded.hooks, world.hooks);
    assert_eq!(loaded.secrets, world.secrets);
    assert_eq!(loaded.namespaces, world.namespaces);
    assert_eq!(
        loaded.backup_configurations.keys().collect::<Vec<_>>(),
        world.backup_configurations.keys().collect::<Vec<_>>()
    );
    let key = ObjectKey::new("demo", "sample-sdb-backup");
    assert_eq!(
        loaded.backup_configurations[&key].status,
        world.backup_configurations[&key].status
    );
}

#[test]
fn unchanged_world_writes_nothing() {
    let (_dir, mut state, world) = saved_fixture();
    let report = state.save_world(&world).unwrap();
    assert_eq!(report.written, Vec::<std::path::PathBuf>::new());
    assert!(report.removed.is_empty());
}

fn stored_meta(state: &StateDir, kind: Kind, name: &str) -> (i64, u64) {
    let rows = state.stored(ManifestKind::Api(kind));
    let (_, v) = rows.iter().find(|(k, _)| k.name == name).unwrap();
    let generation = v["metadata"]["generation"].as_i64().unwrap();
    let rv = v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (generation, rv)
}

#[test]
fn generation_follows_spec_and_resource_version_every_write() {
    let (_dir, mut state, mut world) = saved_fixture();
    let key = ObjectKey::new("demo", "sample-sdb-backup");
    let (g0, rv0) = stored_meta(&state, Kind::BackupConfiguration, "sample-sdb-backup");
    assert_eq!(g0, 1);

    // Status only: resourceVersion moves, generation stays.
    let bc = world.backup_configurations.get_mut(&key).unwrap();
    bc.status.as_mut().unwrap().target_found = Some(false);
    state.save_world(&world).unwrap();
    let (g1, rv1) = stored_meta(&state, Kind::BackupConfiguration, "sample-sdb-backup");
    assert_eq!((g1, rv1 > rv0), (1, true));

    // Spec: both move.
    world
        .backup_configurations
        .get_mut(&key)
        .unwrap()
        .spec
        .paused = true;
    state.save_world(&world).unwrap();
    let (g2, rv2) = stored_meta(&state, Kind::BackupConfiguration, "sample-sdb-backup");
    assert_eq!((g2, rv2 > rv1), (2, true));

    // Other objects were not rewritten.
    let (_, rv_storage) = stored_meta(&state, Kind::BackupStorage, "gcs-storage");
    assert!(rv_storage < rv1);
}

#[test]
fn secrets_are_private_files() {
    let (dir, state, _world) = saved_fixture();
    let path = state.path_of(&StatePath::Object(
        ManifestKind::Secret,
        ObjectKey::new("demo", "gcs-secret"),
    ));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
    let secrets_dir = dir.path().join("objects/secrets");
    let mode = std::fs::metadata(secrets_dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let storage = state.path_of(&StatePath::Object(
        ManifestKind::Api(Kind::BackupStorage),
        ObjectKey::new("demo", "gcs-storage"),
    ));
    let mode = std::fs::metadata(storage).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
}

#[test]
fn crash_between_temp_write_and_rename_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("objects/x.yaml");
    cairn_local::store_atomic::write_atomic(&target, b"old\n", false).unwrap();
    let staged = stage(&target, b"new\n", false).unwrap();
    let temp = staged.temp_path().to_owned();
    drop(staged); // the process dies before the rename
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
    assert!(temp.exists());
    // Opening the directory ignores the leftover (and removes it when its writer is gone).
    let state = StateDir::open(dir.path()).unwrap();
    assert!(state.load_world().unwrap() == World::new());
}

#[test]
fn crash_mid_save_leaves_a_loadable_directory() {
    let (dir, state, world) = saved_fixture();
    // A half-written temp file beside a real object, as a crash would leave it.
    let real = state.path_of(&StatePath::Object(
        ManifestKind::Api(Kind::BackupStorage),
        ObjectKey::new("demo", "gcs-storage"),
    ));
    std::fs::write(
        real.with_file_name(".tmp-gcs-storage.yaml.999999999"),
        "apiVersion: [",
    )
    .unwrap();
    let loaded = StateDir::open(dir.path()).unwrap().load_world().unwrap();
    assert_eq!(loaded.backup_storages.len(), world.backup_storages.len());
}

#[test]
fn deleted_objects_lose_their_files() {
    let (_dir, mut state, mut world) = saved_fixture();
    let key = ObjectKey::new("demo", "demo-retention");
    observe(
        &mut world,
        Fact::Deleted {
            object: ObjectRef {
                kind: Kind::RetentionPolicy,
                key: key.clone(),
            },
            at: t0(),
        },
    );
    let report = state.save_world(&world).unwrap();
    assert_eq!(
        report.removed,
        vec![std::path::PathBuf::from(
            "objects/retentionpolicies/demo/demo-retention.yaml"
        )]
    );
}

#[test]
fn refresh_picks_up_apply_and_delete_from_another_process() {
    let (dir, mut daemon, mut world) = saved_fixture();
    let manifests = dir.path().join("extra.yaml");
    std::fs::write(
        &manifests,
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: RetentionPolicy\nmetadata: {name: keep-all, namespace: demo}\nspec: {maxRetentionPeriod: 1y}\n",
    )
    .unwrap();
    let mut other = StateDir::open(dir.path()).unwrap();
    let out =
        cairn_local::apply::apply(&mut other, std::slice::from_ref(&manifests), t0()).unwrap();
    assert_eq!(out.lines, vec!["retentionpolicy/demo/keep-all created"]);
    let again = cairn_local::apply::apply(&mut other, &[manifests], t0()).unwrap();
    assert_eq!(again.lines, vec!["retentionpolicy/demo/keep-all unchanged"]);
    cairn_local::delete::delete(
        &mut other,
        ManifestKind::Api(Kind::RetentionPolicy),
        "demo-retention",
        None,
        t0(),
    )
    .unwrap();

    let facts = daemon.refresh(&mut world, t0()).unwrap();
    assert_eq!(facts.len(), 2, "{facts:#?}");
    assert!(world
        .retention_policies
        .contains_key(&ObjectKey::new("demo", "keep-all")));
    assert!(!world
        .retention_policies
        .contains_key(&ObjectKey::new("demo", "demo-retention")));
    assert!(daemon.refresh(&mut world, t0()).unwrap().is_empty());
}

#[test]
fn delete_of_a_finalized_object_only_requests_it() {
    let (dir, _state, world) = saved_fixture();
    let key = ObjectKey::new("demo", "sample-sdb-backup");
    let finalized = world.backup_configurations[&key]
        .metadata
        .finalizers
        .is_some();
    let mut state = StateDir::open(dir.path()).unwrap();
    let out = cairn_local::delete::delete(
        &mut state,
        ManifestKind::Api(Kind::BackupConfiguration),
        "sample-sdb-backup",
        Some("demo"),
        t0(),
    )
    .unwrap();
    if finalized {
        assert!(out.line.contains("deletion requested"), "{}", out.line);
        let loaded = state.load_world().unwrap();
        assert!(loaded.backup_configurations[&key]
            .metadata
            .deletion_timestamp
            .is_some());
    } else {
        assert!(out.line.ends_with("deleted"), "{}", out.line);
    }
}

fn view(state: &StateDir, kind: &str, name: Option<&str>, output: OutputFormat) -> String {
    let query = GetQuery {
        kind: ManifestKind::from_user(kind).unwrap(),
        name: name.map(str::to_owned),
        namespace: None,
        output,
    };
    stable(&get(state, &query, at("2024-08-19T12:00:00Z")).unwrap())
}

#[test]
fn get_tables() {
    let (_dir, state, _world) = saved_fixture();
    let mut all = String::new();
    for kind in [
        "backupstorages",
        "repo",
        "bc",
        "BackupSession",
        "snapshots",
        "retentionpolicy",
        "secrets",
        "appbindings",
        "addons",
    ] {
        all.push_str(&format!(
            "$ cairn get {kind}\n{}\n",
            view(&state, kind, None, OutputFormat::Table)
        ));
    }
    all.push_str(&format!(
        "$ cairn get bc -o wide\n{}\n",
        view(&state, "bc", None, OutputFormat::Wide)
    ));
    insta::assert_snapshot!(all);
}

#[test]
fn get_yaml_and_json() {
    let (_dir, state, _world) = saved_fixture();
    insta::assert_snapshot!(
        "get_bc_yaml",
        view(&state, "bc", Some("sample-sdb-backup"), OutputFormat::Yaml)
    );
    insta::assert_snapshot!(
        "get_secret_json",
        view(
            &state,
            "secret",
            Some("demo/gcs-secret"),
            OutputFormat::Json
        )
    );
}

#[test]
fn describe_objects() {
    let (_dir, state, _world) = saved_fixture();
    let now = at("2024-08-19T12:00:00Z");
    for (kind, name) in [
        (
            ManifestKind::Api(Kind::BackupConfiguration),
            "sample-sdb-backup",
        ),
        (ManifestKind::Api(Kind::BackupStorage), "gcs-storage"),
        (ManifestKind::Secret, "encrypt-secret"),
    ] {
        let text = describe(&state, kind, name, None, now).unwrap();
        insta::assert_snapshot!(
            format!("describe_{}", kind.name().to_lowercase()),
            stable(&text)
        );
    }
}

#[test]
fn no_secret_value_in_any_view() {
    let (_dir, state, _world) = saved_fixture();
    let now = at("2024-08-19T12:00:00Z");
    let mut outputs = Vec::new();
    for kind in ManifestKind::all() {
        for output in [
            OutputFormat::Table,
            OutputFormat::Wide,
            OutputFormat::Yaml,
            OutputFormat::Json,
        ] {
            let q = GetQuery {
                kind,
                name: None,
                namespace: None,
                output,
            };
            outputs.push(get(&state, &q, now).unwrap());
        }
        for (key, _) in state.stored(kind) {
            if kind != ManifestKind::Namespace {
                outputs.push(describe(&state, kind, &key.name, Some(&key.namespace), now).unwrap());
            }
        }
    }
    for text in outputs {
        for secret in SECRET_VALUES {
            assert!(!text.contains(secret), "{secret} leaked in:\n{text}");
        }
    }
}

#[test]
fn views_name_what_is_missing() {
    let (_dir, state, _world) = saved_fixture();
    let q = GetQuery {
        kind: ManifestKind::from_user("bc").unwrap(),
        name: Some("nope".to_owned()),
        namespace: Some("demo".to_owned()),
        output: OutputFormat::Table,
    };
    insta::assert_snapshot!(get(&state, &q, t0()).unwrap_err().to_string(), @r#"backupconfigurations "nope" not found in namespace demo; `cairn get backupconfigurations` lists them"#);
    let e = cairn_local::table_select::resolve_kind("bcx")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("unknown resource type \"bcx\""), "{e}");
}
