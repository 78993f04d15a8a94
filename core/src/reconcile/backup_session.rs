//! BackupSession: skip or start, then the steps of §3 in order (pre-hooks, snapshots,
//! executor, post-hooks, retention, history cleanup, metrics), the phase rule, retries.

use chrono::{DateTime, Utc};

use crate::api::backup_configuration::{BackupConfigurationSpec, BackupInvokerPhase, Session};
use crate::api::backup_session::SnapshotStatus as SessionSnapshot;
use crate::api::condition::{get_condition, is_condition_true};
use crate::api::condition_type::*;
use crate::api::{
    BackupConfiguration, BackupSession, BackupSessionPhase, BackupSessionStatus, Kind,
    RepositoryPhase,
};
use crate::effect::{Effect, Plan};
use crate::plan::GoDuration;
use crate::world::object::created_at;
use crate::world::query::target_key;
use crate::world::{ObjectKey, ObjectRef, Status, World};

use super::defaults::effective_spec;
use super::session_finish::{finish, maybe_retry};
use super::session_steps::{ensure_executor, ensure_snapshots, run_hooks};
use super::write::{ensure_finalizer, patch_status, set_and_announce};

/// How long a BackupSession without `backupTimeout` waits for its repositories to be
/// initialized before it fails.
pub const REPOSITORY_WAIT_DEFAULT: chrono::Duration = chrono::Duration::minutes(30);

/// What a session step needs to know about its surroundings.
pub struct SessionContext<'w> {
    /// The world.
    pub world: &'w World,
    /// The session.
    pub session: &'w BackupSession,
    /// Its reference.
    pub me: ObjectRef,
    /// The invoking configuration.
    pub config: &'w BackupConfiguration,
    /// The configuration's effective spec.
    pub spec: BackupConfigurationSpec,
    /// The configuration's session this run belongs to.
    pub session_config: Session,
    /// Now.
    pub now: DateTime<Utc>,
}

/// Reconciles one live BackupSession.
pub fn reconcile_backup_session(
    world: &World,
    session: &BackupSession,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    let me = ObjectRef::of(Kind::BackupSession, &session.metadata);
    ensure_finalizer(plan, &me, &session.metadata);
    let old = session.status.as_ref();
    let mut status = old.cloned().unwrap_or_default();
    if session.is_completed() {
        maybe_retry(world, session, &mut status, now, plan);
        patch_status(plan, &me, old, status, Status::BackupSession);
        return;
    }
    let Some(ctx) = context(world, session, &me, now) else {
        let invoker = session
            .spec
            .invoker
            .as_ref()
            .map(|i| i.name.clone())
            .unwrap_or_default();
        let why = format!(
            "BackupConfiguration {}/{invoker} or its session {:?} not found",
            me.key.namespace, session.spec.session
        );
        skip(&me, &mut status, why, now, plan);
        patch_status(plan, &me, old, status, Status::BackupSession);
        return;
    };
    if status.total_snapshots.is_none() {
        if let Some(why) = skip_reason(&ctx) {
            skip(&me, &mut status, why, now, plan);
            patch_status(plan, &me, old, status, Status::BackupSession);
            return;
        }
        if let Some(waiting) = unready_repository(&ctx) {
            let deadline = repository_wait_deadline(&ctx);
            if now < deadline {
                // Repositories are being initialized; their status change wakes us, and
                // the deadline bounds the wait during a lasting storage outage.
                plan.wake_at(deadline);
                return;
            }
            give_up_waiting(&ctx, &mut status, &waiting, plan);
            patch_status(plan, &me, old, status, Status::BackupSession);
            return;
        }
        start(&ctx, &mut status, plan);
    }
    progress(&ctx, &mut status, plan);
    patch_status(plan, &me, old, status, Status::BackupSession);
}

fn context<'w>(
    world: &'w World,
    session: &'w BackupSession,
    me: &ObjectRef,
    now: DateTime<Utc>,
) -> Option<SessionContext<'w>> {
    let invoker = session.spec.invoker.as_ref()?;
    let config = world.backup_configurations.get(&ObjectKey::new(
        me.key.namespace.clone(),
        invoker.name.clone(),
    ))?;
    let spec = effective_spec(world, config);
    let session_config = spec
        .sessions
        .iter()
        .find(|s| s.name == session.spec.session)?
        .clone();
    Some(SessionContext {
        world,
        session,
        me: me.clone(),
        config,
        spec,
        session_config,
        now,
    })
}

/// Why this session must not run, if it must not.
fn skip_reason(ctx: &SessionContext) -> Option<String> {
    let cfg_key = ObjectKey::of(&ctx.config.metadata);
    if ctx.config.status.as_ref().and_then(|s| s.phase) != Some(BackupInvokerPhase::Ready) {
        return Some(format!("BackupConfiguration {cfg_key} is not Ready"));
    }
    if ctx.spec.paused {
        return Some(format!(
            "BackupConfiguration {cfg_key} is paused: set spec.paused to false to resume backups"
        ));
    }
    if let Some(repo) = paused_repository(ctx) {
        return Some(format!(
            "Repository {}/{repo} is paused: set its spec.paused to false to back up into it",
            ctx.me.key.namespace
        ));
    }
    let mine = order_key(ctx.session);
    let blocker = ctx
        .world
        .configuration_sessions(
            &ctx.me.key.namespace,
            &cfg_key.name,
            &ctx.session.spec.session,
        )
        .filter(|o| o.metadata.name != ctx.session.metadata.name && !o.is_completed())
        .filter(|o| {
            !is_condition_true(
                &o.status.clone().unwrap_or_default().conditions,
                TYPE_BACKUP_SKIPPED,
            )
        })
        .find(|o| {
            o.status
                .as_ref()
                .is_some_and(|s| s.total_snapshots.is_some())
                || order_key(o) < mine
        });
    if let Some(other) = blocker {
        return Some(format!(
            "BackupSession {} of the same session is still running",
            other.metadata.name.clone().unwrap_or_default()
        ));
    }
    let target = target_key(ctx.spec.target.as_ref()?, &ctx.me.key.namespace);
    if let Some(restore) = ctx.world.restore_active_on(&target) {
        let name = restore.metadata.name.clone().unwrap_or_default();
        return Some(format!(
            "backups of {target} are paused while RestoreSession {name} restores into it"
        ));
    }
    None
}

/// The first repository of the session whose `spec.paused` is set.
fn paused_repository(ctx: &SessionContext) -> Option<String> {
    ctx.session_config
        .repositories
        .iter()
        .find(|r| {
            ctx.world
                .repositories
                .get(&ObjectKey::new(
                    ctx.me.key.namespace.clone(),
                    r.name.clone(),
                ))
                .is_some_and(|repo| repo.spec.paused)
        })
        .map(|r| r.name.clone())
}

/// Older sessions first: creation time, then name.
fn order_key(session: &BackupSession) -> (Option<DateTime<Utc>>, String) {
    (
        created_at(&session.metadata),
        session.metadata.name.clone().unwrap_or_default(),
    )
}

/// The first repository of the session that is not Ready, with its
/// `RepositoryInitialized` message when it has one.
fn unready_repository(ctx: &SessionContext) -> Option<String> {
    ctx.session_config.repositories.iter().find_map(|r| {
        let key = ObjectKey::new(ctx.me.key.namespace.clone(), r.name.clone());
        let repo = ctx.world.repositories.get(&key);
        if repo.is_some_and(|repo| repo.calculate_phase() == RepositoryPhase::Ready) {
            return None;
        }
        let why = repo
            .and_then(|repo| repo.status.as_ref())
            .and_then(|s| get_condition(&s.conditions, TYPE_REPOSITORY_INITIALIZED))
            .map(|c| c.message.clone())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "not initialized yet".to_owned());
        Some(format!("Repository {key} is not Ready: {why}"))
    })
}

/// How long a session waits for its repositories before it fails: its `backupTimeout`
/// when set, else [`REPOSITORY_WAIT_DEFAULT`], counted from its creation.
fn repository_wait_deadline(ctx: &SessionContext) -> DateTime<Utc> {
    let wait = ctx
        .session
        .spec
        .backup_timeout
        .as_deref()
        .and_then(|t| GoDuration::parse(t).ok())
        .map_or(REPOSITORY_WAIT_DEFAULT, GoDuration::to_chrono);
    created_at(&ctx.session.metadata).unwrap_or(ctx.now) + wait
}

/// Fails a session that never started because its repositories stayed unready, so that
/// later slots run (and its retry, if any, is scheduled).
fn give_up_waiting(
    ctx: &SessionContext,
    status: &mut BackupSessionStatus,
    waiting: &str,
    plan: &mut Plan,
) {
    let message = format!(
        "BackupSession {} gave up waiting for its repositories at {}: {waiting}; check the \
         BackupStorage and its credentials",
        ctx.me.key,
        repository_wait_deadline(ctx).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    set_and_announce(
        plan,
        &ctx.me,
        &mut status.conditions,
        TYPE_SNAPSHOTS_ENSURED,
        false,
        REASON_FAILED_TO_ENSURE_SNAPSHOTS,
        message,
        ctx.now,
    );
    super::write::set_quietly(
        &mut status.conditions,
        TYPE_METRICS_PUSHED,
        true,
        REASON_SUCCESSFULLY_PUSHED_METRICS,
        format!("metrics of BackupSession {} recorded", ctx.me.key),
        ctx.now,
    );
    if ctx.session.spec.retry_left > 0 {
        let delay = ctx
            .session_config
            .retry_config
            .as_ref()
            .and_then(|r| GoDuration::parse(&r.delay).ok());
        status.next_retry =
            Some(ctx.now + delay.map_or(chrono::Duration::zero(), GoDuration::to_chrono));
    }
    status.phase = Some(status.calculate_phase());
    let started = created_at(&ctx.session.metadata).unwrap_or(ctx.now);
    status.duration = GoDuration::from_chrono(ctx.now - started)
        .map(|d| d.to_string())
        .unwrap_or_default();
    announce_end(ctx, status, plan);
}

fn skip(
    me: &ObjectRef,
    status: &mut BackupSessionStatus,
    why: String,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    let message = format!("BackupSession {} skipped: {why}", me.key);
    set_and_announce(
        plan,
        me,
        &mut status.conditions,
        TYPE_BACKUP_SKIPPED,
        true,
        REASON_SKIPPED_TAKING_NEW_BACKUP,
        message,
        now,
    );
    status.phase = Some(status.calculate_phase());
}

/// Marks the run started: snapshot count and deadline.
fn start(ctx: &SessionContext, status: &mut BackupSessionStatus, plan: &mut Plan) {
    status.total_snapshots =
        Some(i32::try_from(ctx.session_config.repositories.len()).unwrap_or(i32::MAX));
    let timeout = ctx
        .session
        .spec
        .backup_timeout
        .as_deref()
        .and_then(|t| GoDuration::parse(t).ok());
    status.backup_deadline = timeout.map(|t| ctx.now + t.to_chrono());
    let message = format!("BackupSession {} started", ctx.me.key);
    plan.push(Effect::Emit(crate::event::Event::normal(
        ctx.me.clone(),
        "BackupSessionRunning",
        message,
    )));
}

/// Advances the run by as many steps as the world allows.
fn progress(ctx: &SessionContext, status: &mut BackupSessionStatus, plan: &mut Plan) {
    let hooks = ctx.session_config.hooks.clone().unwrap_or_default();
    let pre_ok = run_hooks(ctx, status, &hooks.pre_backup, true, plan);
    if pre_ok == Some(true) && ensure_snapshots(ctx, status, plan) {
        ensure_executor(ctx, status, plan);
    }
    status.snapshots = ctx
        .world
        .session_snapshots(
            &ctx.me.key.namespace,
            ctx.session.metadata.name.as_deref().unwrap_or_default(),
        )
        .map(|s| SessionSnapshot {
            name: s.metadata.name.clone().unwrap_or_default(),
            phase: s.status.as_ref().and_then(|st| st.phase),
            app_ref: Some(s.spec.app_ref.clone()),
            repository: s.spec.repository.clone(),
        })
        .collect();
    if let Some(deadline) = status.backup_deadline {
        if ctx.now < deadline {
            plan.wake_at(deadline);
        }
    }
    let all_done = status.snapshots.len()
        == usize::try_from(status.total_snapshots.unwrap_or(0)).unwrap_or(0)
        && matches!(
            status.phase_from_snapshots(),
            BackupSessionPhase::Succeeded | BackupSessionPhase::Failed
        );
    if pre_ok == Some(false) || all_done || executor_failed(status) {
        finish(ctx, status, plan);
    }
    status.phase = Some(status.calculate_phase());
    if status.phase.is_some_and(BackupSessionPhase::is_completed) {
        let started = created_at(&ctx.session.metadata).unwrap_or(ctx.now);
        status.duration = GoDuration::from_chrono(ctx.now - started)
            .map(|d| d.to_string())
            .unwrap_or_default();
        announce_end(ctx, status, plan);
    }
}

fn executor_failed(status: &BackupSessionStatus) -> bool {
    crate::api::condition::is_condition_false(&status.conditions, TYPE_BACKUP_EXECUTOR_ENSURED)
        || crate::api::condition::is_condition_false(&status.conditions, TYPE_SNAPSHOTS_ENSURED)
}

fn announce_end(ctx: &SessionContext, status: &BackupSessionStatus, plan: &mut Plan) {
    let event = match status.phase {
        Some(BackupSessionPhase::Succeeded) => crate::event::Event::normal(
            ctx.me.clone(),
            "BackupSessionSucceeded",
            format!(
                "BackupSession {} succeeded in {}",
                ctx.me.key, status.duration
            ),
        ),
        _ => crate::event::Event::warning(
            ctx.me.clone(),
            "BackupSessionFailed",
            format!(
                "BackupSession {} failed: see its conditions and the status of its Snapshots",
                ctx.me.key
            ),
        ),
    };
    plan.push(Effect::Emit(event));
}
