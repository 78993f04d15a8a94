//! Observation: the core's world from what the reflector stores hold, and facts from
//! batch/v1 Jobs and CronJobs.
//!
//! Objects come from the stores, except the ones this operator wrote moments ago and
//! the stores have not caught up with yet (write responses carry a newer
//! `resourceVersion`): those stay as written, so a lagging watch never makes the core
//! plan the same creation twice.

use std::collections::BTreeMap;

use cairn_core::api::label::{INVOKER_NAME, SESSION_NAME};
use cairn_core::api::{
    Addon, AppBinding, BackupConfiguration, BackupSession, BackupStorage, ComponentPhase, Function,
    HookTemplate, Kind, Repository, RestorePhase, RestoreSession, RetentionPolicy, Snapshot,
};
use cairn_core::drive::report::completed_job;
use cairn_core::job::{
    JobFact, JobKey, JobKind, JobPhase, JobResult, JobSpec, RestoreComponentResult,
};
use cairn_core::world::object::from_time;
use cairn_core::world::{Fact, ObjectKey, Secret, Stored, Trigger, World};
use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Namespace, Secret as KubeSecret};

use crate::objects::{JOB_KIND_LABEL, JOB_SPEC_ANNOTATION, MANAGED_BY_CAIRN};

/// What the reflector stores hold, as plain lists.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// BackupStorages.
    pub backup_storages: Vec<BackupStorage>,
    /// Repositories.
    pub repositories: Vec<Repository>,
    /// Snapshots.
    pub snapshots: Vec<Snapshot>,
    /// RetentionPolicies.
    pub retention_policies: Vec<RetentionPolicy>,
    /// BackupConfigurations.
    pub backup_configurations: Vec<BackupConfiguration>,
    /// BackupSessions.
    pub backup_sessions: Vec<BackupSession>,
    /// RestoreSessions.
    pub restore_sessions: Vec<RestoreSession>,
    /// HookTemplates.
    pub hook_templates: Vec<HookTemplate>,
    /// Addons.
    pub addons: Vec<Addon>,
    /// Functions.
    pub functions: Vec<Function>,
    /// AppBindings.
    pub app_bindings: Vec<AppBinding>,
    /// Secrets.
    pub secrets: Vec<KubeSecret>,
    /// Namespaces.
    pub namespaces: Vec<Namespace>,
    /// Executor Jobs (label `cairn.kubestash.com/job`).
    pub jobs: Vec<Job>,
    /// Trigger CronJobs (managed by Cairn).
    pub cron_jobs: Vec<CronJob>,
}

/// `resourceVersion` as a number, when it is one (etcd's are).
fn rv(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<u64> {
    meta.resource_version.as_deref()?.parse().ok()
}

/// Objects this operator wrote, with the `resourceVersion` the server answered.
#[derive(Clone, Debug, Default)]
pub struct Written {
    versions: BTreeMap<(Kind, ObjectKey), (u64, DateTime<Utc>)>,
}

/// How long a written object is kept against a store that has not seen it yet.
const WRITE_GRACE_SECONDS: i64 = 60;

impl Written {
    /// Records a write answered with `resource_version`.
    pub fn record(&mut self, kind: Kind, key: ObjectKey, resource_version: u64, at: DateTime<Utc>) {
        self.versions.insert((kind, key), (resource_version, at));
    }

    /// Forgets writes older than the grace period.
    pub fn expire(&mut self, now: DateTime<Utc>) {
        self.versions
            .retain(|_, (_, at)| (now - *at).num_seconds() < WRITE_GRACE_SECONDS);
    }

    fn newer_than_store<T: Stored>(&self, key: &ObjectKey, store: Option<&T>) -> bool {
        let Some((written, _)) = self.versions.get(&(T::KIND, key.clone())) else {
            return false;
        };
        store
            .and_then(|o| rv(o.meta()))
            .is_none_or(|seen| seen < *written)
    }
}

fn refresh_map<T: Stored>(world: &mut World, written: &Written, observed: &[T]) {
    let mut fresh: BTreeMap<ObjectKey, T> = observed
        .iter()
        .map(|o| (ObjectKey::of(o.meta()), o.clone()))
        .collect();
    for (key, mine) in T::map(world) {
        if written.newer_than_store(key, fresh.get(key)) {
            fresh.insert(key.clone(), mine.clone());
        }
    }
    *T::map_mut(world) = fresh;
}

/// Replaces the objects, Secrets and namespace labels of `world` with the observed ones
/// (keeping fresher own writes), and the triggers with the CronJobs found.
pub fn refresh(world: &mut World, written: &Written, observed: &Observed) {
    refresh_map(world, written, &observed.backup_storages);
    refresh_map(world, written, &observed.repositories);
    refresh_map(world, written, &observed.snapshots);
    refresh_map(world, written, &observed.retention_policies);
    refresh_map(world, written, &observed.backup_configurations);
    refresh_map(world, written, &observed.backup_sessions);
    refresh_map(world, written, &observed.restore_sessions);
    refresh_map(world, written, &observed.hook_templates);
    refresh_map(world, written, &observed.addons);
    refresh_map(world, written, &observed.functions);
    refresh_map(world, written, &observed.app_bindings);
    world.secrets = observed
        .secrets
        .iter()
        .map(secret)
        .map(|s| (ObjectKey::new(s.namespace.clone(), s.name.clone()), s))
        .collect();
    world.namespaces = observed
        .namespaces
        .iter()
        .map(|n| {
            let labels = n.metadata.labels.clone().unwrap_or_default();
            (n.metadata.name.clone().unwrap_or_default(), labels)
        })
        .collect();
    refresh_triggers(world, &observed.cron_jobs);
}

/// A Kubernetes Secret as the core sees it (values wrapped, never rendered).
pub fn secret(s: &KubeSecret) -> Secret {
    let mut data: BTreeMap<String, String> = s
        .string_data
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    for (k, v) in s.data.clone().unwrap_or_default() {
        data.insert(k, String::from_utf8_lossy(&v.0).into_owned());
    }
    Secret::new(
        s.metadata.namespace.clone().unwrap_or_default(),
        s.metadata.name.clone().unwrap_or_default(),
        data,
    )
}

/// Triggers from the trigger CronJobs: schedule and suspension as written, `since` =
/// creation, `last_fired` = the later of the CronJob's `lastScheduleTime` and what the
/// operator recorded itself. Triggers the operator ensured but the store has not shown
/// yet are kept.
fn refresh_triggers(world: &mut World, cron_jobs: &[CronJob]) {
    for cj in cron_jobs {
        let labels = cj.metadata.labels.clone().unwrap_or_default();
        if labels
            .get(cairn_core::api::label::MANAGED_BY)
            .map(String::as_str)
            != Some(MANAGED_BY_CAIRN)
        {
            continue;
        }
        let (Some(bc), Some(session)) = (labels.get(INVOKER_NAME), labels.get(SESSION_NAME)) else {
            continue;
        };
        let namespace = cj.metadata.namespace.clone().unwrap_or_default();
        let key = (ObjectKey::new(namespace, bc.clone()), session.clone());
        let spec = cj.spec.clone();
        let scheduled = cj
            .status
            .as_ref()
            .and_then(|s| s.last_schedule_time.as_ref())
            .map(from_time);
        let created = cj.metadata.creation_timestamp.as_ref().map(from_time);
        let previous = world.triggers.get(&key);
        let since = previous.map(|t| t.since).or(created).unwrap_or_default();
        let last_fired = previous.and_then(|t| t.last_fired).max(scheduled);
        world.triggers.insert(
            key,
            Trigger {
                name: cj.metadata.name.clone().unwrap_or_default(),
                schedule: spec.schedule,
                suspended: spec.suspend.unwrap_or(false),
                since,
                last_fired,
            },
        );
    }
}

/// The job key of an executor Job, from its labels.
pub fn job_key(job: &Job) -> Option<JobKey> {
    let labels = job.metadata.labels.as_ref()?;
    let kind = match labels.get(JOB_KIND_LABEL)?.as_str() {
        "backup" => JobKind::Backup,
        "restore" => JobKind::Restore,
        _ => return None,
    };
    Some(JobKey::new(
        kind,
        job.metadata.namespace.clone().unwrap_or_default(),
        labels.get(INVOKER_NAME)?.clone(),
    ))
}

/// What the executor reported, read back from the statuses it patched: the Snapshots'
/// components (backup) or the RestoreSession's components (restore).
pub fn reported_result(world: &World, fact: &JobFact) -> Option<JobResult> {
    let ns = &fact.spec.key.namespace;
    match fact.spec.key.kind {
        JobKind::Backup => {
            let per_snapshot: BTreeMap<_, _> = fact
                .spec
                .snapshots
                .iter()
                .filter_map(|t| {
                    let snap = world
                        .snapshots
                        .get(&ObjectKey::new(ns.clone(), t.snapshot.clone()))?;
                    // Only what the executor finished counts as its report: `Running`
                    // entries are the operator's own placeholders while the job runs.
                    let components: BTreeMap<_, _> = snap
                        .status
                        .as_ref()?
                        .components
                        .iter()
                        .filter(|(_, c)| {
                            matches!(
                                c.phase,
                                Some(ComponentPhase::Succeeded | ComponentPhase::Failed)
                            )
                        })
                        .map(|(k, c)| (k.clone(), c.clone()))
                        .collect();
                    (!components.is_empty()).then(|| (t.snapshot.clone(), components))
                })
                .collect();
            (!per_snapshot.is_empty()).then_some(JobResult::Backup(per_snapshot))
        }
        JobKind::Restore => {
            let key = ObjectKey::new(ns.clone(), fact.spec.key.session.clone());
            let status = world.restore_sessions.get(&key)?.status.as_ref()?;
            let components: BTreeMap<_, _> = status
                .components
                .iter()
                // Only finished components are the executor's report (see above).
                .filter(|(_, c)| {
                    matches!(
                        c.phase,
                        Some(RestorePhase::Succeeded | RestorePhase::Failed)
                    )
                })
                .map(|(name, c)| {
                    let phase = c
                        .phase
                        .and_then(|p| serde_json::to_value(p).ok())
                        .and_then(|v| serde_json::from_value::<ComponentPhase>(v).ok())
                        .unwrap_or(ComponentPhase::Failed);
                    let result = RestoreComponentResult {
                        phase,
                        duration: c.duration.clone(),
                        error: c.error.clone(),
                    };
                    (name.clone(), result)
                })
                .collect();
            (!components.is_empty()).then_some(JobResult::Restore(components))
        }
    }
}

fn condition_true<'a>(
    job: &'a Job,
    type_: &str,
) -> Option<&'a k8s_openapi::api::batch::v1::JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
}

/// The job spec an executor Job carries in its annotation (written by the operator).
pub fn job_spec(job: &Job) -> Option<JobSpec> {
    let text = job
        .metadata
        .annotations
        .as_ref()?
        .get(JOB_SPEC_ANNOTATION)?;
    serde_json::from_str(text).ok()
}

/// Executor Jobs the world has no record of (the operator restarted or failed over while
/// they ran): the core adopts those whose session is unfinished.
pub fn adopted_jobs(world: &World, jobs: &[Job]) -> Vec<Fact> {
    jobs.iter()
        .filter(|j| job_key(j).is_some_and(|k| !world.jobs.contains_key(&k)))
        .filter_map(job_spec)
        .map(|spec| Fact::ExecutorJobSeen { spec })
        .collect()
}

/// What the executor Jobs say about the jobs the core requested.
#[derive(Debug, Default)]
pub struct JobFacts {
    /// Started, succeeded (with the result read back from statuses), failed, or gone.
    pub facts: Vec<Fact>,
    /// When to look again for the report of a completed job not visible yet.
    pub recheck_at: Option<DateTime<Utc>>,
}

/// Facts about the executor jobs the core requested: started, succeeded (with the
/// result read back from statuses), failed, or gone after having started.
pub fn job_facts(world: &World, jobs: &[Job], now: DateTime<Utc>) -> JobFacts {
    let by_key: BTreeMap<JobKey, &Job> =
        jobs.iter().filter_map(|j| Some((job_key(j)?, j))).collect();
    let mut out = JobFacts::default();
    for (key, fact) in &world.jobs {
        if fact.is_finished() {
            continue;
        }
        let Some(job) = by_key.get(key) else {
            if fact.phase == JobPhase::Running {
                out.facts.push(Fact::JobVanished {
                    job: key.clone(),
                    at: now,
                });
            }
            continue;
        };
        let status = job.status.clone().unwrap_or_default();
        let started = status.start_time.as_ref().map(from_time).unwrap_or(now);
        if fact.phase == JobPhase::Pending
            && (status.active.unwrap_or(0) > 0 || status.start_time.is_some())
        {
            out.facts.push(Fact::JobStarted {
                job: key.clone(),
                at: started,
            });
        }
        if let Some(done) = condition_true(job, "Complete") {
            let at = done
                .last_transition_time
                .as_ref()
                .map(from_time)
                .unwrap_or(now);
            match completed_job(key.clone(), reported_result(world, fact), at, now) {
                Ok(fact) => out.facts.push(fact),
                Err(again) => {
                    out.recheck_at = Some(out.recheck_at.map_or(again, |t| t.min(again)));
                }
            }
        } else if let Some(failed) = condition_true(job, "Failed") {
            let at = failed
                .last_transition_time
                .as_ref()
                .map(from_time)
                .unwrap_or(now);
            let message = format!(
                "executor Job {} failed: {}",
                job.metadata.name.as_deref().unwrap_or_default(),
                failed
                    .message
                    .as_deref()
                    .or(failed.reason.as_deref())
                    .unwrap_or("unknown reason")
            );
            out.facts.push(Fact::JobFailed {
                job: key.clone(),
                message,
                result: reported_result(world, fact),
                at,
            });
        }
    }
    out
}
