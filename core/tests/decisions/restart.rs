//! The local control plane restarts on the world it saved: a job that died with it runs
//! again once, in the same session; dying a second time makes it vanished, and the
//! session fails with BackupIncomplete like any executor that died.

use cairn_core::api::condition::get_condition;
use cairn_core::api::BackupSessionPhase;
use cairn_core::drive::restart::resume_in_process_work;
use cairn_core::effect::Effect;
use cairn_core::job::{JobKey, JobKind, JobPhase};
use cairn_core::world::{Fact, ObjectKey};

use super::common::*;
use super::harness::*;

fn job() -> JobKey {
    JobKey::new(JobKind::Backup, "demo", SESSION)
}

/// The sample configuration's instant backup has started its executor.
fn running() -> cairn_core::world::World {
    let mut world = configured(CONFIG);
    tell(
        &mut world,
        [Fact::JobStarted {
            job: job(),
            at: t0(),
        }],
    );
    settle_with_backend(&mut world, t0());
    assert_eq!(world.jobs[&job()].phase, JobPhase::Running);
    world
}

#[test]
fn a_job_that_died_with_the_daemon_runs_again_once_in_the_same_session() {
    let mut world = running();
    let resumed = resume_in_process_work(&mut world, t0());
    assert_eq!(resumed.rerun, [job()]);
    assert!(resumed.vanished.is_empty());
    let spec = world.jobs[&job()].spec.clone();
    assert!(
        resumed.effects.contains(&Effect::RunJob(spec)),
        "{:?}",
        resumed.effects
    );
    assert!(resumed.effects.iter().any(|e| matches!(e,
        Effect::Emit(ev) if ev.reason == "ExecutorRestarted"
            && ev.message.contains(&format!("BackupSession demo/{SESSION}")))));
    assert_eq!(world.jobs[&job()].phase, JobPhase::Pending);
    assert_eq!(world.jobs[&job()].reruns, 1);

    // The rerun succeeds: one session, Succeeded, without any retry.
    settle_with_backend(&mut world, t0());
    tell(
        &mut world,
        [Fact::JobStarted {
            job: job(),
            at: t0(),
        }],
    );
    backup_succeeds(&mut world, SESSION, SNAPSHOT, t0());
    assert_eq!(
        session_phase(&world, SESSION),
        Some(BackupSessionPhase::Succeeded)
    );
    assert_eq!(session_names(&world), [SESSION]);
}

#[test]
fn a_job_that_dies_with_the_daemon_twice_is_gone_and_the_snapshot_is_incomplete() {
    let mut world = running();
    resume_in_process_work(&mut world, t0());
    tell(
        &mut world,
        [Fact::JobStarted {
            job: job(),
            at: t0(),
        }],
    );
    let second = resume_in_process_work(&mut world, t0());
    assert!(second.rerun.is_empty(), "{second:?}");
    assert_eq!(second.vanished, [job()]);
    assert!(second.effects.is_empty(), "{:?}", second.effects);
    settle_with_backend(&mut world, t0());
    let snapshot = &world.snapshots[&ObjectKey::new("demo", SNAPSHOT)];
    let status = snapshot.status.clone().unwrap_or_default();
    let incomplete = get_condition(&status.conditions, "BackupIncomplete")
        .unwrap_or_else(|| panic!("no BackupIncomplete: {:?}", status.conditions));
    assert_eq!(
        incomplete.reason,
        "BackupExecutorTerminatedBeforeCompletion"
    );
    assert_eq!(
        session_phase(&world, SESSION),
        Some(BackupSessionPhase::Failed)
    );
}

#[test]
fn finished_jobs_are_left_alone() {
    let mut world = running();
    backup_succeeds(&mut world, SESSION, SNAPSHOT, t0());
    let before = world.jobs.clone();
    let resumed = resume_in_process_work(&mut world, t0());
    assert_eq!(resumed, Default::default());
    assert_eq!(world.jobs, before);
}

/// Regression (found in the Kubernetes test cluster): a killed executor's "report" read back
/// from the statuses held the `Running` placeholder, so the Snapshot stayed Running for ever.
#[test]
fn a_failed_job_whose_report_is_still_running_leaves_the_snapshot_incomplete() {
    use cairn_core::api::{Component, ComponentPhase};
    use cairn_core::job::JobResult;
    let mut world = running();
    let running = Component {
        path: "repository/v1/frequent-backup/dump".to_owned(),
        phase: Some(ComponentPhase::Running),
        ..Component::default()
    };
    let result =
        JobResult::Backup([(SNAPSHOT.to_owned(), [("dump".to_owned(), running)].into())].into());
    tell(
        &mut world,
        [Fact::JobFailed {
            job: job(),
            message: "executor Job x failed: BackoffLimitExceeded".to_owned(),
            result: Some(result),
            at: t0(),
        }],
    );
    settle_with_backend(&mut world, t0());
    let status = world.snapshots[&ObjectKey::new("demo", SNAPSHOT)]
        .status
        .clone()
        .unwrap_or_default();
    let incomplete = get_condition(&status.conditions, "BackupIncomplete")
        .unwrap_or_else(|| panic!("no BackupIncomplete: {:?}", status.conditions));
    assert!(
        incomplete.message.contains("BackoffLimitExceeded"),
        "{incomplete:?}"
    );
    assert_eq!(
        session_phase(&world, SESSION),
        Some(BackupSessionPhase::Failed)
    );
}

/// The operator's restart keeps the running Job (it outlives the operator's pod and is
/// adopted), forgets what it learnt of the backend, and its next turn neither starts a
/// second executor nor loses the session: it learns the backend again and goes on.
#[test]
fn after_an_operator_restart_the_running_job_is_kept_and_the_backend_learnt_again() {
    let world = running();
    let mut restarted = cairn_core::drive::restart::operator_restart(&world);
    assert!(restarted.backends.is_empty() && restarted.hooks.is_empty());
    assert_eq!(restarted.jobs, world.jobs);
    let effects = settle_with_backend(&mut restarted, t0());
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::RunJob(_))),
        "no second executor: {effects:?}"
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::InitBackend { .. })),
        "the backend is learnt again: {effects:?}"
    );
    assert_eq!(restarted.jobs[&job()].phase, JobPhase::Running);
}
