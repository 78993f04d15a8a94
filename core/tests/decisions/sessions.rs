//! BackupSession decisions: skip while another runs, paused configuration and
//! repository, history limit, retention keeping the newest good snapshot, restarts.

use cairn_core::api::{BackupSessionPhase, Kind, Repository};
use cairn_core::effect::Effect;
use cairn_core::job::{JobKey, JobKind, JobResult, RestoreComponentResult};
use cairn_core::reconcile::reconcile;
use cairn_core::reconcile::trigger::new_backup_session;
use cairn_core::world::{apply, Fact, Object, ObjectKey, ObjectRef, World};

use super::common::*;
use super::harness::*;

fn skip_message(world: &World, name: &str) -> String {
    let status = world.backup_sessions[&ObjectKey::new("demo", name)]
        .status
        .clone()
        .unwrap_or_default();
    message(&status.conditions, "BackupSkipped")
}

/// The user triggers a backup by hand at `at` (what `kubectl kubestash trigger` does).
fn manual_session(world: &mut World, at_time: &str) -> String {
    let bc = world.backup_configurations[&ObjectKey::new("demo", "sample-sdb-backup")].clone();
    let session = new_backup_session(&bc, &bc.spec.sessions[0], at(at_time), 0);
    let name = session.metadata.name.clone().unwrap();
    tell(world, [Fact::Applied(Object::BackupSession(session))]);
    name
}

#[test]
fn a_session_is_skipped_while_another_of_the_same_session_runs() {
    let mut world = configured(CONFIG);
    assert!(session_phase(&world, SESSION).is_some_and(|p| !p.is_completed()));
    let name = manual_session(&mut world, "2024-08-19T10:59:00Z");
    settle_with_backend(&mut world, at("2024-08-19T10:59:00Z"));
    assert_eq!(
        session_phase(&world, &name),
        Some(BackupSessionPhase::Skipped)
    );
    let text = skip_message(&world, &name);
    assert!(
        text.contains(&format!(
            "BackupSession {SESSION} of the same session is still running"
        )),
        "{text}"
    );
    assert!(!world
        .jobs
        .contains_key(&JobKey::new(JobKind::Backup, "demo", name)));
}

#[test]
fn a_paused_configuration_takes_no_backup_until_resumed() {
    let paused = CONFIG.replace("spec:\n  target:", "spec:\n  paused: true\n  target:");
    let mut world = configured(&paused);
    assert!(
        world.backup_sessions.is_empty(),
        "no instant backup while paused"
    );
    assert!(world.triggers.values().all(|t| t.suspended));
    let t = "2024-08-19T11:00:00Z";
    settle_with_backend(&mut world, at(t));
    assert!(
        world.backup_sessions.is_empty(),
        "no scheduled backup while paused"
    );
    let name = manual_session(&mut world, "2024-08-19T11:01:00Z");
    settle_with_backend(&mut world, at("2024-08-19T11:01:00Z"));
    assert_eq!(
        session_phase(&world, &name),
        Some(BackupSessionPhase::Skipped)
    );
    let text = skip_message(&world, &name);
    assert!(
        text.contains("is paused: set spec.paused to false"),
        "{text}"
    );
    tell(
        &mut world,
        [Fact::Applied(object("BackupConfiguration", CONFIG))],
    );
    settle_with_backend(&mut world, at("2024-08-19T11:02:00Z"));
    // Resuming takes the instant backup, which stands for the slot missed meanwhile.
    let resumed = "sample-sdb-backup-frequent-backup-1724065320";
    assert!(
        world
            .jobs
            .contains_key(&JobKey::new(JobKind::Backup, "demo", resumed)),
        "{:?}",
        session_names(&world)
    );
}

#[test]
fn a_paused_repository_skips_sessions_and_stays_paused() {
    let mut world = configured(CONFIG);
    backup_succeeds(&mut world, SESSION, SNAPSHOT, t0());
    let key = ObjectKey::new("demo", "gcs-sdb-repo");
    let mut repo: Repository = world.repositories[&key].clone();
    repo.spec.paused = true;
    tell(&mut world, [Fact::Applied(Object::Repository(repo))]);
    settle_with_backend(&mut world, at("2024-08-19T11:00:00Z"));
    assert!(
        world.repositories[&key].spec.paused,
        "the configuration keeps the user's pause"
    );
    let name = "sample-sdb-backup-frequent-backup-1724065200";
    assert_eq!(
        session_phase(&world, name),
        Some(BackupSessionPhase::Skipped)
    );
    let text = skip_message(&world, name);
    assert!(
        text.contains("Repository demo/gcs-sdb-repo is paused"),
        "{text}"
    );
}

#[test]
fn session_history_limit_keeps_the_newest_sessions() {
    let config = CONFIG.replace(
        "  - name: frequent-backup\n",
        "  - name: frequent-backup\n    sessionHistoryLimit: 2\n",
    );
    let mut world = configured(&config);
    backup_succeeds(&mut world, SESSION, SNAPSHOT, t0());
    for (t, unix) in [
        ("2024-08-19T11:00:00Z", 1724065200),
        ("2024-08-19T11:05:00Z", 1724065500),
    ] {
        settle_with_backend(&mut world, at(t));
        let session = format!("sample-sdb-backup-frequent-backup-{unix}");
        let snapshot = format!("gcs-sdb-repo-{session}");
        backup_succeeds(&mut world, &session, &snapshot, at(t));
    }
    assert_eq!(
        session_names(&world),
        [
            "sample-sdb-backup-frequent-backup-1724065200",
            "sample-sdb-backup-frequent-backup-1724065500"
        ]
    );
}

#[test]
fn retention_never_deletes_the_newest_succeeded_snapshot() {
    let mut world = configured(CONFIG);
    tell(
        &mut world,
        [Fact::Applied(object(
            "RetentionPolicy",
            &RETENTION.replace("maxRetentionPeriod: 2mo", "maxRetentionPeriod: 1h"),
        ))],
    );
    backup_succeeds(&mut world, SESSION, SNAPSHOT, t0());
    // Two hours later a backup fails: the only good snapshot is past the period but is
    // the newest Succeeded one, so it stays (settle checks the invariant on every step).
    let t = at("2024-08-19T13:00:00Z");
    settle_with_backend(&mut world, t);
    let failed = "sample-sdb-backup-frequent-backup-1724072400";
    let job = JobKey::new(JobKind::Backup, "demo", failed);
    tell(&mut world, [Fact::JobVanished { job, at: t }]);
    settle_with_backend(&mut world, t);
    assert_eq!(
        session_phase(&world, failed),
        Some(BackupSessionPhase::Failed)
    );
    assert!(world
        .snapshots
        .contains_key(&ObjectKey::new("demo", SNAPSHOT)));
}

#[test]
fn a_crash_after_creating_the_instant_session_does_not_start_a_second_one() {
    let mut world = seeded_world();
    settle_with_backend(&mut world, t0());
    tell(
        &mut world,
        [Fact::Applied(object("BackupConfiguration", CONFIG))],
    );
    // Apply plans until the instant session is created, then crash before the rest.
    'crash: for _ in 0..10 {
        for effect in reconcile(&world, t0()).effects {
            apply(&mut world, &effect);
            if matches!(&effect, Effect::Apply(o) if o.kind() == Kind::BackupSession) {
                break 'crash;
            }
        }
    }
    assert_eq!(world.backup_sessions.len(), 1);
    let mut restarted = world.persisted();
    settle_with_backend(&mut restarted, at("2024-08-19T10:59:00Z"));
    assert_eq!(
        session_names(&restarted),
        [SESSION],
        "no second instant backup"
    );
}

const RESTORE: &str = r#"
apiVersion: core.kubestash.com/v1alpha1
kind: RestoreSession
metadata: {name: restore-sdb, namespace: demo}
spec:
  target: {apiGroup: kubedb.com, kind: Singlestore, namespace: demo, name: sdb-sample}
  dataSource: {repository: gcs-sdb-repo, snapshot: latest}
  addon: {name: singlestore-addon, tasks: [{name: logical-backup-restore}]}
"#;

#[test]
fn a_recreated_restore_session_runs_its_own_job() {
    let mut world = configured(CONFIG);
    backup_succeeds(&mut world, SESSION, SNAPSHOT, t0());
    let t = at("2024-08-19T12:00:00Z");
    tell(
        &mut world,
        [Fact::Applied(object("RestoreSession", RESTORE))],
    );
    settle(&mut world, t);
    let job = JobKey::new(JobKind::Restore, "demo", "restore-sdb");
    let ok = RestoreComponentResult {
        phase: cairn_core::api::ComponentPhase::Succeeded,
        duration: "1s".to_owned(),
        error: String::new(),
    };
    let result = JobResult::Restore([("dump".to_owned(), ok)].into());
    tell(
        &mut world,
        [Fact::JobSucceeded {
            job: job.clone(),
            result,
            at: t,
        }],
    );
    settle(&mut world, t);
    tell(
        &mut world,
        [Fact::Deleted {
            object: ObjectRef::new(Kind::RestoreSession, "demo", "restore-sdb"),
            at: t,
        }],
    );
    settle(&mut world, t);
    // The user restores again under the same name: a new job, not the old result.
    tell(
        &mut world,
        [Fact::Applied(object("RestoreSession", RESTORE))],
    );
    let effects = settle(&mut world, at("2024-08-19T13:00:00Z"));
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::RunJob(s) if s.key == job)));
    let status = world.restore_sessions[&ObjectKey::new("demo", "restore-sdb")]
        .status
        .clone()
        .unwrap();
    assert_ne!(status.phase, Some(cairn_core::api::RestorePhase::Succeeded));
}

/// Found by the simulator (seed 0x55993cafe94a69d0): a started BackupSession whose job has
/// not begun is still Pending; a RestoreSession into the same database must wait for it,
/// saying why, and start once it completes. Backups of the target stay paused meanwhile.
#[test]
fn a_restore_waits_for_a_started_backup_that_is_still_pending() {
    use cairn_core::reconcile::restore_session::TYPE_WAITING_FOR_BACKUP;
    let mut world = configured(CONFIG);
    backup_succeeds(&mut world, SESSION, SNAPSHOT, t0());
    let t = "2024-08-19T11:01:00Z";
    let backup = manual_session(&mut world, t);
    settle_with_backend(&mut world, at(t));
    assert_eq!(
        session_phase(&world, &backup),
        Some(BackupSessionPhase::Pending)
    );
    let backup_job = JobKey::new(JobKind::Backup, "demo", backup.clone());
    assert!(
        world.jobs.contains_key(&backup_job),
        "the backup has started"
    );

    tell(
        &mut world,
        [Fact::Applied(object("RestoreSession", RESTORE))],
    );
    let effects = settle(&mut world, at(t));
    let restore_job = JobKey::new(JobKind::Restore, "demo", "restore-sdb");
    assert!(!world.jobs.contains_key(&restore_job), "{effects:#?}");
    let status = world.restore_sessions[&ObjectKey::new("demo", "restore-sdb")]
        .status
        .clone()
        .unwrap();
    assert_eq!(status.phase, Some(cairn_core::api::RestorePhase::Pending));
    let why = message(&status.conditions, TYPE_WAITING_FOR_BACKUP);
    assert!(
        why.contains(&format!("BackupSession demo/{backup}")),
        "{why}"
    );
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Emit(ev) if ev.reason == "BackupInProgress")));

    // The backup completes; the restore starts.
    let snapshot = format!("gcs-sdb-repo-{backup}");
    backup_succeeds(&mut world, &backup, &snapshot, at("2024-08-19T11:03:00Z"));
    assert_eq!(
        session_phase(&world, &backup),
        Some(BackupSessionPhase::Succeeded)
    );
    assert!(world.jobs.contains_key(&restore_job));
    let status = world.restore_sessions[&ObjectKey::new("demo", "restore-sdb")]
        .status
        .clone()
        .unwrap();
    assert_eq!(
        cairn_core::api::condition::get_condition(&status.conditions, TYPE_WAITING_FOR_BACKUP)
            .map(|c| c.status),
        Some(cairn_core::api::condition::ConditionStatus::False)
    );

    // And a backup of the target does not start while the restore has not finished.
    let later = manual_session(&mut world, "2024-08-19T11:04:00Z");
    settle_with_backend(&mut world, at("2024-08-19T11:04:00Z"));
    assert_eq!(
        session_phase(&world, &later),
        Some(BackupSessionPhase::Skipped)
    );
    let text = skip_message(&world, &later);
    assert!(
        text.contains("RestoreSession restore-sdb restores"),
        "{text}"
    );
}
