//! `StorageBackend` against real backends: a local directory (the `local` provider as
//! a volume mounted at `mountPath`) and, when moto is available, an S3 server.

use std::path::Path;

use cairn_core::api::{BackupStorage, Repository, Snapshot};
use cairn_core::effect::Effect;
use cairn_core::world::{Fact, ObjectKey, ObjectRef, Outcome, Secret, World};
use cairn_kube::backend::{pod_view, BackendIo, StorageBackend};
use cairn_storage::{
    open_store, BackendOptions, Location, Password, Repo, SnapshotMeta, SourceEntry,
};
use chrono::{DateTime, Utc};

use super::support::at;

fn storage_ref() -> ObjectRef {
    ObjectRef::new(
        cairn_core::api::Kind::BackupStorage,
        "demo",
        "local-storage",
    )
}

/// A local BackupStorage mounted at `dir` (with a `hostPath` source, which a pod never
/// sees: the data must land under `mountPath`).
fn local_storage(dir: &Path) -> BackupStorage {
    serde_yaml::from_str(&format!(
        r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {{name: local-storage, namespace: demo}}
spec:
  storage:
    provider: local
    local:
      mountPath: {}
      subPath: team
      hostPath: {{path: /var/lib/node-only}}
  deletionPolicy: WipeOut
"#,
        dir.display()
    ))
    .unwrap()
}

fn world_with(storage: BackupStorage, secret: Option<Secret>) -> World {
    let mut world = World::default();
    world
        .backup_storages
        .insert(ObjectKey::new("demo", "local-storage"), storage);
    if let Some(s) = secret {
        world
            .secrets
            .insert(ObjectKey::new(s.namespace.clone(), s.name.clone()), s);
    }
    world
}

fn now() -> DateTime<Utc> {
    at("2024-08-19T10:58:20Z")
}

async fn run(world: &World, effect: Effect) -> Fact {
    StorageBackend::default()
        .prepare(world, &effect, now())
        .expect("a backend effect has IO")
        .await
        .expect("a backend effect reports a fact")
}

fn outcome(fact: &Fact) -> &Outcome {
    match fact {
        Fact::BackendInitialized { outcome, .. }
        | Fact::RepositoryInitialized { outcome, .. }
        | Fact::SnapshotMetadataUploaded { outcome, .. }
        | Fact::SnapshotsForgotten { outcome, .. }
        | Fact::DataWiped { outcome, .. } => outcome,
        other => panic!("unexpected fact {other:?}"),
    }
}

const REPOSITORY_YAML: &str = r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: Repository
metadata: {name: gcs-sdb-repo, namespace: demo}
spec:
  storageRef: {name: local-storage, namespace: demo}
  path: /singlestore
  appRef: {apiGroup: kubedb.com, kind: Singlestore, namespace: demo, name: sdb-sample}
"#;

const SNAPSHOT_YAML: &str = r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: Snapshot
metadata: {name: gcs-sdb-repo-sample-1724065100, namespace: demo}
spec:
  repository: gcs-sdb-repo
  type: FullBackup
  version: v1
status:
  phase: Succeeded
"#;

#[test]
fn pod_view_uses_the_mount_path_not_the_node_path() {
    let s = local_storage(Path::new("/backups"));
    let viewed = pod_view(&s);
    let local = viewed.spec.storage.local.unwrap();
    assert!(!local.volume_source.contains_key("hostPath"));
    assert_eq!(local.mount_path, "/backups");
}

#[tokio::test]
async fn local_directory_full_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let world = world_with(local_storage(dir.path()), None);
    let root = dir.path().join("team");

    // InitBackend writes metadata.yaml and lists what a previous cluster left there.
    std::fs::create_dir_all(root.join("singlestore/snapshots")).unwrap();
    std::fs::write(root.join("singlestore/repository.yaml"), REPOSITORY_YAML).unwrap();
    std::fs::write(
        root.join("singlestore/snapshots/gcs-sdb-repo-sample-1724065100.yaml"),
        SNAPSHOT_YAML,
    )
    .unwrap();
    std::fs::write(
        root.join("singlestore/snapshots/broken.yaml"),
        "{not: [yaml",
    )
    .unwrap();
    let fact = run(
        &world,
        Effect::InitBackend {
            storage: storage_ref(),
            path: "metadata.yaml".into(),
            yaml: "uid: first\n".into(),
        },
    )
    .await;
    let Fact::BackendInitialized {
        outcome: init,
        repositories,
        snapshots,
        ..
    } = &fact
    else {
        panic!("{fact:?}")
    };
    assert_eq!(init, &Outcome::Ok);
    assert_eq!(
        std::fs::read_to_string(root.join("metadata.yaml")).unwrap(),
        "uid: first\n"
    );
    let repo: &Repository = &repositories["singlestore"];
    assert_eq!(repo.metadata.name.as_deref(), Some("gcs-sdb-repo"));
    let snap: &Snapshot = &snapshots["singlestore/snapshots/gcs-sdb-repo-sample-1724065100.yaml"];
    assert_eq!(snap.spec.repository, "gcs-sdb-repo");
    assert_eq!(snapshots.len(), 1, "the damaged file is skipped");
    assert!(!Path::new("/var/lib/node-only").exists());

    // metadata.yaml is written only if absent: a second init keeps the identity.
    let again = run(
        &world,
        Effect::InitBackend {
            storage: storage_ref(),
            path: "metadata.yaml".into(),
            yaml: "uid: second\n".into(),
        },
    )
    .await;
    assert_eq!(outcome(&again), &Outcome::Ok);
    assert_eq!(
        std::fs::read_to_string(root.join("metadata.yaml")).unwrap(),
        "uid: first\n"
    );

    // InitRepository and UploadSnapshotMetadata write (and replace) their YAML.
    let repo_ref = ObjectRef::new(cairn_core::api::Kind::Repository, "demo", "other-repo");
    let fact = run(
        &world,
        Effect::InitRepository {
            storage: storage_ref(),
            repository: repo_ref,
            path: "other/repository.yaml".into(),
            yaml: "kind: Repository\n".into(),
        },
    )
    .await;
    assert_eq!(outcome(&fact), &Outcome::Ok);
    assert!(root.join("other/repository.yaml").is_file());
    let snap_ref = ObjectRef::new(cairn_core::api::Kind::Snapshot, "demo", "s1");
    let fact = run(
        &world,
        Effect::UploadSnapshotMetadata {
            storage: storage_ref(),
            snapshot: snap_ref.clone(),
            path: "other/snapshots/s1.yaml".into(),
            yaml: "kind: Snapshot\n".into(),
        },
    )
    .await;
    assert_eq!(outcome(&fact), &Outcome::Ok);
    assert!(root.join("other/snapshots/s1.yaml").is_file());

    // ForgetSnapshots of a repository that does not exist: nothing to forget, YAML removed.
    let fact = run(
        &world,
        Effect::ForgetSnapshots {
            storage: storage_ref(),
            snapshot: snap_ref,
            restic: vec![],
            tagged_in: vec!["other/repository/v1/s/dump".into()],
            metadata_path: "other/snapshots/s1.yaml".into(),
        },
    )
    .await;
    assert_eq!(outcome(&fact), &Outcome::Ok);
    assert!(!root.join("other/snapshots/s1.yaml").exists());

    // WipeData of one directory, then of the whole root.
    let fact = run(
        &world,
        Effect::WipeData {
            storage: storage_ref(),
            path: "other".into(),
        },
    )
    .await;
    assert_eq!(outcome(&fact), &Outcome::Ok);
    assert!(!root.join("other/repository.yaml").exists());
    assert!(root.join("singlestore/repository.yaml").exists());
    let fact = run(
        &world,
        Effect::WipeData {
            storage: storage_ref(),
            path: String::new(),
        },
    )
    .await;
    assert_eq!(outcome(&fact), &Outcome::Ok);
    assert!(!root.join("metadata.yaml").exists());
}

#[tokio::test]
async fn forget_removes_the_restic_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = world_with(local_storage(dir.path()), None);
    let rel = "singlestore/repository/v1/frequent-backup/dump";
    let location = Location::parse(&format!("local:{}/team/{rel}", dir.path().display())).unwrap();
    let store = open_store(&location, &BackendOptions::default()).unwrap();
    let label = location.to_string();
    let rt = tokio::runtime::Handle::current();
    // The reported snapshot, one a killed job committed under the same Snapshot's tag
    // without reporting it, and another Snapshot's, which must stay.
    let (id, orphan, other) = tokio::task::spawn_blocking(move || {
        let repo = Repo::init(store, &label, &Password::new("pw-TOPSECRET"), rt).unwrap();
        let backup = |tag: &str, body: &'static [u8]| {
            let entry = SourceEntry::new("/dump.sql", move || {
                Ok(Box::new(std::io::Cursor::new(body.to_vec())) as Box<dyn std::io::Read + Send>)
            });
            let meta = SnapshotMeta {
                tags: vec![tag.to_owned()],
                ..SnapshotMeta::default()
            };
            repo.backup(vec![entry], &meta).unwrap().snapshot_id
        };
        (
            backup("gcs-sdb-repo-sample-1724065100", b"select 1;"),
            backup("gcs-sdb-repo-sample-1724065100", b"select 2;"),
            backup("gcs-sdb-repo-sample-1724069999", b"select 3;"),
        )
    })
    .await
    .unwrap();
    // The Snapshot and Repository objects lead to the encryption Secret.
    world.snapshots.insert(
        ObjectKey::new("demo", "gcs-sdb-repo-sample-1724065100"),
        serde_yaml::from_str(SNAPSHOT_YAML).unwrap(),
    );
    let mut repo: Repository = serde_yaml::from_str(REPOSITORY_YAML).unwrap();
    repo.spec.encryption_secret = Some(cairn_core::api::ObjectReference::new("demo", "encrypt"));
    world
        .repositories
        .insert(ObjectKey::new("demo", "gcs-sdb-repo"), repo);
    let secret = Secret::new("demo", "encrypt", [("RESTIC_PASSWORD", "pw-TOPSECRET")]);
    world
        .secrets
        .insert(ObjectKey::new("demo", "encrypt"), secret);
    let snap_ref = ObjectRef::new(
        cairn_core::api::Kind::Snapshot,
        "demo",
        "gcs-sdb-repo-sample-1724065100",
    );
    let effect = Effect::ForgetSnapshots {
        storage: storage_ref(),
        snapshot: snap_ref,
        restic: vec![(rel.to_owned(), id.clone())],
        tagged_in: vec![rel.to_owned()],
        metadata_path: "singlestore/snapshots/gcs-sdb-repo-sample-1724065100.yaml".into(),
    };
    let fact = run(&world, effect.clone()).await;
    assert_eq!(outcome(&fact), &Outcome::Ok);
    let store = open_store(&location, &BackendOptions::default()).unwrap();
    let label = location.to_string();
    let rt = tokio::runtime::Handle::current();
    let left = tokio::task::spawn_blocking(move || {
        Repo::open(store, &label, &Password::new("pw-TOPSECRET"), rt)
            .unwrap()
            .snapshots()
            .unwrap()
    })
    .await
    .unwrap();
    let left: Vec<_> = left.into_iter().map(|s| s.id).collect();
    assert!(
        !left.contains(&id),
        "the reported one is forgotten: {left:?}"
    );
    assert!(
        !left.contains(&orphan),
        "the unreported one is forgotten: {left:?}"
    );
    assert_eq!(left, vec![other], "another Snapshot's stays");
    // Replaying the effect is harmless (idempotent).
    assert_eq!(outcome(&run(&world, effect).await), &Outcome::Ok);
}

#[tokio::test]
async fn unresolvable_storage_fails_with_a_message() {
    let world = World::default();
    let fact = run(
        &world,
        Effect::InitBackend {
            storage: storage_ref(),
            path: "metadata.yaml".into(),
            yaml: String::new(),
        },
    )
    .await;
    let Outcome::Failed(message) = outcome(&fact) else {
        panic!("{fact:?}")
    };
    assert!(message.contains("demo/local-storage"), "{message}");
    // A storage whose Secret is missing names the Secret.
    let s3: BackupStorage = serde_yaml::from_str(
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: BackupStorage\nmetadata: {name: local-storage, namespace: demo}\nspec:\n  storage:\n    provider: s3\n    s3: {bucket: b, endpoint: http://127.0.0.1:1, secretName: s3-cred}\n",
    )
    .unwrap();
    let fact = run(
        &world_with(s3, None),
        Effect::WipeData {
            storage: storage_ref(),
            path: String::new(),
        },
    )
    .await;
    let Outcome::Failed(message) = outcome(&fact) else {
        panic!("{fact:?}")
    };
    assert!(message.contains("demo/s3-cred"), "{message}");
}

/// The same cycle against a real S3 server (moto) with credentials from the Secret.
#[tokio::test]
async fn s3_backend_with_secret_credentials() {
    let server = cairn_testkit::S3Server::start().expect("start moto S3 server");
    let env: std::collections::BTreeMap<String, String> = server.env().into_iter().collect();
    let bucket = "cairn-kube";
    server.create_bucket(bucket).unwrap();
    let storage: BackupStorage = serde_yaml::from_str(&format!(
        "apiVersion: storage.kubestash.com/v1alpha1\nkind: BackupStorage\nmetadata: {{name: local-storage, namespace: demo}}\nspec:\n  storage:\n    provider: s3\n    s3: {{bucket: {bucket}, prefix: demo, endpoint: {}, region: us-east-1, secretName: s3-cred}}\n",
        server.endpoint()
    ))
    .unwrap();
    let secret = Secret::new(
        "demo",
        "s3-cred",
        [
            ("AWS_ACCESS_KEY_ID", env["AWS_ACCESS_KEY_ID"].as_str()),
            (
                "AWS_SECRET_ACCESS_KEY",
                env["AWS_SECRET_ACCESS_KEY"].as_str(),
            ),
        ],
    );
    let world = world_with(storage, Some(secret));
    let fact = run(
        &world,
        Effect::InitBackend {
            storage: storage_ref(),
            path: "metadata.yaml".into(),
            yaml: "uid: s3\n".into(),
        },
    )
    .await;
    assert_eq!(outcome(&fact), &Outcome::Ok, "{}", server.log());
    let snap_ref = ObjectRef::new(cairn_core::api::Kind::Snapshot, "demo", "s1");
    let fact = run(
        &world,
        Effect::UploadSnapshotMetadata {
            storage: storage_ref(),
            snapshot: snap_ref,
            path: "singlestore/snapshots/s1.yaml".into(),
            yaml: SNAPSHOT_YAML.into(),
        },
    )
    .await;
    assert_eq!(outcome(&fact), &Outcome::Ok);
    let fact = run(
        &world,
        Effect::InitBackend {
            storage: storage_ref(),
            path: "metadata.yaml".into(),
            yaml: "uid: other\n".into(),
        },
    )
    .await;
    let Fact::BackendInitialized { snapshots, .. } = &fact else {
        panic!("{fact:?}")
    };
    let meta = server.get_object(bucket, "demo/metadata.yaml").unwrap();
    assert_eq!(meta.as_deref(), Some(&b"uid: s3\n"[..]), "written once");
    assert!(
        snapshots.contains_key("singlestore/snapshots/s1.yaml"),
        "{snapshots:?}"
    );
    let fact = run(
        &world,
        Effect::WipeData {
            storage: storage_ref(),
            path: String::new(),
        },
    )
    .await;
    assert_eq!(outcome(&fact), &Outcome::Ok);
    assert!(server.list_keys(bucket, "demo/").unwrap().is_empty());
}
