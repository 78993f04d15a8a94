//! The Job controller (batch/v1): pods from `spec.template`, retries up to `backoffLimit`,
//! `activeDeadlineSeconds`, `suspend`, `ttlSecondsAfterFinished`, status via `/status`.

mod conditions;
mod plan;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, PostParams, PropagationPolicy};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt as _};
use tokio::sync::Notify;

use super::api_errors::ignore_not_found;
use super::expectations::Expectations;
use super::informer::Informer;
use super::ownership::{controlled_by, controller_ref};
use super::pod_template::pod_from_template;
use super::status_update::{replace_status, Recent};

pub use plan::{BACKOFF_BASE, BACKOFF_MAX};

/// Whether `job` is finished (`Complete` or `Failed`).
pub fn is_finished(job: &Job) -> bool {
    job.status.as_ref().is_some_and(conditions::finished)
}

/// How often Jobs are synced even without events (deadlines, backoffs, TTLs).
const RESYNC: Duration = Duration::from_secs(1);

/// Runs the Job controller until dropped.
pub async fn run(client: Client) {
    let changed = Arc::new(Notify::new());
    let jobs = Informer::start(
        Api::<Job>::all(client.clone()),
        watcher::Config::default(),
        changed.clone(),
    );
    let pods = Informer::start(
        Api::<Pod>::all(client.clone()),
        watcher::Config::default(),
        changed.clone(),
    );
    jobs.ready().await;
    pods.ready().await;
    let mut ctl = JobController {
        client,
        expectations: Expectations::default(),
        recent: Recent::default(),
    };
    loop {
        for job in jobs.store.state() {
            let uid = job.uid().unwrap_or_default();
            let owned: Vec<Arc<Pod>> = pods.store.state_filter(|p| controlled_by(p, &uid));
            if let Err(e) = ctl.sync(&job, &owned).await {
                tracing::warn!(job = %job.name_any(), error = %e, "job sync failed");
            }
        }
        let _ = tokio::time::timeout(RESYNC, changed.notified()).await;
    }
}

struct JobController {
    client: Client,
    expectations: Expectations,
    recent: Recent<Job>,
}

impl JobController {
    async fn sync(&mut self, cached: &Job, owned: &[Arc<Pod>]) -> kube::Result<()> {
        let ns = cached.namespace().unwrap_or_default();
        let uid = cached.uid().unwrap_or_default();
        if cached.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        let names: Vec<String> = owned.iter().map(|p| p.name_any()).collect();
        if !self
            .expectations
            .satisfied(&uid, |n| names.iter().any(|m| m == n))
        {
            return Ok(());
        }
        let job = self.recent.latest(cached);
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), &ns);
        let now = super::clock::now();
        if conditions::finished(job.status.as_ref().unwrap_or(&Default::default())) {
            return self.expire(&jobs, &job).await;
        }
        let pods: Vec<&Pod> = owned.iter().map(|p| p.as_ref()).collect();
        let plan = plan::plan(&job, &pods, now);
        let pod_api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let mut created = Vec::new();
        for _ in 0..plan.create {
            let pod = self.pod_for(&job);
            match pod_api.create(&PostParams::default(), &pod).await {
                Ok(p) => created.push(p.name_any()),
                Err(e) => {
                    tracing::warn!(job = %job.name_any(), error = %e, "creating a pod failed")
                }
            }
        }
        for name in &plan.delete {
            if let Err(e) = ignore_not_found(pod_api.delete(name, &DeleteParams::default()).await) {
                tracing::warn!(pod = %name, error = %e, "deleting a pod failed");
            }
        }
        let mut next = job.clone();
        next.status = Some(plan.status);
        if let Some(written) = replace_status(&jobs, &job, next).await? {
            self.recent.wrote(cached, written);
        }
        self.expectations.expect(&uid, created, vec![]);
        Ok(())
    }

    fn pod_for(&self, job: &Job) -> Pod {
        let name = job.name_any();
        let uid = job.uid().unwrap_or_default();
        let labels = BTreeMap::from([
            ("job-name".to_owned(), name.clone()),
            ("batch.kubernetes.io/job-name".to_owned(), name.clone()),
            ("controller-uid".to_owned(), uid.clone()),
            ("batch.kubernetes.io/controller-uid".to_owned(), uid),
        ]);
        let template = job
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        pod_from_template(
            &template,
            &job.namespace().unwrap_or_default(),
            &name,
            controller_ref(job),
            labels,
        )
    }

    /// `ttlSecondsAfterFinished`: deletes a finished Job (and, in the background, its pods).
    async fn expire(&self, jobs: &Api<Job>, job: &Job) -> kube::Result<()> {
        let Some(ttl) = job.spec.as_ref().and_then(|s| s.ttl_seconds_after_finished) else {
            return Ok(());
        };
        let Some(at) = job.status.as_ref().and_then(conditions::finished_at) else {
            return Ok(());
        };
        if super::clock::now() < at + chrono::Duration::seconds(i64::from(ttl)) {
            return Ok(());
        }
        let dp = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        ignore_not_found(jobs.delete(&job.name_any(), &dp).await)
    }
}
