//! The steps of a running BackupSession before its snapshots finish: hooks, one
//! Snapshot per repository, and the executor job.

use std::collections::BTreeMap;

use crate::api::condition::has_condition;
use crate::api::condition_type::*;
use crate::api::hook::HookInfo;
use crate::api::BackupSessionStatus;
use crate::effect::{Effect, Plan};
use crate::job::{JobKey, JobKind, JobSpec, SnapshotTarget};
use crate::plan::naming::{component_path, snapshot_name};
use crate::world::{HookStage, Object, ObjectKey};

use super::backup_session::SessionContext;
use super::executor::{resolve_tasks, BuiltIns, Direction};
use super::hooks::{hooks_message, stage_condition, step_hooks, HookRound};
use super::snapshot_spec::desired_snapshot;
use super::write::set_and_announce;

/// Runs pre (or post) hooks; `Some(true)` when all succeeded or none apply, `Some(false)`
/// when one failed, `None` while some are still running.
pub fn run_hooks(
    ctx: &SessionContext,
    status: &mut BackupSessionStatus,
    hooks: &[HookInfo],
    pre: bool,
    plan: &mut Plan,
) -> Option<bool> {
    let succeeded = status.phase_from_snapshots() == crate::api::BackupSessionPhase::Succeeded;
    let stage = if pre {
        HookStage::PreBackup
    } else {
        HookStage::PostBackup
    };
    let failed = match step_hooks(
        ctx.world,
        &ctx.me,
        hooks,
        stage,
        succeeded,
        &mut status.hooks,
        plan,
    ) {
        HookRound::NoneApply => return Some(true),
        HookRound::Running => return None,
        HookRound::Done(failed) => failed,
    };
    let ok = failed.is_empty();
    let (type_, reason) = stage_condition(stage, ok);
    set_and_announce(
        plan,
        &ctx.me,
        &mut status.conditions,
        type_,
        ok,
        reason,
        hooks_message(&failed),
        ctx.now,
    );
    Some(ok)
}

/// Creates the missing Snapshots; true once all of them exist.
pub fn ensure_snapshots(
    ctx: &SessionContext,
    status: &mut BackupSessionStatus,
    plan: &mut Plan,
) -> bool {
    let namespace = &ctx.me.key.namespace;
    let session_name = ctx.session.metadata.name.clone().unwrap_or_default();
    let db_version = app_version(ctx);
    let mut all_exist = true;
    for info in &ctx.session_config.repositories {
        let Some(repo) = ctx
            .world
            .repositories
            .get(&ObjectKey::new(namespace.clone(), info.name.clone()))
        else {
            all_exist = false;
            continue;
        };
        let name = snapshot_name(&info.name, &session_name);
        if !ctx
            .world
            .snapshots
            .contains_key(&ObjectKey::new(namespace.clone(), name))
        {
            all_exist = false;
            plan.push(Effect::Apply(Object::Snapshot(desired_snapshot(
                ctx.session,
                repo,
                db_version.as_deref(),
                ctx.now,
            ))));
        }
    }
    if all_exist && !has_condition(&status.conditions, TYPE_SNAPSHOTS_ENSURED) {
        let message = format!(
            "{} Snapshot(s) created for BackupSession {}",
            ctx.session_config.repositories.len(),
            ctx.me.key
        );
        set_and_announce(
            plan,
            &ctx.me,
            &mut status.conditions,
            TYPE_SNAPSHOTS_ENSURED,
            true,
            REASON_SUCCESSFULLY_ENSURED_SNAPSHOTS,
            message,
            ctx.now,
        );
    }
    all_exist
}

fn app_version(ctx: &SessionContext) -> Option<String> {
    let target = ctx.spec.target.as_ref()?;
    let app = ctx.world.app_binding(target, &ctx.me.key.namespace)?;
    Some(app.spec.version.clone()).filter(|v| !v.is_empty())
}

/// Starts the executor job once; cancels it past the deadline.
pub fn ensure_executor(ctx: &SessionContext, status: &mut BackupSessionStatus, plan: &mut Plan) {
    let key = JobKey::new(
        JobKind::Backup,
        ctx.me.key.namespace.clone(),
        ctx.me.key.name.clone(),
    );
    if let Some(job) = ctx.world.jobs.get(&key) {
        let late = status.backup_deadline.is_some_and(|d| ctx.now >= d);
        if late && !job.is_finished() {
            plan.push(Effect::CancelJob(key));
        }
        return;
    }
    if has_condition(&status.conditions, TYPE_BACKUP_EXECUTOR_ENSURED) {
        return; // Ensured before and now gone: the snapshots report it as incomplete.
    }
    match backup_job(ctx, key, status) {
        Ok(spec) => {
            plan.push(Effect::RunJob(spec));
            let message = format!("backup executor started for BackupSession {}", ctx.me.key);
            set_and_announce(
                plan,
                &ctx.me,
                &mut status.conditions,
                TYPE_BACKUP_EXECUTOR_ENSURED,
                true,
                REASON_SUCCESSFULLY_ENSURED_BACKUP_EXECUTOR,
                message,
                ctx.now,
            );
        }
        Err(why) => {
            let message = format!(
                "cannot start the backup executor of BackupSession {}: {why}",
                ctx.me.key
            );
            set_and_announce(
                plan,
                &ctx.me,
                &mut status.conditions,
                TYPE_BACKUP_EXECUTOR_ENSURED,
                false,
                REASON_FAILED_TO_ENSURE_BACKUP_EXECUTOR,
                message,
                ctx.now,
            );
        }
    }
}

fn backup_job(
    ctx: &SessionContext,
    key: JobKey,
    status: &BackupSessionStatus,
) -> Result<JobSpec, String> {
    let namespace = &ctx.me.key.namespace;
    let info = ctx.session_config.addon.clone().unwrap_or_default();
    let target = ctx.spec.target.clone().unwrap_or_default();
    let app = ctx.world.app_binding(&target, namespace);
    let builtins: BuiltIns = BTreeMap::from([
        ("namespace".to_owned(), namespace.clone()),
        ("backupSession".to_owned(), ctx.me.key.name.clone()),
        ("invokerKind".to_owned(), "BackupConfiguration".to_owned()),
        (
            "invokerName".to_owned(),
            ctx.config.metadata.name.clone().unwrap_or_default(),
        ),
    ]);
    let tasks = resolve_tasks(ctx.world, &info, Direction::Backup, &builtins, app)?;
    let mut snapshots = Vec::new();
    for repo_info in &ctx.session_config.repositories {
        let repo = ctx
            .world
            .repositories
            .get(&ObjectKey::new(namespace.clone(), repo_info.name.clone()))
            .ok_or_else(|| format!("Repository {namespace}/{} not found", repo_info.name))?;
        snapshots.push(SnapshotTarget {
            snapshot: snapshot_name(&repo_info.name, &ctx.me.key.name),
            repository: repo_info.name.clone(),
            repository_path: repo.spec.path.clone(),
            storage: repo.spec.storage_ref.clone(),
            encryption_secret: repo.spec.encryption_secret.clone(),
            components: tasks
                .iter()
                .map(|t| {
                    (
                        t.component.clone(),
                        component_path(&ctx.session.spec.session, &t.component),
                    )
                })
                .collect(),
        });
    }
    Ok(JobSpec {
        key,
        target,
        addon: info.name.clone(),
        tasks,
        snapshots,
        restore: None,
        deadline: status.backup_deadline,
        runtime: info
            .job_template
            .clone()
            .or(info.container_runtime_settings.clone()),
    })
}
