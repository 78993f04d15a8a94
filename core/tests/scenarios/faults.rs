//! One test per fault: what the user sees when something goes wrong.

use cairn_core::api::{BackupSessionPhase, BackupStoragePhase, SnapshotPhase};
use cairn_core::effect::Effect;
use cairn_core::job::{JobKey, JobKind};
use cairn_core::reconcile::reconcile;
use cairn_core::world::{Fact, ObjectKey, Outcome, Secret, World};
use std::collections::BTreeMap;

use super::harness::*;

const SESSION: &str = "sample-sdb-backup-frequent-backup-1724065100";
const SNAPSHOT: &str = "gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065100";

fn world_with(config: &str) -> World {
    let mut world = seeded_world();
    let t0 = at("2024-08-19T10:58:20Z");
    settle_with_backend(&mut world, t0);
    tell(
        &mut world,
        [Fact::Applied(object("BackupConfiguration", config))],
    );
    settle_with_backend(&mut world, t0);
    world
}

fn session_phase(world: &World, name: &str) -> Option<BackupSessionPhase> {
    world.backup_sessions[&ObjectKey::new("demo", name)]
        .status
        .as_ref()?
        .phase
}

#[test]
fn executor_vanished_fails_the_snapshot_and_the_session() {
    let mut world = world_with(CONFIG);
    let job = JobKey::new(JobKind::Backup, "demo", SESSION);
    let t = at("2024-08-19T10:58:30Z");
    tell(
        &mut world,
        [
            Fact::JobStarted {
                job: job.clone(),
                at: t,
            },
            Fact::JobVanished { job, at: t },
        ],
    );
    let effects = settle_with_backend(&mut world, t);
    pin("fault_executor_vanished", &effects);
    let snap = world.snapshots[&ObjectKey::new("demo", SNAPSHOT)]
        .status
        .clone()
        .unwrap();
    assert_eq!(snap.phase, Some(SnapshotPhase::Failed));
    assert!(snap
        .conditions
        .iter()
        .any(|c| c.type_ == "BackupIncomplete"
            && c.reason == "BackupExecutorTerminatedBeforeCompletion"));
    assert_eq!(
        session_phase(&world, SESSION),
        Some(BackupSessionPhase::Failed)
    );
}

#[test]
fn storage_init_failure_is_reported_and_retried() {
    let mut world = seeded_world();
    let t = at("2024-08-19T10:00:00Z");
    settle(&mut world, t);
    let storage = ObjectKey::new("demo", "gcs-storage");
    let failed = Outcome::Failed("403 Forbidden: bucket kubestash-qa".to_owned());
    tell(
        &mut world,
        [Fact::BackendInitialized {
            storage: storage.clone(),
            outcome: failed,
            at: t,
            repositories: BTreeMap::new(),
            snapshots: BTreeMap::new(),
        }],
    );
    let effects = settle(&mut world, t);
    pin("fault_storage_init_failed", &effects);
    assert_eq!(
        world.backup_storages[&storage].calculate_phase(),
        BackupStoragePhase::NotReady
    );
    let plan = reconcile(&world, t);
    assert_eq!(plan.next_wakeup, Some(at("2024-08-19T10:00:30Z")));
    let later = reconcile(&world, at("2024-08-19T10:00:30Z"));
    assert!(
        later
            .effects
            .iter()
            .any(|e| matches!(e, Effect::InitBackend { .. })),
        "retried after 30s"
    );
}

#[test]
fn wrong_secret_names_the_missing_keys_and_never_the_values() {
    let mut world = seeded_world();
    tell(
        &mut world,
        [Fact::SecretApplied(Secret::new(
            "demo",
            "gcs-secret",
            [("GOOGLE_PROJECT_ID", "appscode-testing")],
        ))],
    );
    let t = at("2024-08-19T10:00:00Z");
    let effects = settle(&mut world, t);
    pin("fault_wrong_secret", &effects);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::InitBackend { .. })),
        "no init without credentials"
    );
    let status = world.backup_storages[&ObjectKey::new("demo", "gcs-storage")]
        .status
        .clone()
        .unwrap();
    let message = &status
        .conditions
        .iter()
        .find(|c| c.type_ == "BackendSecretFound")
        .unwrap()
        .message;
    assert!(
        message.contains("GOOGLE_SERVICE_ACCOUNT_JSON_KEY"),
        "{message}"
    );
    assert!(!message.contains("appscode-testing"));
}

#[test]
fn deadline_exceeded_cancels_the_job_and_fails_the_session() {
    let config = CONFIG.replace(
        "  - name: frequent-backup\n",
        "  - name: frequent-backup\n    backupTimeout: 1m\n",
    );
    let mut world = world_with(&config);
    let job = JobKey::new(JobKind::Backup, "demo", SESSION);
    tell(
        &mut world,
        [Fact::JobStarted {
            job: job.clone(),
            at: at("2024-08-19T10:58:30Z"),
        }],
    );
    settle(&mut world, at("2024-08-19T10:58:30Z"));
    assert_eq!(
        reconcile(&world, at("2024-08-19T10:58:30Z")).next_wakeup,
        Some(at("2024-08-19T10:59:20Z"))
    );
    let effects = settle_with_backend(&mut world, at("2024-08-19T10:59:20Z"));
    pin("fault_deadline_exceeded", &effects);
    assert!(effects.contains(&Effect::CancelJob(job)));
    assert_eq!(
        session_phase(&world, SESSION),
        Some(BackupSessionPhase::Failed)
    );
}

#[test]
fn failed_session_is_retried_after_the_delay() {
    let config = CONFIG.replace(
        "  - name: frequent-backup\n",
        "  - name: frequent-backup\n    retryConfig: {maxRetry: 1, delay: 1m}\n",
    );
    let mut world = world_with(&config);
    let job = JobKey::new(JobKind::Backup, "demo", SESSION);
    let t = at("2024-08-19T10:58:30Z");
    tell(&mut world, [Fact::JobVanished { job, at: t }]);
    settle_with_backend(&mut world, t);
    let status = world.backup_sessions[&ObjectKey::new("demo", SESSION)]
        .status
        .clone()
        .unwrap();
    assert_eq!(status.phase, Some(BackupSessionPhase::Failed));
    assert_eq!(status.next_retry, Some(at("2024-08-19T10:59:30Z")));
    let effects = settle_with_backend(&mut world, at("2024-08-19T10:59:30Z"));
    pin("fault_retry", &effects);
    let retry = &world.backup_sessions
        [&ObjectKey::new("demo", "sample-sdb-backup-frequent-backup-1724065170")];
    assert_eq!(retry.spec.retry_left, 0);
    assert_eq!(
        world.backup_sessions[&ObjectKey::new("demo", SESSION)]
            .status
            .as_ref()
            .unwrap()
            .retried,
        Some(true)
    );
}

#[test]
fn restart_reconciles_from_the_persisted_world_only() {
    let mut world = seeded_world();
    let t = at("2024-08-19T10:00:00Z");
    let first = settle(&mut world, t);
    assert!(first
        .iter()
        .any(|e| matches!(e, Effect::InitBackend { .. })));
    // Crash before the adapter answered: the in-flight table is lost, the request is
    // simply made again (idempotent create-if-absent).
    let restarted = world.persisted();
    let again = reconcile(&restarted, t);
    assert_eq!(
        again
            .effects
            .iter()
            .filter(|e| matches!(e, Effect::InitBackend { .. }))
            .count(),
        1
    );
    // A settled world stays settled after a restart: no duplicate session, job or write.
    let mut settled = world_with(CONFIG);
    let now = at("2024-08-19T10:58:20Z");
    let restarted = settled.persisted();
    assert!(
        reconcile(&restarted, now).effects.is_empty(),
        "{:#?}",
        reconcile(&restarted, now).effects
    );
    assert!(settle(&mut settled, now).is_empty());
}

#[test]
fn a_refused_write_holds_back_its_own_object_only_and_is_retried_after_its_backoff() {
    use cairn_core::api::Kind;
    use cairn_core::drive::backoff::{subject, Backoff};
    use cairn_core::drive::settle::{Checks, Rounds};
    use cairn_core::world::ObjectRef;

    let mut world = seeded_world();
    let t0 = at("2024-08-19T10:58:20Z");
    settle_with_backend(&mut world, t0);
    tell(
        &mut world,
        [Fact::Applied(object("BackupConfiguration", CONFIG))],
    );
    // The API server refuses every write to the BackupConfiguration (a webhook down,
    // a quota): its Repository and the storage's other work still go through.
    let config = ObjectRef::new(Kind::BackupConfiguration, "demo", "sample-sdb-backup");
    let mut backoff = Backoff::default();
    let mut rounds = Rounds::holding(Checks::AtRest, backoff.waiting(t0));
    let mut refused = 0;
    let mut done = Vec::new();
    while let Some(effect) = rounds.next(&world, t0) {
        if subject(&effect) == config {
            refused += 1;
            backoff.refused(subject(&effect), t0);
            rounds.refused(&effect);
        } else {
            done.push(subject(&effect));
            rounds.carried_out(&mut world, effect);
        }
    }
    let turn = rounds.finish();
    assert_eq!(
        refused, 1,
        "one refusal, then the object waits for the rest of the turn"
    );
    assert!(turn.broken.is_none(), "{:?}", turn.broken);
    assert_eq!(turn.held, [config.clone()].into());
    assert!(
        done.iter().any(|s| s.kind == Kind::Repository),
        "the Repository is created although its configuration's status write was refused: {done:?}"
    );

    // Before its retry time, a new turn leaves the configuration alone.
    let t1 = t0 + chrono::Duration::milliseconds(100);
    let mut rounds = Rounds::holding(Checks::AtRest, backoff.waiting(t1));
    while let Some(effect) = rounds.next(&world, t1) {
        assert_ne!(subject(&effect), config, "retried before its backoff ended");
        rounds.carried_out(&mut world, effect);
    }
    assert_eq!(rounds.finish().held, [config.clone()].into());
    // After it, the write goes through and the world settles.
    let t2 = backoff.next_retry(t1).unwrap();
    let mut rounds = Rounds::holding(Checks::AtRest, backoff.waiting(t2));
    let mut retried = false;
    while let Some(effect) = rounds.next(&world, t2) {
        retried |= subject(&effect) == config;
        rounds.carried_out(&mut world, effect);
    }
    backoff.accepted(&config);
    let turn = rounds.finish();
    assert!(
        retried && turn.held.is_empty() && turn.broken.is_none(),
        "{turn:?}"
    );
}

/// Regression (found by the test cluster's API-fault scenario): the configuration's
/// status write that says Ready was refused, but the instant BackupSession planned with
/// it was created; the session, reading a configuration the server still called not
/// Ready, was Skipped, and every later turn created another under a new name. Sessions
/// now start only once Ready is written.
#[test]
fn a_refused_ready_status_starts_no_session_until_it_is_written() {
    use cairn_core::api::Kind;
    use cairn_core::drive::backoff::{subject, Backoff};
    use cairn_core::drive::settle::{Checks, Rounds};
    use cairn_core::world::ObjectRef;

    let mut world = seeded_world();
    let t0 = at("2024-08-19T10:58:20Z");
    settle_with_backend(&mut world, t0);
    tell(
        &mut world,
        [Fact::Applied(object("BackupConfiguration", CONFIG))],
    );
    let config = ObjectRef::new(Kind::BackupConfiguration, "demo", "sample-sdb-backup");
    let mut backoff = Backoff::default();
    let turn_at = |world: &mut World, now, refuse_ready: bool, backoff: &mut Backoff| {
        let mut rounds = Rounds::holding(Checks::AtRest, backoff.waiting(now));
        while let Some(effect) = rounds.next(world, now) {
            let ready = matches!(&effect, Effect::PatchStatus { object, status }
                if *object == config && format!("{status:?}").contains("phase: Some(Ready)"));
            if refuse_ready && ready {
                backoff.refused(subject(&effect), now);
                rounds.refused(&effect);
            } else {
                rounds.carried_out(world, effect);
            }
        }
        let backend = backend_answers(&rounds.finish().effects, now);
        tell(world, backend);
    };
    turn_at(&mut world, t0, true, &mut backoff);
    assert!(
        world.backup_sessions.is_empty(),
        "no session while Ready is unwritten: {:?}",
        world.backup_sessions.keys().collect::<Vec<_>>()
    );
    let t1 = backoff.next_retry(t0).unwrap();
    turn_at(&mut world, t1, false, &mut backoff);
    settle_with_backend(&mut world, t1);
    let sessions: Vec<_> = world.backup_sessions.values().collect();
    assert_eq!(sessions.len(), 1, "one instant session");
    assert_ne!(
        sessions[0].status.as_ref().and_then(|s| s.phase),
        Some(BackupSessionPhase::Skipped),
        "{:?}",
        sessions[0].status
    );
}
