//! Retention after a backup: plan over the repository's Snapshots of this session with
//! `plan::retention`, mark the losers `WipeOut` and delete them (their finalizer then
//! forgets the restic data).

use crate::api::backup_session::{RetentionPolicyApplyPhase, RetentionPolicyApplyStatus};
use crate::api::condition_type::*;
use crate::api::retention_policy::RetentionPolicySpec;
use crate::api::{
    BackupSessionStatus, DeletionPolicy, Kind, ObjectReference, Snapshot, SnapshotPhase,
};
use crate::effect::{Effect, Plan};
use crate::plan::{plan_retention, Candidate, CandidatePhase, KeepPolicy, RetentionPeriod};
use crate::world::{Object, ObjectKey, ObjectRef};

use super::backup_session::SessionContext;
use super::repository::snapshot_time;
use super::write::set_and_announce;

/// Applies each repository's retention policy once per session.
pub fn apply_retention(ctx: &SessionContext, status: &mut BackupSessionStatus, plan: &mut Plan) {
    let mut failures = Vec::new();
    for info in &ctx.session_config.repositories {
        if status
            .retention_policies
            .iter()
            .any(|r| r.repository == info.name)
        {
            continue;
        }
        let backend = ctx.spec.backends.iter().find(|b| b.name == info.backend);
        let Some(policy_ref) = backend.and_then(|b| b.retention_policy.clone()) else {
            continue;
        };
        let policy_ref = ObjectReference::new(
            policy_ref.namespace_or(&ctx.me.key.namespace).to_owned(),
            policy_ref.name.clone(),
        );
        let result = apply_one(ctx, &info.name, &policy_ref, plan);
        if let Err(e) = &result {
            failures.push(format!("{}: {e}", info.name));
        }
        status.retention_policies.push(RetentionPolicyApplyStatus {
            r#ref: policy_ref,
            repository: info.name.clone(),
            phase: Some(if result.is_ok() {
                RetentionPolicyApplyPhase::Applied
            } else {
                RetentionPolicyApplyPhase::FailedToApply
            }),
            error: result.err().unwrap_or_default(),
        });
    }
    let ok = failures.is_empty();
    let (reason, message) = if ok {
        (
            REASON_SUCCESSFULLY_ENSURED_RETENTION_POLICY_EXECUTOR,
            format!("retention applied for BackupSession {}", ctx.me.key),
        )
    } else {
        (
            REASON_FAILED_TO_ENSURE_RETENTION_POLICY_EXECUTOR,
            format!("retention failed for {}", failures.join("; ")),
        )
    };
    set_and_announce(
        plan,
        &ctx.me,
        &mut status.conditions,
        TYPE_RETENTION_POLICY_EXECUTOR_ENSURED,
        ok,
        reason,
        message,
        ctx.now,
    );
}

fn apply_one(
    ctx: &SessionContext,
    repository: &str,
    policy_ref: &ObjectReference,
    plan: &mut Plan,
) -> Result<(), String> {
    let key = ObjectKey::new(policy_ref.namespace.clone(), policy_ref.name.clone());
    let policy = ctx.world.retention_policies.get(&key).ok_or_else(|| {
        format!("RetentionPolicy {key} not found: create it or remove it from the backend")
    })?;
    let keep = keep_policy(&policy.spec).map_err(|e| format!("RetentionPolicy {key}: {e}"))?;
    let namespace = &ctx.me.key.namespace;
    let snapshots: Vec<&Snapshot> = ctx
        .world
        .repository_snapshots(namespace, repository)
        .filter(|s| {
            s.spec.session == ctx.session.spec.session
                && !s.spec.paused
                && s.metadata.deletion_timestamp.is_none()
        })
        .collect();
    let candidates: Vec<Candidate> = snapshots
        .iter()
        .filter_map(|s| {
            Some(Candidate {
                name: s.metadata.name.clone()?,
                time: snapshot_time(s)?,
                phase: phase_class(s),
            })
        })
        .collect();
    let decided = plan_retention(&candidates, &keep, ctx.now);
    for name in decided.to_delete() {
        let Some(snapshot) = snapshots
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(name))
        else {
            continue;
        };
        if snapshot.spec.deletion_policy != Some(DeletionPolicy::WipeOut) {
            let mut wiped = (*snapshot).clone();
            wiped.spec.deletion_policy = Some(DeletionPolicy::WipeOut);
            wiped.status = None;
            plan.push(Effect::Apply(Object::Snapshot(wiped)));
        }
        plan.push(Effect::Delete {
            object: ObjectRef::of(Kind::Snapshot, &snapshot.metadata),
            at: ctx.now,
        });
    }
    Ok(())
}

fn phase_class(snapshot: &Snapshot) -> CandidatePhase {
    match snapshot.status.as_ref().and_then(|s| s.phase) {
        Some(SnapshotPhase::Succeeded) => CandidatePhase::Succeeded,
        Some(SnapshotPhase::Failed) => CandidatePhase::Failed,
        _ => CandidatePhase::Unfinished,
    }
}

/// A RetentionPolicy spec as the planner's `KeepPolicy`.
pub fn keep_policy(spec: &RetentionPolicySpec) -> Result<KeepPolicy, String> {
    let count = |v: Option<i32>| v.map_or(0, |n| u32::try_from(n.max(0)).unwrap_or(0));
    let s = spec.successful_snapshots.clone().unwrap_or_default();
    let period = if spec.max_retention_period.is_empty() {
        None
    } else {
        Some(RetentionPeriod::parse(&spec.max_retention_period).map_err(|e| e.to_string())?)
    };
    Ok(KeepPolicy {
        last: count(s.last),
        hourly: count(s.hourly),
        daily: count(s.daily),
        weekly: count(s.weekly),
        monthly: count(s.monthly),
        yearly: count(s.yearly),
        failed_last: count(Some(spec.failed_snapshots_last())),
        max_retention_period: period,
    })
}
