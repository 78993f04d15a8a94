//! Disaster recovery: a fresh control plane pointed at a backend that holds an earlier
//! control plane's `repository.yaml` and Snapshot YAMLs re-creates the Repository and
//! Snapshot objects, and a RestoreSession of `latest` restores from them.

use std::collections::BTreeMap;

use cairn_core::api::{Kind, SnapshotPhase};
use cairn_core::effect::Effect;
use cairn_core::job::{JobKey, JobKind};
use cairn_core::reconcile::recovery::REASON_RECOVERED;
use cairn_core::world::{Fact, ObjectKey, ObjectRef, World};

use super::backup_story::backup_result;
use super::harness::*;

const SNAPSHOT: &str = "gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065100";

pub const RESTORE: &str = r#"
apiVersion: core.kubestash.com/v1alpha1
kind: RestoreSession
metadata: {name: restore-sample-singlestore, namespace: demo, creationTimestamp: "2024-08-19T12:00:00Z"}
spec:
  target: {apiGroup: kubedb.com, kind: Singlestore, namespace: demo, name: sdb-sample}
  dataSource:
    repository: gcs-sdb-repo
    snapshot: latest
    encryptionSecret: {name: encrypt-secret, namespace: demo}
  addon:
    name: singlestore-addon
    tasks: [{name: logical-backup-restore}]
"#;

/// Runs one backup in a first control plane and returns the files it left in the
/// backend.
pub fn files_of_an_earlier_backup() -> BTreeMap<String, String> {
    let mut world = seeded_world();
    let t0 = at("2024-08-19T10:58:20Z");
    let mut effects = settle_with_backend(&mut world, t0);
    tell(
        &mut world,
        [Fact::Applied(object("BackupConfiguration", CONFIG))],
    );
    effects.extend(settle_with_backend(&mut world, t0));
    let job = JobKey::new(
        JobKind::Backup,
        "demo",
        "sample-sdb-backup-frequent-backup-1724065100",
    );
    tell(
        &mut world,
        [Fact::JobSucceeded {
            job,
            result: backup_result(SNAPSHOT, &"a".repeat(64)),
            at: t0,
        }],
    );
    effects.extend(settle_with_backend(&mut world, t0));
    written_files(&effects)
}

/// A fresh control plane with the same storage, its backend listing those files.
pub fn recovered_world(files: &BTreeMap<String, String>) -> (World, Vec<Effect>) {
    let mut world = seeded_world();
    let t = at("2024-08-20T09:00:00Z");
    let storage = ObjectKey::new("demo", "gcs-storage");
    let first = settle(&mut world, t);
    assert!(first
        .iter()
        .any(|e| matches!(e, Effect::InitBackend { .. })));
    tell(&mut world, [listing(&storage, files, t)]);
    let effects = settle_with_backend(&mut world, t);
    (world, effects)
}

#[test]
fn recovery_story() {
    let files = files_of_an_earlier_backup();
    assert_eq!(
        files.len(),
        2,
        "repository.yaml and one snapshot: {files:?}"
    );
    let (mut world, effects) = recovered_world(&files);
    pin("recovery_1_recreated", &effects);

    let repo = &world.repositories[&ObjectKey::new("demo", "gcs-sdb-repo")];
    assert_eq!(repo.spec.path, "/singlestore");
    assert_eq!(
        repo.calculate_phase(),
        cairn_core::api::RepositoryPhase::Ready
    );
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::InitRepository { .. })),
        "the repository.yaml found is not rewritten"
    );
    let snap = world.snapshots[&ObjectKey::new("demo", SNAPSHOT)]
        .status
        .clone()
        .unwrap();
    assert_eq!(snap.phase, Some(SnapshotPhase::Succeeded));
    assert_eq!(snap.components["dump"].restic_stats.len(), 1);
    let storage = world.backup_storages[&ObjectKey::new("demo", "gcs-storage")]
        .status
        .clone()
        .unwrap();
    assert_eq!(storage.repositories.len(), 1);
    assert_eq!(storage.repositories[0].synced, Some(true));
    assert!(world
        .events
        .iter()
        .any(|e| e.reason == REASON_RECOVERED && e.message.contains(SNAPSHOT)));
    let repo_status = world.repositories[&ObjectKey::new("demo", "gcs-sdb-repo")]
        .status
        .clone()
        .unwrap();
    assert_eq!(repo_status.snapshot_count, Some(1));

    // The user restores `latest` from the recovered objects.
    let t = at("2024-08-20T09:05:00Z");
    tell(
        &mut world,
        [Fact::Applied(object("RestoreSession", RESTORE))],
    );
    let effects = settle(&mut world, t);
    let job = JobKey::new(JobKind::Restore, "demo", "restore-sample-singlestore");
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::RunJob(s) if s.key == job)));
    let source = world.jobs[&job].spec.restore.clone().unwrap();
    assert_eq!(source.snapshot, SNAPSHOT);
    assert_eq!(source.repository_path, "/singlestore");
    assert_eq!(source.components["dump"].restic_id, "a".repeat(64));
}

#[test]
fn a_deleted_recovered_snapshot_is_not_brought_back() {
    let files = files_of_an_earlier_backup();
    let (mut world, _) = recovered_world(&files);
    let t = at("2024-08-20T10:00:00Z");
    tell(
        &mut world,
        [Fact::Deleted {
            object: ObjectRef::new(Kind::Snapshot, "demo", SNAPSHOT),
            at: t,
        }],
    );
    settle_with_backend(&mut world, t);
    assert!(!world
        .snapshots
        .contains_key(&ObjectKey::new("demo", SNAPSHOT)));
}

#[test]
fn a_listing_without_files_recovers_nothing() {
    let (world, effects) = recovered_world(&BTreeMap::new());
    assert!(world.repositories.is_empty() && world.snapshots.is_empty());
    assert!(!effects.iter().any(|e| matches!(e, Effect::Apply(_))));
}
