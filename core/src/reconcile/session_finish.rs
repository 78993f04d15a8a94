//! The last steps of a BackupSession once its snapshots are done: post-hooks,
//! retention, history cleanup and the final `MetricsPushed`; then retries.

use chrono::{DateTime, Utc};

use crate::api::condition::{get_condition, has_condition};
use crate::api::condition_type::*;
use crate::api::{BackupSession, BackupSessionPhase, BackupSessionStatus, Kind};
use crate::effect::{Effect, Plan};
use crate::plan::GoDuration;
use crate::world::object::created_at;
use crate::world::{Object, ObjectKey, ObjectRef, World};

use super::backup_session::SessionContext;
use super::retention::apply_retention;
use super::session_steps::run_hooks;
use super::trigger::new_backup_session;
use super::write::set_and_announce;

/// Runs the finishing steps in order; each waits for the one before.
pub fn finish(ctx: &SessionContext, status: &mut BackupSessionStatus, plan: &mut Plan) {
    let hooks = ctx.session_config.hooks.clone().unwrap_or_default();
    if run_hooks(ctx, status, &hooks.post_backup, false, plan).is_none() {
        return;
    }
    if status.phase_from_snapshots() != BackupSessionPhase::Pending {
        apply_retention(ctx, status, plan);
    }
    clean_history(ctx, status, plan);
    if !has_condition(&status.conditions, TYPE_METRICS_PUSHED) {
        let message = format!("metrics of BackupSession {} recorded", ctx.me.key);
        super::write::set_quietly(
            &mut status.conditions,
            TYPE_METRICS_PUSHED,
            true,
            REASON_SUCCESSFULLY_PUSHED_METRICS,
            message,
            ctx.now,
        );
    }
    if status.calculate_phase() == BackupSessionPhase::Failed && ctx.session.spec.retry_left > 0 {
        let delay = ctx
            .session_config
            .retry_config
            .as_ref()
            .and_then(|r| GoDuration::parse(&r.delay).ok());
        status.next_retry =
            Some(ctx.now + delay.map_or(chrono::Duration::zero(), GoDuration::to_chrono));
    }
}

/// Deletes completed sessions beyond `sessionHistoryLimit` (this one counts as kept);
/// sessions still waiting for their retry are kept.
fn clean_history(ctx: &SessionContext, status: &mut BackupSessionStatus, plan: &mut Plan) {
    if has_condition(&status.conditions, TYPE_SESSION_HISTORY_CLEANED) {
        return;
    }
    let limit = usize::try_from(ctx.session_config.session_history_limit().max(1)).unwrap_or(1);
    let cfg = ctx.config.metadata.name.clone().unwrap_or_default();
    let mut completed: Vec<&BackupSession> = ctx
        .world
        .configuration_sessions(&ctx.me.key.namespace, &cfg, &ctx.session.spec.session)
        .filter(|s| s.metadata.name != ctx.session.metadata.name && s.is_completed())
        .filter(|s| s.metadata.deletion_timestamp.is_none() && !retry_pending(s))
        .collect();
    completed
        .sort_by_key(|s| std::cmp::Reverse((created_at(&s.metadata), s.metadata.name.clone())));
    let doomed: Vec<&BackupSession> = completed.into_iter().skip(limit - 1).collect();
    for old in &doomed {
        plan.push(Effect::Delete {
            object: ObjectRef::of(Kind::BackupSession, &old.metadata),
            at: ctx.now,
        });
    }
    let message = format!(
        "removed {} old BackupSession(s), keeping {limit}",
        doomed.len()
    );
    set_and_announce(
        plan,
        &ctx.me,
        &mut status.conditions,
        TYPE_SESSION_HISTORY_CLEANED,
        true,
        REASON_SUCCESSFULLY_CLEANED_SESSION_HISTORY,
        message,
        ctx.now,
    );
}

/// Whether a failed session still owes a retry.
pub fn retry_pending(session: &BackupSession) -> bool {
    let status = session.status.clone().unwrap_or_default();
    status.phase == Some(BackupSessionPhase::Failed)
        && session.spec.retry_left > 0
        && status.retried != Some(true)
}

/// Creates the retry session of a failed run once `nextRetry` has come.
pub fn maybe_retry(
    world: &World,
    session: &BackupSession,
    status: &mut BackupSessionStatus,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    if !retry_pending(session) {
        return;
    }
    let Some(at) = status.next_retry else { return };
    if now < at {
        plan.wake_at(at);
        return;
    }
    let namespace = session.metadata.namespace.clone().unwrap_or_default();
    let Some(invoker) = session.spec.invoker.as_ref() else {
        return;
    };
    let Some(config) = world
        .backup_configurations
        .get(&ObjectKey::new(namespace, invoker.name.clone()))
    else {
        return;
    };
    let Some(session_config) = config
        .spec
        .sessions
        .iter()
        .find(|s| s.name == session.spec.session)
    else {
        return;
    };
    let retry = new_backup_session(config, session_config, at, session.spec.retry_left - 1);
    let me = ObjectRef::of(Kind::BackupSession, &session.metadata);
    let message = format!(
        "BackupSession {} failed; retrying as {} ({} retries left after it)",
        me.key,
        retry.metadata.name.clone().unwrap_or_default(),
        session.spec.retry_left - 1
    );
    plan.push(Effect::Apply(Object::BackupSession(retry)));
    plan.push(Effect::Emit(crate::event::Event::normal(
        me,
        "BackupSessionRetried",
        message,
    )));
    status.retried = Some(true);
}

/// When the session reached its final step, if it did.
pub fn finished_at(status: &BackupSessionStatus) -> Option<DateTime<Utc>> {
    get_condition(&status.conditions, TYPE_METRICS_PUSHED).map(|c| c.last_transition_time)
}
