//! RestoreSession: validation, target, backups of the target paused while it runs, the
//! restore job (with `latest` resolved to the newest Succeeded Snapshot), component
//! status from the job's facts, `RestoreIncomplete`, the final step and the phase.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::api::component::SNAPSHOT_LATEST;
use crate::api::condition::{has_condition, is_condition_false, is_condition_true};
use crate::api::condition_type::*;
use crate::api::hook::HookInfo;
use crate::api::restore_session::{ComponentRestoreStatus, RestorePhase};
use crate::api::{
    Kind, ObjectReference, RestoreSession, RestoreSessionStatus, Snapshot, SnapshotPhase,
    TypedObjectReference,
};
use crate::effect::{Effect, Plan};
use crate::event::Event;
use crate::job::{
    JobFact, JobKey, JobKind, JobPhase, JobResult, JobSpec, RestoreComponentSource, RestoreSource,
};
use crate::plan::GoDuration;
use crate::world::object::created_at;
use crate::world::query::target_key;
use crate::world::{HookStage, ObjectKey, ObjectRef, Status, World};

use super::executor::{resolve_tasks, BuiltIns, Direction};
use super::hooks::{hooks_message, stage_condition, step_hooks, HookRound};
use super::repository::snapshot_time;
use super::validation::{restore_access_problems, restore_hook_problems, validate_restore};
use super::write::{ensure_finalizer, patch_status, set_and_announce, set_quietly};

/// Condition set True while the restore waits for a started backup of its target to
/// finish (False, quietly, once it no longer waits). Cairn-specific: KubeStash pauses the
/// target's BackupConfigurations but does not wait for a backup already under way.
pub const TYPE_WAITING_FOR_BACKUP: &str = "WaitingForBackup";
/// Reason of `WaitingForBackup=True`.
pub const REASON_BACKUP_IN_PROGRESS: &str = "BackupInProgress";
/// Reason of `WaitingForBackup=False`.
pub const REASON_NO_BACKUP_IN_PROGRESS: &str = "NoBackupInProgress";

/// Reconciles one live RestoreSession.
pub fn reconcile_restore(
    world: &World,
    restore: &RestoreSession,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    let me = ObjectRef::of(Kind::RestoreSession, &restore.metadata);
    ensure_finalizer(plan, &me, &restore.metadata);
    let old = restore.status.as_ref();
    let mut status = old.cloned().unwrap_or_default();
    if status.phase.is_some_and(RestorePhase::is_terminal) {
        return;
    }
    let mut problems = validate_restore(restore);
    problems.extend(restore_access_problems(world, restore));
    problems.extend(restore_hook_problems(world, restore));
    let valid = problems.is_empty();
    let message = if valid {
        format!("RestoreSession {} passed validation", me.key)
    } else {
        format!(
            "RestoreSession {} is invalid: {}; fix the spec",
            me.key,
            problems.join("; ")
        )
    };
    let reason = if valid {
        REASON_RESOURCE_VALIDATION_PASSED
    } else {
        REASON_RESOURCE_VALIDATION_FAILED
    };
    set_and_announce(
        plan,
        &me,
        &mut status.conditions,
        TYPE_VALIDATION_PASSED,
        valid,
        reason,
        message,
        now,
    );
    if valid {
        progress(world, restore, &me, &mut status, now, plan);
    }
    status.phase = Some(status.calculate_phase());
    if status.phase != old.and_then(|s| s.phase)
        && matches!(
            status.phase,
            Some(RestorePhase::Succeeded | RestorePhase::Failed)
        )
    {
        let started = created_at(&restore.metadata).unwrap_or(now);
        status.duration = GoDuration::from_chrono(now - started)
            .map(|d| d.to_string())
            .unwrap_or_default();
        let ok = status.phase == Some(RestorePhase::Succeeded);
        let text = format!(
            "RestoreSession {} {} after {}",
            me.key,
            if ok {
                "succeeded"
            } else {
                "failed: see its conditions and components"
            },
            status.duration
        );
        plan.push(Effect::Emit(if ok {
            Event::normal(me.clone(), "RestoreSessionSucceeded", text)
        } else {
            Event::warning(me.clone(), "RestoreSessionFailed", text)
        }));
    }
    patch_status(plan, &me, old, status, Status::RestoreSession);
}

fn progress(
    world: &World,
    restore: &RestoreSession,
    me: &ObjectRef,
    status: &mut RestoreSessionStatus,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    let target = restore.spec.target.clone();
    if let Some(t) = &target {
        status.target_found = Some(world.app_binding(t, &me.key.namespace).is_some());
        let key = target_key(t, &me.key.namespace);
        status.paused_backups = world
            .target_configurations(&key)
            .map(|c| {
                TypedObjectReference::new(
                    crate::api::group::CORE_GROUP,
                    "BackupConfiguration",
                    c.metadata.namespace.clone().unwrap_or_default(),
                    c.metadata.name.clone().unwrap_or_default(),
                )
            })
            .collect();
    }
    let key = JobKey::new(
        JobKind::Restore,
        me.key.namespace.clone(),
        me.key.name.clone(),
    );
    match world.jobs.get(&key) {
        Some(job) => follow_job(job, me, status, now, plan),
        None if has_condition(&status.conditions, TYPE_RESTORE_EXECUTOR_ENSURED) => {}
        None => {
            if status.target_found == Some(false) {
                return; // waits: the target appears
            }
            if let Some((msg, wake)) = backup_awaited(world, restore, me, now) {
                set_and_announce(
                    plan,
                    me,
                    &mut status.conditions,
                    TYPE_WAITING_FOR_BACKUP,
                    true,
                    REASON_BACKUP_IN_PROGRESS,
                    msg,
                    now,
                );
                if let Some(at) = wake {
                    plan.wake_at(at);
                }
                return; // the backup's completion changes the world and wakes us
            }
            if has_condition(&status.conditions, TYPE_WAITING_FOR_BACKUP) {
                set_quietly(
                    &mut status.conditions,
                    TYPE_WAITING_FOR_BACKUP,
                    false,
                    REASON_NO_BACKUP_IN_PROGRESS,
                    format!(
                        "no backup of the target of RestoreSession {} is in progress",
                        me.key
                    ),
                    now,
                );
            }
            if !pre_restore_hooks_done(world, restore, me, status, now, plan) {
                return; // waits for them, or they failed (no job; the session fails)
            }
            match restore_job(world, restore, me, key, now) {
                Ok(spec) => {
                    status.total_components =
                        i32::try_from(spec.restore.as_ref().map_or(0, |r| r.components.len()))
                            .unwrap_or(0);
                    status.restore_deadline = spec.deadline;
                    plan.push(Effect::RunJob(spec));
                    let msg = format!("restore executor started for RestoreSession {}", me.key);
                    set_and_announce(
                        plan,
                        me,
                        &mut status.conditions,
                        TYPE_RESTORE_EXECUTOR_ENSURED,
                        true,
                        REASON_SUCCESSFULLY_ENSURED_RESTORE_EXECUTOR,
                        msg,
                        now,
                    );
                }
                Err(why) => {
                    let msg = format!(
                        "cannot start the restore of RestoreSession {}: {why}",
                        me.key
                    );
                    set_and_announce(
                        plan,
                        me,
                        &mut status.conditions,
                        TYPE_RESTORE_EXECUTOR_ENSURED,
                        false,
                        REASON_FAILED_TO_ENSURE_RESTORE_EXECUTOR,
                        msg,
                        now,
                    );
                }
            }
        }
    }
    let restored = matches!(
        status.components_phase(),
        RestorePhase::Succeeded | RestorePhase::Failed
    ) || is_condition_true(&status.conditions, TYPE_RESTORE_INCOMPLETE);
    let done = (restored && post_restore_hooks_done(world, restore, me, status, now, plan))
        || is_condition_false(&status.conditions, TYPE_RESTORE_EXECUTOR_ENSURED);
    if done && !has_condition(&status.conditions, TYPE_METRICS_PUSHED) {
        set_quietly(
            &mut status.conditions,
            TYPE_METRICS_PUSHED,
            true,
            REASON_SUCCESSFULLY_PUSHED_METRICS,
            format!("metrics of RestoreSession {} recorded", me.key),
            now,
        );
    }
    if let Some(deadline) = status.restore_deadline.filter(|d| now < *d && !done) {
        plan.wake_at(deadline);
    }
}

/// Why the restore must wait for a backup, and until when at most: a started BackupSession
/// of its target (no limit), or the first backup of a configuration writing to the
/// repository of `latest` (up to [`FIRST_BACKUP_WAIT`] after the RestoreSession's creation).
fn backup_awaited(
    world: &World,
    restore: &RestoreSession,
    me: &ObjectRef,
    now: DateTime<Utc>,
) -> Option<(String, Option<DateTime<Utc>>)> {
    if let Some(backup) = backup_in_progress_on(world, restore, me) {
        let msg = format!(
            "RestoreSession {} waits: BackupSession {backup} of its target has started \
             and not finished; the restore starts when it completes",
            me.key
        );
        return Some((msg, None));
    }
    let wait_until = created_at(&restore.metadata).unwrap_or(now) + FIRST_BACKUP_WAIT;
    let config = first_backup_awaited(world, restore).filter(|_| now < wait_until)?;
    let ds = restore.spec.data_source.clone().unwrap_or_default();
    let msg = format!(
        "RestoreSession {} waits: Repository {}/{} has no Succeeded Snapshot yet and \
         BackupConfiguration {config} has not finished its first backup; the restore \
         starts when it has (or fails at {})",
        me.key,
        restore.data_source_namespace(),
        ds.repository,
        wait_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    Some((msg, Some(wait_until)))
}

/// Steps the preRestore hooks; true once they all succeeded (or none are listed). A failed
/// one sets `PreRestoreHooksExecutionSucceeded=False` and ends the session without a job.
fn pre_restore_hooks_done(
    world: &World,
    restore: &RestoreSession,
    me: &ObjectRef,
    status: &mut RestoreSessionStatus,
    now: DateTime<Utc>,
    plan: &mut Plan,
) -> bool {
    let hooks = restore.spec.hooks.clone().unwrap_or_default().pre_restore;
    let ok = restore_hooks(
        world,
        me,
        status,
        &hooks,
        HookStage::PreRestore,
        true,
        now,
        plan,
    );
    if ok == Some(false) {
        set_quietly(
            &mut status.conditions,
            TYPE_METRICS_PUSHED,
            true,
            REASON_SUCCESSFULLY_PUSHED_METRICS,
            format!("metrics of RestoreSession {} recorded", me.key),
            now,
        );
    }
    ok == Some(true)
}

/// Steps the postRestore hooks once the data is restored (or the restore failed; their
/// execution policy decides which run); true once none is running.
fn post_restore_hooks_done(
    world: &World,
    restore: &RestoreSession,
    me: &ObjectRef,
    status: &mut RestoreSessionStatus,
    now: DateTime<Utc>,
    plan: &mut Plan,
) -> bool {
    let hooks = restore.spec.hooks.clone().unwrap_or_default().post_restore;
    let succeeded = status.components_phase() == RestorePhase::Succeeded
        && !is_condition_true(&status.conditions, TYPE_RESTORE_INCOMPLETE);
    restore_hooks(
        world,
        me,
        status,
        &hooks,
        HookStage::PostRestore,
        succeeded,
        now,
        plan,
    )
    .is_some()
}

/// One step of a RestoreSession's hooks of `stage`: statuses, and the condition once done.
/// `Some(true)` all succeeded or none apply, `Some(false)` one failed, `None` running.
#[allow(clippy::too_many_arguments)] // the session's parts, as its callers hold them
fn restore_hooks(
    world: &World,
    me: &ObjectRef,
    status: &mut RestoreSessionStatus,
    hooks: &[HookInfo],
    stage: HookStage,
    succeeded: bool,
    now: DateTime<Utc>,
    plan: &mut Plan,
) -> Option<bool> {
    let failed = match step_hooks(world, me, hooks, stage, succeeded, &mut status.hooks, plan) {
        HookRound::NoneApply => return Some(true),
        HookRound::Running => return None,
        HookRound::Done(failed) => failed,
    };
    let ok = failed.is_empty();
    let (type_, reason) = stage_condition(stage, ok);
    let message = format!("RestoreSession {}: {}", me.key, hooks_message(&failed));
    set_and_announce(
        plan,
        me,
        &mut status.conditions,
        type_,
        ok,
        reason,
        message,
        now,
    );
    Some(ok)
}

/// How long a RestoreSession of `latest` waits for the first backup of a repository that
/// has no Succeeded Snapshot yet (applied together with its BackupConfiguration).
pub const FIRST_BACKUP_WAIT: chrono::Duration = chrono::Duration::minutes(30);

/// For `snapshot: latest` on a repository without a Succeeded Snapshot: an active
/// BackupConfiguration that writes to that repository and has not completed a session
/// yet, whose first backup the restore should wait for.
fn first_backup_awaited(world: &World, restore: &RestoreSession) -> Option<ObjectKey> {
    let ds = restore.spec.data_source.as_ref()?;
    if ds.snapshot != SNAPSHOT_LATEST || ds.repository.is_empty() {
        return None;
    }
    let namespace = restore.data_source_namespace();
    if resolve_snapshot(world, namespace, &ds.repository, SNAPSHOT_LATEST).is_ok() {
        return None;
    }
    let completed_one = |config: &ObjectKey| {
        world.backup_sessions.iter().any(|(k, s)| {
            k.namespace == config.namespace
                && s.spec
                    .invoker
                    .as_ref()
                    .is_some_and(|i| i.name == config.name)
                && s.is_completed()
        })
    };
    world
        .backup_configurations
        .iter()
        .find(|(k, c)| {
            k.namespace == namespace
                && !c.spec.paused
                && c.metadata.deletion_timestamp.is_none()
                && c.spec
                    .sessions
                    .iter()
                    .any(|s| s.repositories.iter().any(|r| r.name == ds.repository))
                && !completed_one(k)
        })
        .map(|(k, _)| k.clone())
}

/// The first BackupSession of the restore's target that has started (its Snapshots are
/// counted) and not completed, whatever its phase: a started session may still be
/// Pending while its job waits for a pod, and a restore never overlaps it. This is the
/// same rule the backup skip check uses against other sessions.
fn backup_in_progress_on(
    world: &World,
    restore: &RestoreSession,
    me: &ObjectRef,
) -> Option<ObjectKey> {
    let target = restore
        .spec
        .target
        .as_ref()
        .map(|t| target_key(t, &me.key.namespace))?;
    world
        .backup_sessions
        .iter()
        .find(|(k, s)| {
            let started = s
                .status
                .as_ref()
                .is_some_and(|st| st.total_snapshots.is_some());
            if !started || s.is_completed() {
                return false;
            }
            let invoker = s.spec.invoker.as_ref().map(|i| i.name.clone());
            invoker
                .and_then(|i| {
                    world
                        .backup_configurations
                        .get(&ObjectKey::new(k.namespace.clone(), i))
                })
                .and_then(|c| c.spec.target.as_ref())
                .is_some_and(|t| target_key(t, &k.namespace) == target)
        })
        .map(|(k, _)| k.clone())
}

fn follow_job(
    job: &JobFact,
    me: &ObjectRef,
    status: &mut RestoreSessionStatus,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    let planned: Vec<String> = job
        .spec
        .restore
        .as_ref()
        .map(|r| r.components.keys().cloned().collect())
        .unwrap_or_default();
    if let Some(JobResult::Restore(results)) = &job.result {
        for (name, r) in results {
            let phase = match r.phase {
                crate::api::ComponentPhase::Succeeded => RestorePhase::Succeeded,
                crate::api::ComponentPhase::Failed => RestorePhase::Failed,
                crate::api::ComponentPhase::Running => RestorePhase::Running,
                crate::api::ComponentPhase::Pending => RestorePhase::Pending,
            };
            status.components.insert(
                name.clone(),
                ComponentRestoreStatus {
                    phase: Some(phase),
                    progress: None,
                    duration: r.duration.clone(),
                    error: r.error.clone(),
                },
            );
        }
    } else if job.phase == JobPhase::Running {
        for name in planned {
            status
                .components
                .entry(name)
                .or_insert(ComponentRestoreStatus {
                    phase: Some(RestorePhase::Running),
                    ..ComponentRestoreStatus::default()
                });
        }
    }
    let late = status.restore_deadline.is_some_and(|d| now >= d) && !job.is_finished();
    if late {
        plan.push(Effect::CancelJob(job.spec.key.clone()));
    }
    if (job.phase == JobPhase::Failed && job.result.is_none()) || late {
        let why = if late {
            "the restore passed its restoreTimeout".to_owned()
        } else {
            job.message.clone()
        };
        let msg = format!(
            "the restore executor of RestoreSession {} terminated before completion: {why}",
            me.key
        );
        set_and_announce(
            plan,
            me,
            &mut status.conditions,
            TYPE_RESTORE_INCOMPLETE,
            true,
            REASON_RESTORE_EXECUTOR_TERMINATED_BEFORE_COMPLETION,
            msg,
            now,
        );
    }
}

/// The Snapshot to restore: the named one, or the newest Succeeded one for `latest`.
pub fn resolve_snapshot<'w>(
    world: &'w World,
    namespace: &str,
    repository: &str,
    snapshot: &str,
) -> Result<&'w Snapshot, String> {
    let succeeded =
        |s: &&Snapshot| s.status.as_ref().and_then(|st| st.phase) == Some(SnapshotPhase::Succeeded);
    if snapshot == SNAPSHOT_LATEST {
        return world
            .repository_snapshots(namespace, repository)
            .filter(succeeded)
            .max_by_key(|s| (snapshot_time(s), s.metadata.name.clone()))
            .ok_or_else(|| format!("Repository {namespace}/{repository} has no Succeeded Snapshot to restore as \"latest\""));
    }
    let found = world
        .snapshots
        .get(&ObjectKey::new(namespace, snapshot))
        .ok_or_else(|| format!("Snapshot {namespace}/{snapshot} not found"))?;
    if !succeeded(&found) {
        return Err(format!(
            "Snapshot {namespace}/{snapshot} is not Succeeded and cannot be restored"
        ));
    }
    Ok(found)
}

fn restore_job(
    world: &World,
    restore: &RestoreSession,
    me: &ObjectRef,
    key: JobKey,
    now: DateTime<Utc>,
) -> Result<JobSpec, String> {
    let ds = restore.spec.data_source.clone().unwrap_or_default();
    let namespace = restore.data_source_namespace().to_owned();
    let snapshot = resolve_snapshot(world, &namespace, &ds.repository, &ds.snapshot)?;
    let snapshot_name = snapshot.metadata.name.clone().unwrap_or_default();
    let repo = world
        .repositories
        .get(&ObjectKey::new(
            namespace.clone(),
            snapshot.spec.repository.clone(),
        ))
        .ok_or_else(|| {
            format!(
                "Repository {namespace}/{} not found",
                snapshot.spec.repository
            )
        })?;
    let components: BTreeMap<String, RestoreComponentSource> = snapshot
        .status
        .iter()
        .flat_map(|s| s.components.iter())
        .filter(|(name, _)| ds.components.is_empty() || ds.components.contains(name))
        .map(|(name, c)| {
            let id = c
                .restic_stats
                .first()
                .and_then(|r| r.summary.as_ref())
                .map(|s| s.id.clone())
                .unwrap_or_default();
            (
                name.clone(),
                RestoreComponentSource {
                    path: c.path.clone(),
                    restic_id: id,
                },
            )
        })
        .collect();
    let info = restore.spec.addon.clone().unwrap_or_default();
    let target = restore.spec.target.clone().unwrap_or_default();
    let app = world.app_binding(&target, &me.key.namespace);
    let builtins: BuiltIns = BTreeMap::from([
        ("namespace".to_owned(), me.key.namespace.clone()),
        ("restoreSession".to_owned(), me.key.name.clone()),
        ("snapshot".to_owned(), snapshot_name.clone()),
        ("invokerKind".to_owned(), "RestoreSession".to_owned()),
        ("invokerName".to_owned(), me.key.name.clone()),
    ]);
    let tasks = resolve_tasks(world, &info, Direction::Restore, &builtins, app)?;
    let timeout = restore
        .spec
        .restore_timeout
        .as_deref()
        .and_then(|t| GoDuration::parse(t).ok());
    let encryption_secret = ds
        .encryption_secret
        .clone()
        .or_else(|| repo.spec.encryption_secret.clone());
    Ok(JobSpec {
        key,
        target,
        addon: info.name.clone(),
        tasks,
        snapshots: Vec::new(),
        restore: Some(RestoreSource {
            snapshot: snapshot_name,
            repository: snapshot.spec.repository.clone(),
            repository_path: repo.spec.path.clone(),
            storage: repo.spec.storage_ref.clone(),
            encryption_secret: encryption_secret.map(|s| {
                ObjectReference::new(s.namespace_or(&namespace).to_owned(), s.name.clone())
            }),
            components,
        }),
        deadline: timeout.map(|t| now + t.to_chrono()),
        runtime: info
            .job_template
            .clone()
            .or(info.container_runtime_settings.clone()),
    })
}
