//! A tiny driver: the loop every real driver runs, plus fixtures from YAML manifests.

#![allow(dead_code)] // each scenario file uses a different subset

use std::collections::BTreeMap;

use cairn_core::drive::settle::{self as drive, Checks};
use cairn_core::effect::Effect;
use cairn_core::world::{observe, Fact, Object, Outcome, Secret, World};
use chrono::{DateTime, Utc};

/// Parses a time.
pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("valid RFC 3339 time")
}

/// The core's driver turn (`drive::settle`): reconciles and applies until the plan is
/// empty; returns every effect in order. Transitions are checked after every round.
pub fn settle(world: &mut World, now: DateTime<Utc>) -> Vec<Effect> {
    let turn = drive::settle(world, now, Checks::TransitionsEveryRound);
    if let Some(broken) = turn.broken {
        panic!("{broken}");
    }
    turn.effects
}

/// Feeds facts into the world.
pub fn tell(world: &mut World, facts: impl IntoIterator<Item = Fact>) {
    for fact in facts {
        observe(world, fact);
    }
}

/// Parses a YAML manifest into an object.
pub fn object(kind: &str, yaml: &str) -> Object {
    match kind {
        "BackupStorage" => Object::BackupStorage(serde_yaml::from_str(yaml).unwrap()),
        "RetentionPolicy" => Object::RetentionPolicy(serde_yaml::from_str(yaml).unwrap()),
        "BackupConfiguration" => Object::BackupConfiguration(serde_yaml::from_str(yaml).unwrap()),
        "RestoreSession" => Object::RestoreSession(serde_yaml::from_str(yaml).unwrap()),
        "AppBinding" => Object::AppBinding(serde_yaml::from_str(yaml).unwrap()),
        "HookTemplate" => Object::HookTemplate(serde_yaml::from_str(yaml).unwrap()),
        other => panic!("no fixture parser for {other}"),
    }
}

pub const STORAGE: &str = r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {name: gcs-storage, namespace: demo, creationTimestamp: "2024-08-19T10:00:00Z"}
spec:
  storage:
    provider: gcs
    gcs: {bucket: kubestash-qa, prefix: demo, secretName: gcs-secret}
  usagePolicy: {allowedNamespaces: {from: All}}
  default: true
  deletionPolicy: Delete
"#;

pub const RETENTION: &str = r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: RetentionPolicy
metadata: {name: demo-retention, namespace: demo}
spec:
  default: true
  failedSnapshots: {last: 2}
  maxRetentionPeriod: 2mo
  successfulSnapshots: {last: 1}
  usagePolicy: {allowedNamespaces: {from: All}}
"#;

pub const APP_BINDING: &str = r#"
apiVersion: appcatalog.appscode.com/v1alpha1
kind: AppBinding
metadata: {name: sdb-sample, namespace: demo}
spec:
  type: kubedb.com/singlestore
  version: 8.5.7
  clientConfig: {service: {name: sdb-sample, port: 3306, scheme: tcp}}
  secret: {name: sdb-sample-root-cred}
  parameters: {apiVersion: config.kubedb.com/v1alpha1, kind: SinglestoreConfiguration, masterAggregator: sdb-sample-aggregator-0.sdb-sample-pods.demo.svc}
"#;

pub const CONFIG: &str = r#"
apiVersion: core.kubestash.com/v1alpha1
kind: BackupConfiguration
metadata: {name: sample-sdb-backup, namespace: demo, uid: bc-uid}
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

/// The world after the user applied Secrets, storage, retention policy and the
/// database's AppBinding (steps 1 and 2 of §3).
pub fn seeded_world() -> World {
    let mut world = World::new();
    tell(
        &mut world,
        [
            Fact::SecretApplied(Secret::new(
                "demo",
                "gcs-secret",
                [
                    ("GOOGLE_PROJECT_ID", "appscode-testing"),
                    ("GOOGLE_SERVICE_ACCOUNT_JSON_KEY", "sa-key-TOPSECRET"),
                ],
            )),
            Fact::SecretApplied(Secret::new(
                "demo",
                "encrypt-secret",
                [("RESTIC_PASSWORD", "changeit-TOPSECRET")],
            )),
            Fact::Applied(object("BackupStorage", STORAGE)),
            Fact::Applied(object("RetentionPolicy", RETENTION)),
            Fact::Applied(object("AppBinding", APP_BINDING)),
        ],
    );
    world
}

/// The storage adapter answering every pending backend write with success.
pub fn backend_answers(effects: &[Effect], now: DateTime<Utc>) -> Vec<Fact> {
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
            Effect::UploadSnapshotMetadata {
                storage,
                snapshot,
                path,
                ..
            } => Some(Fact::SnapshotMetadataUploaded {
                storage: storage.key.clone(),
                snapshot: snapshot.key.clone(),
                path: path.clone(),
                outcome: Outcome::Ok,
                at: now,
            }),
            Effect::ForgetSnapshots {
                storage,
                snapshot,
                metadata_path,
                ..
            } => Some(Fact::SnapshotsForgotten {
                storage: storage.key.clone(),
                snapshot: snapshot.key.clone(),
                metadata_path: metadata_path.clone(),
                outcome: Outcome::Ok,
                at: now,
            }),
            Effect::WipeData { storage, path } => Some(Fact::DataWiped {
                storage: storage.key.clone(),
                path: path.clone(),
                outcome: Outcome::Ok,
                at: now,
            }),
            _ => None,
        })
        .collect()
}

/// Settles, answers backend writes, and settles again until no IO is pending.
pub fn settle_with_backend(world: &mut World, now: DateTime<Utc>) -> Vec<Effect> {
    let mut all = Vec::new();
    for _ in 0..10 {
        let effects = settle(world, now);
        let answers = backend_answers(&effects, now);
        all.extend(effects);
        if answers.is_empty() {
            return all;
        }
        tell(world, answers);
    }
    panic!("backend round trips did not settle");
}

/// Pins `effects` as the YAML snapshot `tests/snapshots/scenarios__<name>.snap`.
pub fn pin(name: &str, effects: &[Effect]) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_yaml_snapshot!(format!("scenarios__{name}"), effects));
}

/// Backend files written by `effects` (`repository.yaml` and Snapshot YAMLs), by path,
/// as a later listing of the same backend returns them.
pub fn written_files(effects: &[Effect]) -> BTreeMap<String, String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::InitRepository { path, yaml, .. }
            | Effect::UploadSnapshotMetadata { path, yaml, .. } => {
                Some((path.clone(), yaml.clone()))
            }
            _ => None,
        })
        .collect()
}

/// A successful `BackendInitialized` whose listing parses `files` the way the storage
/// adapter does: `<dir>/repository.yaml` by directory, snapshot YAMLs by path.
pub fn listing(
    storage: &cairn_core::world::ObjectKey,
    files: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> Fact {
    let mut repositories = BTreeMap::new();
    let mut snapshots = BTreeMap::new();
    for (path, yaml) in files {
        if let Some(dir) = path.strip_suffix("/repository.yaml") {
            repositories.insert(dir.to_owned(), serde_yaml::from_str(yaml).unwrap());
        } else if path.contains("/snapshots/") {
            snapshots.insert(path.clone(), serde_yaml::from_str(yaml).unwrap());
        }
    }
    Fact::BackendInitialized {
        storage: storage.clone(),
        outcome: Outcome::Ok,
        at: now,
        repositories,
        snapshots,
    }
}
