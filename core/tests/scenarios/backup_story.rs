//! §3's backup flow, step by step, as the user experiences it.

use std::collections::BTreeMap;

use cairn_core::api::component_stats::{ResticStats, ResticSummary};
use cairn_core::api::{BackupSessionPhase, Component, ComponentPhase, Driver, SnapshotPhase};
use cairn_core::effect::Effect;
use cairn_core::job::{JobKey, JobKind, JobResult};
use cairn_core::world::{Fact, ObjectKey};

use super::harness::*;

/// The component a successful logical backup reports.
pub fn dump_component(id: &str) -> Component {
    Component {
        path: "repository/v1/frequent-backup/dump".to_owned(),
        phase: Some(ComponentPhase::Succeeded),
        size: "1.456 MiB".to_owned(),
        duration: "7.472499073s".to_owned(),
        integrity: Some(true),
        driver: Some(Driver::Restic),
        restic_stats: vec![ResticStats {
            summary: Some(ResticSummary {
                id: id.to_owned(),
                uploaded: "1.036 MiB".to_owned(),
                host_path: "dumpfile.sql".to_owned(),
                size: "3.657 MiB".to_owned(),
                ..ResticSummary::default()
            }),
            progress: None,
        }],
        ..Component::default()
    }
}

/// A backup job result for one snapshot.
pub fn backup_result(snapshot: &str, id: &str) -> JobResult {
    JobResult::Backup(BTreeMap::from([(
        snapshot.to_owned(),
        BTreeMap::from([("dump".to_owned(), dump_component(id))]),
    )]))
}

#[test]
fn backup_story() {
    let mut world = seeded_world();
    let t0 = at("2024-08-19T10:58:20Z");

    // Step 1: the storage is initialized (metadata.yaml) and becomes Ready.
    let effects = settle_with_backend(&mut world, t0);
    pin("backup_1_storage", &effects);
    let storage = &world.backup_storages[&ObjectKey::new("demo", "gcs-storage")];
    assert_eq!(
        storage.calculate_phase(),
        cairn_core::api::BackupStoragePhase::Ready
    );

    // Steps 3-5: the BackupConfiguration creates its Repository and trigger, becomes
    // Ready and triggers the instant backup.
    tell(
        &mut world,
        [Fact::Applied(object("BackupConfiguration", CONFIG))],
    );
    let effects = settle_with_backend(&mut world, t0);
    pin("backup_2_configuration", &effects);
    let session_key = ObjectKey::new("demo", "sample-sdb-backup-frequent-backup-1724065100");
    assert!(
        world.backup_sessions.contains_key(&session_key),
        "instant session created: {:?}",
        world.backup_sessions.keys()
    );

    // Steps 6-7: the session created the Snapshot and the executor job.
    let job = JobKey::new(JobKind::Backup, "demo", session_key.name.clone());
    assert!(world.jobs.contains_key(&job), "executor requested");
    let snapshot = "gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065100";
    assert!(world
        .snapshots
        .contains_key(&ObjectKey::new("demo", snapshot)));

    // The job runs, then reports the dump component.
    let t1 = at("2024-08-19T10:58:25Z");
    tell(
        &mut world,
        [Fact::JobStarted {
            job: job.clone(),
            at: t1,
        }],
    );
    let effects = settle_with_backend(&mut world, t1);
    pin("backup_3_running", &effects);
    assert_eq!(
        world.backup_sessions[&session_key]
            .status
            .as_ref()
            .unwrap()
            .phase,
        Some(BackupSessionPhase::Running)
    );

    let t2 = at("2024-08-19T10:58:33Z");
    tell(
        &mut world,
        [Fact::JobSucceeded {
            job,
            result: backup_result(snapshot, &"a".repeat(64)),
            at: t2,
        }],
    );
    let effects = settle_with_backend(&mut world, t2);
    pin("backup_4_succeeded", &effects);
    let snap = &world.snapshots[&ObjectKey::new("demo", snapshot)];
    assert_eq!(
        snap.status.as_ref().unwrap().phase,
        Some(SnapshotPhase::Succeeded)
    );
    let session = world.backup_sessions[&session_key].status.clone().unwrap();
    assert_eq!(session.phase, Some(BackupSessionPhase::Succeeded));
    let repo = world.repositories[&ObjectKey::new("demo", "gcs-sdb-repo")]
        .status
        .clone()
        .unwrap();
    assert_eq!(repo.snapshot_count, Some(1));
    assert_eq!(repo.size, "1.456 MiB");

    // The schedule fires at 11:00 and a second backup runs; retention keeps only it.
    let t3 = at("2024-08-19T11:00:00Z");
    let effects = settle_with_backend(&mut world, t3);
    let created: Vec<String> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Apply(o) if o.kind() == cairn_core::api::Kind::BackupSession => {
                o.meta().name.clone()
            }
            _ => None,
        })
        .collect();
    assert_eq!(created, ["sample-sdb-backup-frequent-backup-1724065200"]);
    let job2 = JobKey::new(
        JobKind::Backup,
        "demo",
        "sample-sdb-backup-frequent-backup-1724065200",
    );
    let snapshot2 = "gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065200";
    tell(
        &mut world,
        [Fact::JobSucceeded {
            job: job2,
            result: backup_result(snapshot2, &"b".repeat(64)),
            at: t3,
        }],
    );
    let effects = settle_with_backend(&mut world, t3);
    pin("backup_5_retention", &effects);
    let s2 = world.backup_sessions
        [&ObjectKey::new("demo", "sample-sdb-backup-frequent-backup-1724065200")]
        .status
        .clone();
    assert!(
        !world
            .snapshots
            .contains_key(&ObjectKey::new("demo", snapshot)),
        "old snapshot removed by retention: {s2:#?} {:#?}",
        world.snapshots.keys()
    );
    assert!(world
        .snapshots
        .contains_key(&ObjectKey::new("demo", snapshot2)));
    assert!(
        !world.backup_sessions.contains_key(&session_key),
        "history limit 1 removed the first session"
    );

    // Nothing else to do until the next slot.
    let plan = cairn_core::reconcile::reconcile(&world, t3);
    assert!(plan.effects.is_empty());
    assert_eq!(plan.next_wakeup, Some(at("2024-08-19T11:05:00Z")));
}
