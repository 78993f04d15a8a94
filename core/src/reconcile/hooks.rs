//! One step of a session's pre or post hooks (BackupSession and RestoreSession alike):
//! a `RunHook` effect for each applicable hook not run yet, their phases so far, and the
//! condition each stage ends with.

use crate::api::condition_type::*;
use crate::api::hook::{
    HookExecutionPhase, HookExecutionPolicy, HookExecutionStatus, HookInfo, HookStatus,
};
use crate::api::ObjectReference;
use crate::effect::{Effect, Plan};
use crate::world::{HookKey, HookOutcome, HookSpec, HookStage, ObjectRef, World};

/// Where a session's hooks of one stage stand.
#[derive(Clone, Debug, PartialEq)]
pub enum HookRound {
    /// No hook applies (none listed, or none whose execution policy matches).
    NoneApply,
    /// Some are still running and none failed.
    Running,
    /// All finished, or one failed: the names of the failed ones (empty = all succeeded).
    Done(Vec<String>),
}

/// Whether `stage` runs before the session's work.
pub fn is_pre(stage: HookStage) -> bool {
    matches!(stage, HookStage::PreBackup | HookStage::PreRestore)
}

/// Steps the hooks of `stage` for `session` and records their phases in `recorded` (its
/// pre or post list); `work_succeeded` decides which post hooks apply by their execution
/// policy (pre hooks always apply).
pub fn step_hooks(
    world: &World,
    session: &ObjectRef,
    hooks: &[HookInfo],
    stage: HookStage,
    work_succeeded: bool,
    recorded: &mut HookStatus,
    plan: &mut Plan,
) -> HookRound {
    let pre = is_pre(stage);
    let applicable: Vec<&HookInfo> = hooks
        .iter()
        .filter(|h| {
            pre || match h.execution_policy() {
                HookExecutionPolicy::Always => true,
                HookExecutionPolicy::OnSuccess => work_succeeded,
                HookExecutionPolicy::OnFailure => !work_succeeded,
            }
        })
        .collect();
    if applicable.is_empty() {
        return HookRound::NoneApply;
    }
    let mut results = Vec::new();
    for hook in &applicable {
        let key = HookKey {
            session: session.clone(),
            stage,
            name: hook.name.clone(),
        };
        let outcome = world.hooks.get(&key).map(|f| f.outcome);
        if outcome.is_none() {
            let template = hook.hook_template.clone().unwrap_or_default();
            let template = ObjectReference::new(
                template.namespace_or(&session.key.namespace).to_owned(),
                template.name.clone(),
            );
            plan.push(Effect::RunHook(HookSpec {
                key,
                template,
                params: hook.params.clone(),
                max_retry: hook.max_retry,
                timeout: hook.timeout.clone(),
            }));
        }
        let phase = match outcome {
            Some(HookOutcome::Succeeded) => HookExecutionPhase::Succeeded,
            Some(HookOutcome::Failed) => HookExecutionPhase::Failed,
            _ => HookExecutionPhase::Pending,
        };
        results.push(HookExecutionStatus {
            name: hook.name.clone(),
            phase: Some(phase),
        });
    }
    let failed: Vec<String> = results
        .iter()
        .filter(|r| r.phase == Some(HookExecutionPhase::Failed))
        .map(|r| r.name.clone())
        .collect();
    let done = results
        .iter()
        .all(|r| r.phase != Some(HookExecutionPhase::Pending));
    if pre {
        recorded.pre_hooks = results;
    } else {
        recorded.post_hooks = results;
    }
    if done || !failed.is_empty() {
        HookRound::Done(failed)
    } else {
        HookRound::Running
    }
}

/// The condition type and reason a finished `stage` sets (`ok`: all hooks succeeded).
pub fn stage_condition(stage: HookStage, ok: bool) -> (&'static str, &'static str) {
    match (stage, ok) {
        (HookStage::PreBackup, true) => (
            TYPE_PRE_BACKUP_HOOKS_EXECUTION_SUCCEEDED,
            REASON_SUCCESSFULLY_EXECUTED_PRE_BACKUP_HOOKS,
        ),
        (HookStage::PreBackup, false) => (
            TYPE_PRE_BACKUP_HOOKS_EXECUTION_SUCCEEDED,
            REASON_FAILED_TO_EXECUTE_PRE_BACKUP_HOOKS,
        ),
        (HookStage::PostBackup, true) => (
            TYPE_POST_BACKUP_HOOKS_EXECUTION_SUCCEEDED,
            REASON_SUCCESSFULLY_EXECUTED_POST_BACKUP_HOOKS,
        ),
        (HookStage::PostBackup, false) => (
            TYPE_POST_BACKUP_HOOKS_EXECUTION_SUCCEEDED,
            REASON_FAILED_TO_EXECUTE_POST_BACKUP_HOOKS,
        ),
        (HookStage::PreRestore, true) => (
            TYPE_PRE_RESTORE_HOOKS_EXECUTION_SUCCEEDED,
            REASON_SUCCESSFULLY_EXECUTED_PRE_RESTORE_HOOKS,
        ),
        (HookStage::PreRestore, false) => (
            TYPE_PRE_RESTORE_HOOKS_EXECUTION_SUCCEEDED,
            REASON_FAILED_TO_EXECUTE_PRE_RESTORE_HOOKS,
        ),
        (HookStage::PostRestore, true) => (
            TYPE_POST_RESTORE_HOOKS_EXECUTION_SUCCEEDED,
            REASON_SUCCESSFULLY_EXECUTED_POST_RESTORE_HOOKS,
        ),
        (HookStage::PostRestore, false) => (
            TYPE_POST_RESTORE_HOOKS_EXECUTION_SUCCEEDED,
            REASON_FAILED_TO_EXECUTE_POST_RESTORE_HOOKS,
        ),
    }
}

/// The condition message for a finished round.
pub fn hooks_message(failed: &[String]) -> String {
    if failed.is_empty() {
        "all hooks succeeded".to_owned()
    } else {
        format!(
            "hook(s) {} failed: see the HookTemplate and the hook's output",
            failed.join(", ")
        )
    }
}
