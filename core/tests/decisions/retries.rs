//! Bounded retries and waits: Snapshot YAML uploads retried with backoff before the
//! Snapshot fails, and a BackupSession that cannot get a Ready repository failing at its
//! deadline so later slots run.

use cairn_core::api::condition::get_condition;
use cairn_core::api::{BackupSessionPhase, SnapshotPhase, SnapshotStatus};
use cairn_core::effect::Effect;
use cairn_core::job::{JobKey, JobKind, JobResult};
use cairn_core::reconcile::reconcile;
use cairn_core::reconcile::snapshot::{
    metadata_upload_backoff, METADATA_UPLOAD_ATTEMPTS, TYPE_SNAPSHOT_METADATA_UPLOAD_RETRIED,
};
use cairn_core::world::{Fact, ObjectKey, Outcome, World};
use chrono::{DateTime, Duration, Utc};

use super::common::*;
use super::harness::*;

const PATH: &str =
    "singlestore/snapshots/gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065100.yaml";

fn storage() -> ObjectKey {
    ObjectKey::new("demo", "gcs-storage")
}

fn snapshot_status(world: &World) -> SnapshotStatus {
    world.snapshots[&ObjectKey::new("demo", SNAPSHOT)]
        .status
        .clone()
        .unwrap_or_default()
}

/// The instant session's job succeeds; its Snapshot YAML upload is requested but not
/// answered yet.
fn job_done(world: &mut World, now: DateTime<Utc>) -> Vec<Effect> {
    let result = JobResult::Backup(
        [(
            SNAPSHOT.to_owned(),
            [("dump".to_owned(), dump(&"a".repeat(64)))].into(),
        )]
        .into(),
    );
    tell(
        world,
        [Fact::JobSucceeded {
            job: JobKey::new(JobKind::Backup, "demo", SESSION),
            result,
            at: now,
        }],
    );
    settle(world, now)
}

fn uploads(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::UploadSnapshotMetadata { .. }))
        .count()
}

fn answer_upload(world: &mut World, outcome: Outcome, now: DateTime<Utc>) -> Vec<Effect> {
    tell(
        world,
        [Fact::SnapshotMetadataUploaded {
            storage: storage(),
            snapshot: ObjectKey::new("demo", SNAPSHOT),
            path: PATH.to_owned(),
            outcome,
            at: now,
        }],
    );
    settle(world, now)
}

#[test]
fn upload_backoff_grows_from_ten_seconds_to_five_minutes() {
    let waits: Vec<i64> = (1..=6)
        .map(|n| metadata_upload_backoff(n).num_seconds())
        .collect();
    assert_eq!(waits, [10, 40, 160, 300, 300, 300]);
}

#[test]
fn a_failed_snapshot_yaml_upload_is_retried_and_the_backup_succeeds() {
    let mut world = configured(CONFIG);
    let t = at("2024-08-19T11:00:00Z");
    assert_eq!(uploads(&job_done(&mut world, t)), 1);
    let effects = answer_upload(
        &mut world,
        Outcome::Failed("503 Service Unavailable".to_owned()),
        t,
    );
    assert_eq!(uploads(&effects), 0, "no retry before the backoff");
    let status = snapshot_status(&world);
    assert_eq!(status.phase, Some(SnapshotPhase::Running));
    let retried = get_condition(&status.conditions, TYPE_SNAPSHOT_METADATA_UPLOAD_RETRIED)
        .unwrap()
        .message
        .clone();
    assert!(retried.starts_with("attempt 1/5 failed at"), "{retried}");
    assert!(
        retried.contains(PATH) && retried.contains("demo/gcs-storage"),
        "{retried}"
    );
    assert!(world
        .events
        .iter()
        .any(|e| e.reason == "SnapshotMetadataUploadFailed"));
    assert_eq!(
        reconcile(&world, t).next_wakeup,
        Some(t + Duration::seconds(10))
    );

    let retry = t + Duration::seconds(10);
    let effects = settle(&mut world, retry);
    assert_eq!(uploads(&effects), 1, "retried after 10 s");
    answer_upload(&mut world, Outcome::Ok, retry);
    settle_with_backend(&mut world, retry);
    assert_eq!(
        snapshot_status(&world).phase,
        Some(SnapshotPhase::Succeeded)
    );
    assert_eq!(
        session_phase(&world, SESSION),
        Some(BackupSessionPhase::Succeeded)
    );
}

#[test]
fn snapshot_yaml_upload_gives_up_after_five_failures_even_across_restarts() {
    let mut world = configured(CONFIG);
    let mut t = at("2024-08-19T11:00:00Z");
    job_done(&mut world, t);
    let mut waits = Vec::new();
    for attempt in 1..=METADATA_UPLOAD_ATTEMPTS {
        answer_upload(&mut world, Outcome::Failed("503 SlowDown".to_owned()), t);
        // A restart between attempts loses in-flight requests but not the count.
        world = world.persisted();
        if attempt == METADATA_UPLOAD_ATTEMPTS {
            break;
        }
        assert_eq!(
            snapshot_status(&world).phase,
            Some(SnapshotPhase::Running),
            "attempt {attempt}"
        );
        let retry_at = t + metadata_upload_backoff(attempt);
        let wakeup = reconcile(&world, t).next_wakeup.unwrap();
        assert!(
            wakeup <= retry_at,
            "attempt {attempt}: {wakeup} > {retry_at}"
        );
        assert_eq!(
            uploads(&settle(&mut world, retry_at - Duration::seconds(1))),
            0
        );
        waits.push((retry_at - t).num_seconds());
        t = retry_at;
        assert_eq!(uploads(&settle(&mut world, t)), 1, "attempt {attempt}");
    }
    assert_eq!(waits, [10, 40, 160, 300]);
    let status = snapshot_status(&world);
    assert_eq!(status.phase, Some(SnapshotPhase::Failed));
    let why = message(&status.conditions, "SnapshotMetadataUploaded");
    assert!(why.contains(PATH), "{why}");
    assert!(why.contains("BackupStorage demo/gcs-storage"), "{why}");
    assert!(why.contains("failed 5 times"), "{why}");
    settle_with_backend(&mut world, t);
    assert_eq!(
        session_phase(&world, SESSION),
        Some(BackupSessionPhase::Failed)
    );
    assert_eq!(uploads(&settle(&mut world, t + Duration::hours(1))), 0);
}

#[test]
fn a_session_waiting_for_its_repository_fails_at_its_deadline_and_later_slots_run() {
    let mut world = seeded_world();
    let t0 = at("2024-08-19T10:58:20Z");
    settle_with_backend(&mut world, t0);
    tell(
        &mut world,
        [Fact::Applied(object("BackupConfiguration", CONFIG))],
    );
    // The storage is reachable for metadata.yaml, then writing repository.yaml keeps
    // failing: a lasting outage.
    let outage = |world: &mut World, now| {
        for _ in 0..5 {
            let effects = settle(world, now);
            let answers: Vec<Fact> = backend_answers(&effects, now)
                .into_iter()
                .map(|f| match f {
                    Fact::RepositoryInitialized {
                        storage, path, at, ..
                    } => Fact::RepositoryInitialized {
                        storage,
                        path,
                        outcome: Outcome::Failed("503 Service Unavailable".to_owned()),
                        at,
                    },
                    other => other,
                })
                .collect();
            if answers.is_empty() {
                return;
            }
            tell(world, answers);
        }
    };
    outage(&mut world, t0);
    assert_eq!(
        session_phase(&world, SESSION),
        None,
        "the instant session waits, Pending, without status"
    );
    let deadline = t0 + Duration::minutes(30);
    let mut now = t0;
    while now < deadline {
        now = reconcile(&world, now).next_wakeup.unwrap().min(deadline);
        outage(&mut world, now);
    }
    assert_eq!(
        session_phase(&world, SESSION),
        Some(BackupSessionPhase::Failed)
    );
    let status = world.backup_sessions[&ObjectKey::new("demo", SESSION)]
        .status
        .clone()
        .unwrap();
    let why = message(&status.conditions, "SnapshotsEnsured");
    assert!(
        why.contains("gave up waiting for its repositories"),
        "{why}"
    );
    assert!(
        why.contains("Repository demo/gcs-sdb-repo is not Ready"),
        "{why}"
    );
    assert!(why.contains("503 Service Unavailable"), "{why}");
    // Storage back: the next slot is not skipped behind the failed one.
    let later = at("2024-08-19T11:35:00Z");
    settle_with_backend(&mut world, later);
    let next = "sample-sdb-backup-frequent-backup-1724067300";
    let phase = session_phase(&world, next);
    assert!(
        matches!(
            phase,
            Some(BackupSessionPhase::Pending | BackupSessionPhase::Running)
        ),
        "{phase:?} {:?}",
        session_names(&world)
    );
    assert!(world
        .jobs
        .contains_key(&JobKey::new(JobKind::Backup, "demo", next)));
}
