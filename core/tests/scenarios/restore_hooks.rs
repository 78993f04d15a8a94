//! preRestore and postRestore hooks: the pre hook runs before the restore job and can stop
//! it; post hooks run after the data is in, chosen by their execution policy.

use cairn_core::api::condition::ConditionStatus;
use cairn_core::api::restore_session::RestorePhase;
use cairn_core::api::ComponentPhase;
use cairn_core::api::{Kind, RestoreSessionStatus};
use cairn_core::effect::Effect;
use cairn_core::job::{JobKey, JobKind, JobResult, RestoreComponentResult};
use cairn_core::world::{Fact, HookKey, HookOutcome, HookStage, ObjectKey, ObjectRef, World};
use std::collections::BTreeMap;

use super::harness::*;
use super::restore_story::{backed_up_world, RESTORE, RESTORED_APP};

/// The story's RestoreSession under another name, with hooks.
fn restore_with_hooks() -> String {
    RESTORE.replace("restore-sample-singlestore", "restore-with-hooks")
        + r#"  hooks:
    preRestore:
      - {name: stop-writers, hookTemplate: {name: stop-writers, namespace: demo}}
    postRestore:
      - {name: analyze-tables, hookTemplate: {name: analyze, namespace: demo}, executionPolicy: OnSuccess}
      - {name: page-oncall, hookTemplate: {name: page, namespace: demo}, executionPolicy: OnFailure}
"#
}

fn me() -> ObjectRef {
    ObjectRef::new(Kind::RestoreSession, "demo", "restore-with-hooks")
}

fn job() -> JobKey {
    JobKey::new(JobKind::Restore, "demo", "restore-with-hooks")
}

fn hook(stage: HookStage, name: &str) -> HookKey {
    HookKey {
        session: me(),
        stage,
        name: name.to_owned(),
    }
}

fn hooks_run(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::RunHook(spec) => Some(spec.key.name.clone()),
            _ => None,
        })
        .collect()
}

fn status(world: &World) -> RestoreSessionStatus {
    world.restore_sessions[&ObjectKey::new("demo", "restore-with-hooks")]
        .status
        .clone()
        .unwrap_or_default()
}

fn condition(status: &RestoreSessionStatus, type_: &str) -> (ConditionStatus, String) {
    let c = status
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .unwrap_or_else(|| panic!("no {type_} in {:?}", status.conditions));
    (c.status, c.message.clone())
}

fn applied(t: chrono::DateTime<chrono::Utc>) -> (World, Vec<Effect>) {
    let mut world = backed_up_world();
    tell(
        &mut world,
        [
            Fact::Applied(object("AppBinding", RESTORED_APP)),
            Fact::Applied(object("RestoreSession", &restore_with_hooks())),
        ],
    );
    let effects = settle(&mut world, t);
    (world, effects)
}

fn finished(world: &mut World, hook: HookKey, outcome: HookOutcome) {
    tell(
        world,
        [Fact::HookFinished {
            hook,
            outcome,
            message: String::new(),
        }],
    );
}

#[test]
fn the_pre_hook_runs_first_then_the_job_then_the_post_hook_for_success() {
    let t = at("2024-08-19T12:00:00Z");
    let (mut world, effects) = applied(t);
    assert_eq!(hooks_run(&effects), ["stop-writers"]);
    assert!(
        !world.jobs.contains_key(&job()),
        "no job before the pre hook"
    );
    assert_eq!(status(&world).phase, Some(RestorePhase::Pending));

    finished(
        &mut world,
        hook(HookStage::PreRestore, "stop-writers"),
        HookOutcome::Succeeded,
    );
    settle(&mut world, t);
    assert!(
        world.jobs.contains_key(&job()),
        "the job starts after the pre hook"
    );
    let (ok, _) = condition(&status(&world), "PreRestoreHooksExecutionSucceeded");
    assert_eq!(ok, ConditionStatus::True);

    let t2 = at("2024-08-19T12:01:00Z");
    let result = RestoreComponentResult {
        phase: ComponentPhase::Succeeded,
        duration: "58s".to_owned(),
        error: String::new(),
    };
    tell(
        &mut world,
        [Fact::JobSucceeded {
            job: job(),
            result: JobResult::Restore(BTreeMap::from([("dump".to_owned(), result)])),
            at: t2,
        }],
    );
    let effects = settle(&mut world, t2);
    assert_eq!(hooks_run(&effects), ["analyze-tables"], "OnSuccess only");
    assert_eq!(
        status(&world).phase,
        Some(RestorePhase::Running),
        "waits for the post hook"
    );

    finished(
        &mut world,
        hook(HookStage::PostRestore, "analyze-tables"),
        HookOutcome::Succeeded,
    );
    settle(&mut world, t2);
    let st = status(&world);
    assert_eq!(st.phase, Some(RestorePhase::Succeeded));
    assert_eq!(
        condition(&st, "PostRestoreHooksExecutionSucceeded").0,
        ConditionStatus::True
    );
    assert_eq!(st.hooks.pre_hooks.len(), 1);
    assert_eq!(st.hooks.post_hooks.len(), 1);
}

#[test]
fn a_failed_pre_hook_stops_the_restore_before_any_data_is_written() {
    let t = at("2024-08-19T12:00:00Z");
    let (mut world, _) = applied(t);
    finished(
        &mut world,
        hook(HookStage::PreRestore, "stop-writers"),
        HookOutcome::Failed,
    );
    settle(&mut world, t);
    assert!(
        !world.jobs.contains_key(&job()),
        "no restore job after a failed pre hook"
    );
    let st = status(&world);
    assert_eq!(st.phase, Some(RestorePhase::Failed));
    let (ok, message) = condition(&st, "PreRestoreHooksExecutionSucceeded");
    assert_eq!(ok, ConditionStatus::False);
    assert!(
        message.contains("stop-writers") && message.contains("demo/restore-with-hooks"),
        "{message}"
    );
}

#[test]
fn a_failed_restore_runs_the_on_failure_hook_and_stays_failed() {
    let t = at("2024-08-19T12:00:00Z");
    let (mut world, _) = applied(t);
    finished(
        &mut world,
        hook(HookStage::PreRestore, "stop-writers"),
        HookOutcome::Succeeded,
    );
    settle(&mut world, t);
    let result = RestoreComponentResult {
        phase: ComponentPhase::Failed,
        duration: "3s".to_owned(),
        error: "table t: connection lost".to_owned(),
    };
    tell(
        &mut world,
        [Fact::JobSucceeded {
            job: job(),
            result: JobResult::Restore(BTreeMap::from([("dump".to_owned(), result)])),
            at: t,
        }],
    );
    let effects = settle(&mut world, t);
    assert_eq!(hooks_run(&effects), ["page-oncall"], "OnFailure only");
    finished(
        &mut world,
        hook(HookStage::PostRestore, "page-oncall"),
        HookOutcome::Succeeded,
    );
    settle(&mut world, t);
    assert_eq!(status(&world).phase, Some(RestorePhase::Failed));
}

fn template(name: &str, executor: &str) -> String {
    format!(
        r#"apiVersion: core.kubestash.com/v1alpha1
kind: HookTemplate
metadata: {{name: {name}, namespace: demo}}
spec:
  action:
    httpPost: {{host: chat.example, port: 443, scheme: HTTPS, path: /hooks/backup}}
  executor: {{type: {executor}}}
"#
    )
}

/// An operator world with the story's hooks, `stop-writers` of executor `executor`.
fn operator_world(executor: &str) -> World {
    let mut world = backed_up_world();
    world.hook_runner = cairn_core::reconcile::hook_support::HookRunner::Operator;
    tell(
        &mut world,
        [
            Fact::Applied(object("HookTemplate", &template("stop-writers", executor))),
            Fact::Applied(object("AppBinding", RESTORED_APP)),
            Fact::Applied(object("RestoreSession", &restore_with_hooks())),
        ],
    );
    world
}

#[test]
fn in_the_operator_a_hook_of_executor_pod_makes_the_restore_invalid_before_anything_runs() {
    let mut world = operator_world("Pod");
    let effects = settle(&mut world, at("2024-08-19T12:00:00Z"));
    assert!(hooks_run(&effects).is_empty(), "no hook runs");
    assert!(!world.jobs.contains_key(&job()), "no restore job");
    let status = status(&world);
    assert_eq!(status.phase, Some(RestorePhase::Invalid));
    let (_, message) = condition(&status, "ValidationPassed");
    assert!(
        message.contains("spec.hooks.preRestore hook \"stop-writers\"")
            && message.contains("spec.executor.type Pod")
            && message.contains("use type Operator"),
        "{message}"
    );
}

#[test]
fn in_the_operator_a_hook_of_executor_operator_runs() {
    let mut world = operator_world("Operator");
    let effects = settle(&mut world, at("2024-08-19T12:00:00Z"));
    assert_eq!(hooks_run(&effects), ["stop-writers"]);
    assert_eq!(status(&world).phase, Some(RestorePhase::Pending));
}

#[test]
fn the_local_daemon_runs_a_hook_of_any_executor_type() {
    let mut world = operator_world("Pod");
    world.hook_runner = cairn_core::reconcile::hook_support::HookRunner::Local;
    let effects = settle(&mut world, at("2024-08-19T12:00:00Z"));
    assert_eq!(hooks_run(&effects), ["stop-writers"]);
}
