//! The CronJob controller (batch/v1): Jobs on schedule, `concurrencyPolicy`, `suspend`,
//! `startingDeadlineSeconds`, history limits, `status.active`/`lastScheduleTime`/
//! `lastSuccessfulTime`.

mod naming;
mod schedule;

use super::clock::{instant, time};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, PostParams, PropagationPolicy};
use kube::runtime::watcher;
use kube::{Api, Client, Resource as _, ResourceExt as _};
use tokio::sync::Notify;

use super::api_errors::{has_code, ignore_not_found};
use super::informer::Informer;
use super::job::is_finished;
use super::ownership::{controlled_by, controller_ref};
use super::status_update::{replace_status, Recent};
use schedule::Schedule;

/// Cron slots are checked this often (upstream requeues at the next slot + 100ms).
const RESYNC: Duration = Duration::from_millis(500);

/// Runs the CronJob controller until dropped.
pub async fn run(client: Client) {
    let changed = Arc::new(Notify::new());
    let cronjobs = Informer::start(
        Api::<CronJob>::all(client.clone()),
        watcher::Config::default(),
        changed.clone(),
    );
    let jobs = Informer::start(
        Api::<Job>::all(client.clone()),
        watcher::Config::default(),
        changed.clone(),
    );
    cronjobs.ready().await;
    jobs.ready().await;
    let mut ctl = CronJobController {
        client,
        recent: Recent::default(),
    };
    loop {
        for cj in cronjobs.store.state() {
            let uid = cj.uid().unwrap_or_default();
            let owned: Vec<Arc<Job>> = jobs.store.state_filter(|j| controlled_by(j, &uid));
            if let Err(e) = ctl.sync(&cj, &owned).await {
                tracing::warn!(cronjob = %cj.name_any(), error = %e, "cronjob sync failed");
            }
        }
        let _ = tokio::time::timeout(RESYNC, changed.notified()).await;
    }
}

struct CronJobController {
    client: Client,
    recent: Recent<CronJob>,
}

fn job_ref(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some(Job::api_version(&()).into_owned()),
        kind: Some(Job::kind(&()).into_owned()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        ..ObjectReference::default()
    }
}

fn succeeded(job: &Job) -> bool {
    job.status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
        .any(|c| c.type_ == "Complete" && c.status == "True")
}

impl CronJobController {
    async fn sync(&mut self, cached: &CronJob, owned: &[Arc<Job>]) -> kube::Result<()> {
        if cached.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        let cj = self.recent.latest(cached);
        let ns = cj.namespace().unwrap_or_default();
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), &ns);
        let cronjobs: Api<CronJob> = Api::namespaced(self.client.clone(), &ns);
        let spec = cj.spec.clone();
        let mut status = cj.status.clone().unwrap_or_default();
        let now = super::clock::now();

        // status.active: unfinished owned Jobs, plus listed ones the cache has not shown yet
        // but the API server still has (upstream checks the server before dropping one).
        let mut active: Vec<ObjectReference> = owned
            .iter()
            .filter(|j| !is_finished(j))
            .map(|j| job_ref(j))
            .collect();
        for r in status.active.iter().flatten() {
            let known = owned.iter().any(|j| j.metadata.uid == r.uid);
            let Some(name) = r.name.as_deref().filter(|_| !known) else {
                continue;
            };
            if let Ok(Some(j)) = jobs.get_opt(name).await {
                if !is_finished(&j) {
                    active.push(job_ref(&j));
                }
            }
        }
        status.active = (!active.is_empty()).then_some(active.clone());
        let last_success = owned
            .iter()
            .filter(|j| succeeded(j))
            .filter_map(|j| j.status.as_ref()?.completion_time.as_ref().map(instant))
            .max();
        if let Some(t) = last_success.filter(|t| {
            status
                .last_successful_time
                .as_ref()
                .is_none_or(|old| instant(old) < *t)
        }) {
            status.last_successful_time = Some(time(t));
        }
        self.prune_history(&jobs, &spec, owned).await;

        let created = if spec.suspend == Some(true) {
            None
        } else {
            self.schedule(&cj, &jobs, &active, now).await?
        };
        if let Some((job, at)) = created {
            status
                .active
                .get_or_insert_with(Vec::new)
                .push(job_ref(&job));
            status.last_schedule_time = Some(time(at));
        }
        let mut next = cj.clone();
        next.status = Some(status);
        if let Some(written) = replace_status(&cronjobs, &cj, next).await? {
            self.recent.wrote(cached, written);
        }
        Ok(())
    }

    /// Creates the Job of the most recent unmet slot, if one is due and allowed.
    async fn schedule(
        &self,
        cj: &CronJob,
        jobs: &Api<Job>,
        active: &[ObjectReference],
        now: DateTime<Utc>,
    ) -> kube::Result<Option<(Job, DateTime<Utc>)>> {
        let spec = cj.spec.clone();
        let sched = match Schedule::parse(&spec.schedule, spec.time_zone.as_deref()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(cronjob = %cj.name_any(), error = %e, "unusable schedule");
                return Ok(None);
            }
        };
        let status = cj.status.clone().unwrap_or_default();
        let created_at = cj.metadata.creation_timestamp.as_ref().map_or(now, instant);
        let mut earliest = status
            .last_schedule_time
            .as_ref()
            .map_or(created_at, instant);
        if let Some(d) = spec.starting_deadline_seconds {
            earliest = earliest.max(now - chrono::Duration::seconds(d));
        }
        let slot = match sched.most_recent(earliest, now) {
            Ok(Some(s)) => s,
            Ok(None) => return Ok(None),
            Err(e) => {
                tracing::warn!(cronjob = %cj.name_any(), error = %e, "unusable schedule");
                return Ok(None);
            }
        };
        if spec
            .starting_deadline_seconds
            .is_some_and(|d| slot + chrono::Duration::seconds(d) < now)
        {
            tracing::info!(cronjob = %cj.name_any(), "missed starting window");
            return Ok(None);
        }
        match spec.concurrency_policy.as_deref() {
            Some("Forbid") if !active.is_empty() => return Ok(None),
            Some("Replace") => {
                let dp = background();
                for r in active {
                    ignore_not_found(
                        jobs.delete(r.name.as_deref().unwrap_or_default(), &dp)
                            .await,
                    )?;
                }
            }
            _ => {}
        }
        let job = job_for(cj, slot, sched.tz());
        let result = jobs.create(&PostParams::default(), &job).await;
        if has_code(&result, 409) {
            // Upstream: "Job already exists"; the slot is not recorded (see naming.rs).
            tracing::debug!(job = %job.name_any(), "job already exists");
            return Ok(None);
        }
        Ok(Some((result?, slot)))
    }

    /// Deletes finished Jobs beyond `successfulJobsHistoryLimit` (3) / `failedJobsHistoryLimit` (1).
    async fn prune_history(
        &self,
        jobs: &Api<Job>,
        spec: &k8s_openapi::api::batch::v1::CronJobSpec,
        owned: &[Arc<Job>],
    ) {
        let limits = [
            (true, spec.successful_jobs_history_limit.unwrap_or(3)),
            (false, spec.failed_jobs_history_limit.unwrap_or(1)),
        ];
        for (ok, limit) in limits {
            let mut done: Vec<&Arc<Job>> = owned
                .iter()
                .filter(|j| is_finished(j) && succeeded(j) == ok)
                .collect();
            done.sort_by_key(|j| {
                j.status
                    .as_ref()
                    .and_then(|s| s.start_time.as_ref().map(instant))
                    .or(j.metadata.creation_timestamp.as_ref().map(instant))
            });
            let extra = done
                .len()
                .saturating_sub(usize::try_from(limit).unwrap_or(0));
            for j in done.into_iter().take(extra) {
                if let Err(e) = ignore_not_found(jobs.delete(&j.name_any(), &background()).await) {
                    tracing::warn!(job = %j.name_any(), error = %e, "pruning a job failed");
                }
            }
        }
    }
}

fn background() -> DeleteParams {
    DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..DeleteParams::default()
    }
}

/// The Job of `cj` for `slot`: the job template with the scheduled-time annotation, owned by `cj`.
fn job_for(cj: &CronJob, slot: DateTime<Utc>, tz: chrono_tz::Tz) -> Job {
    let template = cj.spec.job_template.clone();
    let meta = template.metadata.unwrap_or_default();
    let mut annotations = meta.annotations.unwrap_or_default();
    annotations.insert(
        naming::SCHEDULED_TIMESTAMP.to_owned(),
        naming::scheduled_timestamp(slot, tz),
    );
    Job {
        metadata: ObjectMeta {
            name: Some(naming::job_name(&cj.name_any(), slot)),
            namespace: cj.namespace(),
            labels: meta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![controller_ref(cj)]),
            ..ObjectMeta::default()
        },
        spec: Some(template.spec.unwrap_or_default()),
        status: None,
    }
}
