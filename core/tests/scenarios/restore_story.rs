//! §3's restore flow: a RestoreSession of `latest` into a new database.

use cairn_core::api::restore_session::RestorePhase;
use cairn_core::api::ComponentPhase;
use cairn_core::job::{JobKey, JobKind, JobResult, RestoreComponentResult};
use cairn_core::world::{Fact, ObjectKey, World};
use std::collections::BTreeMap;

use super::backup_story::backup_result;
use super::harness::*;

pub const RESTORED_APP: &str = r#"
apiVersion: appcatalog.appscode.com/v1alpha1
kind: AppBinding
metadata: {name: restored-singlestore, namespace: demo}
spec: {type: kubedb.com/singlestore, version: 8.5.7, clientConfig: {service: {name: restored-singlestore, port: 3306}}}
"#;

pub const RESTORE: &str = r#"
apiVersion: core.kubestash.com/v1alpha1
kind: RestoreSession
metadata: {name: restore-sample-singlestore, namespace: demo, creationTimestamp: "2024-08-19T12:00:00Z"}
spec:
  target: {apiGroup: kubedb.com, kind: Singlestore, namespace: demo, name: restored-singlestore}
  dataSource:
    repository: gcs-sdb-repo
    snapshot: latest
    encryptionSecret: {name: encrypt-secret, namespace: demo}
  addon:
    name: singlestore-addon
    tasks: [{name: logical-backup-restore}]
"#;

/// A world with one Succeeded backup of `sdb-sample`.
pub fn backed_up_world() -> World {
    let mut world = seeded_world();
    let t0 = at("2024-08-19T10:58:20Z");
    settle_with_backend(&mut world, t0);
    tell(
        &mut world,
        [Fact::Applied(object("BackupConfiguration", CONFIG))],
    );
    settle_with_backend(&mut world, t0);
    let session = "sample-sdb-backup-frequent-backup-1724065100";
    let job = JobKey::new(JobKind::Backup, "demo", session);
    let snapshot = "gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065100";
    tell(
        &mut world,
        [Fact::JobSucceeded {
            job,
            result: backup_result(snapshot, &"a".repeat(64)),
            at: t0,
        }],
    );
    settle_with_backend(&mut world, t0);
    world
}

#[test]
fn restore_story() {
    let mut world = backed_up_world();
    let t = at("2024-08-19T12:00:00Z");
    // Steps 1-2: the user creates the RestoreSession; it is validated, `latest` resolves
    // and the restore job starts.
    tell(
        &mut world,
        [
            Fact::Applied(object("AppBinding", RESTORED_APP)),
            Fact::Applied(object("RestoreSession", RESTORE)),
        ],
    );
    let effects = settle(&mut world, t);
    pin("restore_1_started", &effects);
    let key = ObjectKey::new("demo", "restore-sample-singlestore");
    let job = JobKey::new(JobKind::Restore, "demo", "restore-sample-singlestore");
    let spec = &world.jobs[&job].spec;
    assert_eq!(
        spec.restore.as_ref().unwrap().snapshot,
        "gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065100"
    );
    assert!(spec.tasks[0]
        .args
        .contains(&"--restoresession=restore-sample-singlestore".to_owned()));

    // Steps 3-6: the job runs and reports the dump component.
    tell(
        &mut world,
        [Fact::JobStarted {
            job: job.clone(),
            at: t,
        }],
    );
    let effects = settle(&mut world, t);
    pin("restore_2_running", &effects);
    assert_eq!(
        world.restore_sessions[&key].status.as_ref().unwrap().phase,
        Some(RestorePhase::Running)
    );

    // Steps 7-8: components Succeeded, final step, phase Succeeded.
    let t2 = at("2024-08-19T12:01:00Z");
    let result = RestoreComponentResult {
        phase: ComponentPhase::Succeeded,
        duration: "58s".to_owned(),
        error: String::new(),
    };
    tell(
        &mut world,
        [Fact::JobSucceeded {
            job,
            result: JobResult::Restore(BTreeMap::from([("dump".to_owned(), result)])),
            at: t2,
        }],
    );
    let effects = settle(&mut world, t2);
    pin("restore_3_succeeded", &effects);
    let status = world.restore_sessions[&key].status.clone().unwrap();
    assert_eq!(status.phase, Some(RestorePhase::Succeeded));
    assert_eq!(status.duration, "1m0s");
}

#[test]
fn restore_of_missing_latest_fails_with_a_clear_message() {
    let mut world = seeded_world();
    let t = at("2024-08-19T12:00:00Z");
    settle_with_backend(&mut world, t);
    tell(
        &mut world,
        [
            Fact::Applied(object("AppBinding", RESTORED_APP)),
            Fact::Applied(object("RestoreSession", RESTORE)),
        ],
    );
    settle(&mut world, t);
    let status = world.restore_sessions[&ObjectKey::new("demo", "restore-sample-singlestore")]
        .status
        .clone()
        .unwrap();
    assert_eq!(status.phase, Some(RestorePhase::Failed));
    let message = &status
        .conditions
        .iter()
        .find(|c| c.type_ == "RestoreExecutorEnsured")
        .unwrap()
        .message;
    assert!(message.contains("has no Succeeded Snapshot"), "{message}");
}

/// A world where the BackupConfiguration and a RestoreSession of `latest` (created at
/// `t0`) were applied at once, before any backup, and settled at `t0`.
fn configuration_and_restore_applied_together(t0: chrono::DateTime<chrono::Utc>) -> World {
    let mut world = seeded_world();
    settle_with_backend(&mut world, t0);
    let created = t0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let restore = RESTORE.replace("2024-08-19T12:00:00Z", &created);
    tell(
        &mut world,
        [
            Fact::Applied(object("BackupConfiguration", CONFIG)),
            Fact::Applied(object("AppBinding", RESTORED_APP)),
            Fact::Applied(object("RestoreSession", &restore)),
        ],
    );
    settle_with_backend(&mut world, t0);
    world
}

/// A user applies the BackupConfiguration and a RestoreSession of `latest` together (a
/// restore test, or a fresh cluster's manifests): the restore waits for the first backup
/// instead of failing, then restores that backup's Snapshot.
#[test]
fn restore_of_latest_applied_with_its_configuration_waits_for_the_first_backup() {
    let t0 = at("2024-08-19T10:58:20Z");
    let mut world = configuration_and_restore_applied_together(t0);
    let key = ObjectKey::new("demo", "restore-sample-singlestore");
    let waiting = world.restore_sessions[&key].status.clone().unwrap();
    assert!(
        !matches!(
            waiting.phase,
            Some(RestorePhase::Failed | RestorePhase::Succeeded)
        ),
        "{:?}",
        waiting.phase
    );
    let cond = waiting
        .conditions
        .iter()
        .find(|c| c.type_ == "WaitingForBackup")
        .expect("a WaitingForBackup condition");
    assert!(
        cond.message.contains("has not finished its first backup"),
        "{}",
        cond.message
    );
    let restore_job = JobKey::new(JobKind::Restore, "demo", "restore-sample-singlestore");
    assert!(
        !world.jobs.contains_key(&restore_job),
        "no restore before the backup"
    );

    let session = "sample-sdb-backup-frequent-backup-1724065100";
    let snapshot = "gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065100";
    tell(
        &mut world,
        [Fact::JobSucceeded {
            job: JobKey::new(JobKind::Backup, "demo", session),
            result: backup_result(snapshot, &"a".repeat(64)),
            at: t0,
        }],
    );
    settle_with_backend(&mut world, t0);
    assert!(
        world.jobs.contains_key(&restore_job),
        "the restore starts after the backup"
    );
}

/// The same, when the first backup never comes: the restore fails after the wait, saying why.
#[test]
fn restore_of_latest_stops_waiting_after_thirty_minutes() {
    let t0 = at("2024-08-19T10:58:20Z");
    let mut world = configuration_and_restore_applied_together(t0);
    settle(&mut world, at("2024-08-19T11:28:21Z"));
    let status = world.restore_sessions[&ObjectKey::new("demo", "restore-sample-singlestore")]
        .status
        .clone()
        .unwrap();
    assert_eq!(status.phase, Some(RestorePhase::Failed));
    let message = &status
        .conditions
        .iter()
        .find(|c| c.type_ == "RestoreExecutorEnsured")
        .unwrap()
        .message;
    assert!(message.contains("has no Succeeded Snapshot"), "{message}");
}

#[test]
fn restore_without_repository_for_latest_is_invalid() {
    let mut world = seeded_world();
    let t = at("2024-08-19T12:00:00Z");
    let invalid = RESTORE.replace("    repository: gcs-sdb-repo\n", "");
    tell(
        &mut world,
        [Fact::Applied(object("RestoreSession", &invalid))],
    );
    settle(&mut world, t);
    let status = world.restore_sessions[&ObjectKey::new("demo", "restore-sample-singlestore")]
        .status
        .clone()
        .unwrap();
    assert_eq!(status.phase, Some(RestorePhase::Invalid));
}
