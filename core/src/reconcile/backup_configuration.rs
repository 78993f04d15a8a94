//! BackupConfiguration: validation, target and backends, one Repository per session
//! repository, one trigger per session, phase, then the instant and scheduled
//! BackupSessions once Ready.

use chrono::{DateTime, Utc};

use crate::api::backup_configuration::{
    BackendStatus, BackupConfigurationSpec, BackupConfigurationStatus, RepoStatus,
    RetentionPolicyStatus, SessionStatus, StorageStatus,
};
use crate::api::condition::is_condition_true;
use crate::api::condition_type::*;
use crate::api::resource_found::ResourceFoundStatus;
use crate::api::{
    BackupConfiguration, BackupStoragePhase, Kind, RepositoryPhase, TypedObjectReference,
};
use crate::catalog;
use crate::effect::{Effect, Plan};
use crate::plan::naming::trigger_cronjob_name;
use crate::world::{ObjectKey, ObjectRef, Status, World};

use super::defaults::effective_spec;
use super::repository_spec::ensure_repositories;
use super::trigger::{fire_instant_once, fire_scheduled};
use super::validation::validate_configuration;
use super::write::{ensure_finalizer, patch_status, set_and_announce};

/// Reconciles one live BackupConfiguration.
pub fn reconcile_configuration(
    world: &World,
    bc: &BackupConfiguration,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    let me = ObjectRef::of(Kind::BackupConfiguration, &bc.metadata);
    ensure_finalizer(plan, &me, &bc.metadata);
    let spec = effective_spec(world, bc);
    let old = bc.status.as_ref();
    let mut status = old.cloned().unwrap_or_default();
    let problems = validate_configuration(world, &me.key, &spec);
    if !problems.is_empty() {
        let message = format!(
            "BackupConfiguration {} is invalid: {}; fix the spec and re-apply",
            me.key,
            problems.join("; ")
        );
        set_and_announce(
            plan,
            &me,
            &mut status.conditions,
            TYPE_VALIDATION_PASSED,
            false,
            REASON_RESOURCE_VALIDATION_FAILED,
            message,
            now,
        );
        status.phase = Some(crate::api::backup_configuration::BackupInvokerPhase::Invalid);
        patch_status(plan, &me, old, status, Status::BackupConfiguration);
        return;
    }
    let passed = format!("BackupConfiguration {} passed validation", me.key);
    set_and_announce(
        plan,
        &me,
        &mut status.conditions,
        TYPE_VALIDATION_PASSED,
        true,
        REASON_RESOURCE_VALIDATION_PASSED,
        passed,
        now,
    );
    let target = spec.target.clone().unwrap_or_default();
    status.target_found = Some(world.app_binding(&target, &me.key.namespace).is_some());
    status.backends = backend_statuses(world, &me.key.namespace, &spec);
    status.repositories = ensure_repositories(world, bc, &spec, now, plan)
        .into_iter()
        .map(|(name, repo)| repo_status(name, repo))
        .collect();
    status.dependencies = dependencies(world, &spec);
    status.sessions = session_statuses(world, bc, &spec, old, now, plan);
    let phase = phase_of(&spec, &status);
    let became_ready = phase == crate::api::backup_configuration::BackupInvokerPhase::Ready
        && old.and_then(|s| s.phase) != Some(phase);
    status.phase = Some(phase);
    if became_ready {
        let msg = format!(
            "BackupConfiguration {} is Ready: target, backends and schedules are in place",
            me.key
        );
        plan.push(Effect::Emit(crate::event::Event::normal(
            me.clone(),
            "Ready",
            msg,
        )));
    }
    // Sessions start only once the configuration's Ready is written (the sessions read
    // it): a refused status write must not leave a session created under a configuration
    // the server still calls not Ready (it would be Skipped, and the next turn would
    // trigger another under a new name).
    let ready_written = old.and_then(|s| s.phase)
        == Some(crate::api::backup_configuration::BackupInvokerPhase::Ready);
    if phase == crate::api::backup_configuration::BackupInvokerPhase::Ready && ready_written {
        // A paused configuration takes no backup; the instant one waits for the resume.
        if !spec.paused && !is_condition_true(&status.conditions, TYPE_INITIAL_BACKUP_TRIGGERED) {
            fire_instant_once(world, bc, &spec, now, plan);
            let msg = format!(
                "instant backup triggered for every session of BackupConfiguration {}",
                me.key
            );
            set_and_announce(
                plan,
                &me,
                &mut status.conditions,
                TYPE_INITIAL_BACKUP_TRIGGERED,
                true,
                REASON_SUCCESSFULLY_TRIGGERED_INITIAL_BACKUP,
                msg,
                now,
            );
        } else {
            fire_scheduled(world, bc, &spec, now, plan);
        }
    }
    patch_status(plan, &me, old, status, Status::BackupConfiguration);
}

/// KubeStash's phase rule over the effective spec.
fn phase_of(
    spec: &BackupConfigurationSpec,
    status: &BackupConfigurationStatus,
) -> crate::api::backup_configuration::BackupInvokerPhase {
    let view = BackupConfiguration {
        metadata: Default::default(),
        spec: spec.clone(),
        status: Some(status.clone()),
    };
    view.calculate_phase()
}

fn repo_status(name: String, repo: Option<&crate::api::Repository>) -> RepoStatus {
    let phase = repo.map_or(RepositoryPhase::NotReady, |r| r.calculate_phase());
    let reason = match (repo, phase) {
        (None, _) => format!("Repository {name} is being created"),
        (Some(_), RepositoryPhase::NotReady) => format!("Repository {name} is not initialized yet"),
        _ => String::new(),
    };
    RepoStatus {
        name,
        phase: Some(phase),
        reason,
        verification_configured: false,
    }
}

/// Readiness of each backend: its storage Ready and usable from this namespace, its
/// retention policy found and usable.
fn backend_statuses(
    world: &World,
    namespace: &str,
    spec: &BackupConfigurationSpec,
) -> Vec<BackendStatus> {
    let labels = world.namespace_labels(namespace);
    spec.backends
        .iter()
        .map(|backend| {
            let storage_ref = backend.storage_ref.clone().unwrap_or_default();
            let key = ObjectKey::new(storage_ref.namespace_or(namespace), storage_ref.name.clone());
            let storage = world.backup_storages.get(&key);
            let phase = storage.map(|s| s.calculate_phase());
            let allowed = storage.is_some_and(|s| s.usage_allowed(namespace, labels));
            let reason = match (storage, phase, allowed) {
                (None, _, _) => format!("BackupStorage {key} not found"),
                (Some(_), _, false) => format!("BackupStorage {key} does not allow use from namespace {namespace} (see its usagePolicy)"),
                (Some(_), Some(BackupStoragePhase::Ready), true) => String::new(),
                _ => format!("BackupStorage {key} is not Ready"),
            };
            let storage_ok = reason.is_empty();
            let rp = backend.retention_policy.as_ref().map(|r| {
                let key = ObjectKey::new(r.namespace_or(namespace), r.name.clone());
                let found = world.retention_policies.get(&key);
                let usable = found.is_some_and(|p| {
                    crate::api::usage_allowed(p.spec.usage_policy.as_ref(), &key.namespace, namespace, labels)
                });
                let reason = match (found, usable) {
                    (None, _) => format!("RetentionPolicy {key} not found"),
                    (Some(_), false) => format!("RetentionPolicy {key} does not allow use from namespace {namespace}"),
                    _ => String::new(),
                };
                RetentionPolicyStatus { r#ref: r.clone(), found: Some(found.is_some()), reason }
            });
            let rp_ok = rp.as_ref().is_none_or(|r| r.reason.is_empty());
            BackendStatus {
                name: backend.name.clone(),
                ready: Some(storage_ok && rp_ok),
                storage: Some(StorageStatus { r#ref: storage_ref, phase, reason }),
                retention_policy: rp,
            }
        })
        .collect()
}

/// The Addon and the Functions of its tasks, and whether each exists.
fn dependencies(world: &World, spec: &BackupConfigurationSpec) -> Vec<ResourceFoundStatus> {
    let mut out: Vec<ResourceFoundStatus> = Vec::new();
    for info in spec.sessions.iter().filter_map(|s| s.addon.as_ref()) {
        let addon = catalog::addon(world, &info.name);
        let reference = TypedObjectReference::new(
            crate::api::group::ADDONS_GROUP,
            "Addon",
            "",
            info.name.clone(),
        );
        push_unique(&mut out, reference, addon.is_some());
        let Some(addon) = addon else { continue };
        for task in &info.tasks {
            let function = addon
                .backup_task(&task.name)
                .map(|t| t.function.clone())
                .unwrap_or_default();
            let found = !function.is_empty() && catalog::function(world, &function).is_some();
            let name = if function.is_empty() {
                format!("{}/{}", info.name, task.name)
            } else {
                function
            };
            let reference =
                TypedObjectReference::new(crate::api::group::ADDONS_GROUP, "Function", "", name);
            push_unique(&mut out, reference, found);
        }
    }
    out
}

fn push_unique(out: &mut Vec<ResourceFoundStatus>, reference: TypedObjectReference, found: bool) {
    if !out.iter().any(|d| d.reference == reference) {
        out.push(ResourceFoundStatus {
            reference,
            found: Some(found),
        });
    }
}

/// One trigger per session (`EnsureTrigger` when missing or different) and the
/// session's `SchedulerEnsured` and `nextSchedule`.
fn session_statuses(
    world: &World,
    bc: &BackupConfiguration,
    spec: &BackupConfigurationSpec,
    old: Option<&BackupConfigurationStatus>,
    now: DateTime<Utc>,
    plan: &mut Plan,
) -> Vec<SessionStatus> {
    let me = ObjectRef::of(Kind::BackupConfiguration, &bc.metadata);
    spec.sessions
        .iter()
        .map(|session| {
            let scheduler = session.scheduler.clone().unwrap_or_default();
            let name = trigger_cronjob_name(&me.key.name, &session.name);
            let suspended = spec.paused || scheduler.suspend == Some(true);
            let existing = world.triggers.get(&(me.key.clone(), session.name.clone()));
            let ensured = existing.is_some_and(|t| {
                t.name == name && t.schedule == scheduler.schedule && t.suspended == suspended
            });
            if !ensured {
                plan.push(Effect::EnsureTrigger {
                    configuration: me.clone(),
                    session: session.name.clone(),
                    name: name.clone(),
                    schedule: scheduler.schedule.clone(),
                    suspended,
                    since: now,
                });
            }
            let mut conditions = old
                .and_then(|s| s.sessions.iter().find(|x| x.name == session.name))
                .map(|s| s.conditions.clone())
                .unwrap_or_default();
            let (reason, message) = if ensured {
                (
                    REASON_SCHEDULER_ENSURED,
                    format!("trigger {name} runs {:?}", scheduler.schedule),
                )
            } else {
                (
                    REASON_SCHEDULER_NOT_ENSURED,
                    format!("trigger {name} is being created"),
                )
            };
            super::write::set_quietly(
                &mut conditions,
                TYPE_SCHEDULER_ENSURED,
                ensured,
                reason,
                message,
                now,
            );
            let next = super::trigger::next_slot(&scheduler.schedule, now);
            if let Some(at) = next.filter(|_| !suspended) {
                plan.wake_at(at);
            }
            SessionStatus {
                name: session.name.clone(),
                next_schedule: next
                    .filter(|_| !suspended)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default(),
                conditions,
            }
        })
        .collect()
}
