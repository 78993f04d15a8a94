//! What the Job controller does for one Job, given its pods: the new status, how many pods
//! to create, which to delete. Pure, so it is unit-tested without a cluster.

use crate::controllers::clock::{instant, time};
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::{Job, JobStatus};
use k8s_openapi::api::core::v1::Pod;

use super::conditions::{self, Outcome};

/// Upstream's backoff after pod failures is 10s doubling to 6min; the test cluster uses 1s
/// doubling to 60s so retry tests take seconds.
pub const BACKOFF_BASE: Duration = Duration::from_secs(1);
/// Upper bound of the retry backoff.
pub const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// The controller's decision for one Job.
#[derive(Debug, Default)]
pub struct Plan {
    /// The status to write.
    pub status: JobStatus,
    /// Pods to create now.
    pub create: usize,
    /// Active pods to delete (names).
    pub delete: Vec<String>,
    /// When pods may be created, if a failure backoff holds them back.
    pub retry_at: Option<DateTime<Utc>>,
}

/// Pod counts of one Job.
#[derive(Debug, Default)]
struct Counts {
    active: Vec<String>,
    ready: i32,
    succeeded: i32,
    failed: i32,
    terminating: i32,
    restarts: i32,
    last_failure: Option<DateTime<Utc>>,
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

fn finish_time(pod: &Pod) -> Option<DateTime<Utc>> {
    pod.status
        .iter()
        .flat_map(|s| s.container_statuses.iter().flatten())
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref())
        .map(instant)
        .max()
}

fn count(pods: &[&Pod]) -> Counts {
    let mut c = Counts::default();
    for pod in pods {
        match phase(pod) {
            "Succeeded" => c.succeeded += 1,
            "Failed" => {
                c.failed += 1;
                c.last_failure = c.last_failure.max(finish_time(pod));
            }
            _ if pod.metadata.deletion_timestamp.is_some() => c.terminating += 1,
            _ => {
                c.active.push(pod.metadata.name.clone().unwrap_or_default());
                c.ready += i32::from(is_ready(pod));
                c.restarts += pod
                    .status
                    .iter()
                    .flat_map(|s| s.container_statuses.iter().flatten())
                    .map(|s| s.restart_count)
                    .sum::<i32>();
            }
        }
    }
    c
}

/// The backoff before the next pod after `failures` failures.
pub fn backoff(failures: i32) -> Duration {
    let exp = u32::try_from(failures.max(1) - 1).unwrap_or(0).min(16);
    (BACKOFF_BASE * 2u32.pow(exp)).min(BACKOFF_MAX)
}

fn positive(n: i32) -> Option<i32> {
    (n > 0).then_some(n)
}

/// Plans one sync of `job` whose (controlled) pods are `pods`.
pub fn plan(job: &Job, pods: &[&Pod], now: DateTime<Utc>) -> Plan {
    let spec = job.spec.clone().unwrap_or_default();
    let mut status = job.status.clone().unwrap_or_default();
    if conditions::finished(&status) {
        return Plan {
            status,
            ..Plan::default()
        };
    }
    let c = count(pods);
    let succeeded = status.succeeded.unwrap_or(0).max(c.succeeded);
    let failed = status.failed.unwrap_or(0).max(c.failed);
    status.succeeded = positive(succeeded);
    status.failed = positive(failed);
    status.active = positive(c.active.len() as i32);
    status.ready = Some(c.ready);
    status.terminating = Some(c.terminating);
    let mut plan = Plan::default();

    if spec.suspend == Some(true) {
        if !conditions::is_true(&status, conditions::SUSPENDED) {
            conditions::set(
                &mut status,
                conditions::SUSPENDED,
                true,
                "JobSuspended",
                "Job suspended",
                now,
            );
        }
        plan.delete = c.active;
        plan.status = status;
        return plan;
    }
    if conditions::is_true(&status, conditions::SUSPENDED) {
        conditions::set(
            &mut status,
            conditions::SUSPENDED,
            false,
            "JobResumed",
            "Job resumed",
            now,
        );
        // Resuming restarts the activeDeadlineSeconds timer, as upstream does.
        status.start_time = Some(time(now));
    }
    let start = instant(status.start_time.get_or_insert(time(now)));

    let outcome = Outcome::of(&status).or_else(|| {
        let restart_never = spec
            .template
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.as_deref())
            != Some("OnFailure");
        let limit = spec.backoff_limit.unwrap_or(6);
        let failures = if restart_never {
            failed
        } else {
            failed + c.restarts
        };
        let completions = spec.completions.unwrap_or(1);
        if spec
            .active_deadline_seconds
            .is_some_and(|d| (now - start).num_seconds() >= d)
        {
            Some(Outcome::DeadlineExceeded)
        } else if failures > limit {
            Some(Outcome::BackoffLimitExceeded)
        } else if succeeded >= completions {
            Some(Outcome::CompletionsReached)
        } else {
            None
        }
    });

    if let Some(outcome) = outcome {
        let (interim, last) = outcome.condition_types();
        if !conditions::is_true(&status, interim) {
            conditions::set(
                &mut status,
                interim,
                true,
                outcome.reason(),
                outcome.message(),
                now,
            );
        }
        if c.active.is_empty() && c.terminating == 0 {
            conditions::set(
                &mut status,
                last,
                true,
                outcome.reason(),
                outcome.message(),
                now,
            );
            if outcome == Outcome::CompletionsReached {
                status.completion_time = Some(time(now));
            }
        }
        plan.delete = c.active;
        plan.status = status;
        return plan;
    }

    let completions = spec.completions.unwrap_or(1);
    let parallelism = spec.parallelism.unwrap_or(1);
    let want = parallelism.min(completions - succeeded) - c.active.len() as i32 - c.terminating;
    if want > 0 {
        let retry_at = (failed > 0)
            .then_some(c.last_failure)
            .flatten()
            .map(|t| t + chrono::Duration::from_std(backoff(failed)).unwrap_or_default());
        match retry_at {
            Some(at) if at > now => plan.retry_at = Some(at),
            _ => plan.create = want as usize,
        }
    }
    plan.status = status;
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::JobSpec;
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateTerminated, ContainerStatus, PodSpec, PodStatus,
        PodTemplateSpec,
    };

    fn job(backoff_limit: i32) -> Job {
        Job {
            spec: Some(JobSpec {
                backoff_limit: Some(backoff_limit),
                template: PodTemplateSpec {
                    spec: Some(PodSpec {
                        restart_policy: Some("Never".into()),
                        ..PodSpec::default()
                    }),
                    ..PodTemplateSpec::default()
                },
                ..JobSpec::default()
            }),
            ..Job::default()
        }
    }

    fn pod(name: &str, phase: &str, finished: DateTime<Utc>) -> Pod {
        let mut p = Pod::default();
        p.metadata.name = Some(name.into());
        p.status = Some(PodStatus {
            phase: Some(phase.into()),
            container_statuses: Some(vec![ContainerStatus {
                state: Some(ContainerState {
                    terminated: Some(ContainerStateTerminated {
                        finished_at: Some(time(finished)),
                        ..ContainerStateTerminated::default()
                    }),
                    ..ContainerState::default()
                }),
                ..ContainerStatus::default()
            }]),
            ..PodStatus::default()
        });
        p
    }

    fn types(s: &JobStatus) -> Vec<String> {
        s.conditions
            .iter()
            .flatten()
            .map(|c| c.type_.clone())
            .collect()
    }

    #[test]
    fn a_new_job_gets_one_pod_and_a_start_time() {
        let now = crate::controllers::clock::now();
        let p = plan(&job(0), &[], now);
        assert_eq!(p.create, 1);
        assert_eq!(p.status.start_time, Some(time(now)));
    }

    #[test]
    fn a_succeeded_pod_completes_the_job() {
        let now = crate::controllers::clock::now();
        let ok = pod("a", "Succeeded", now);
        let p = plan(&job(0), &[&ok], now);
        assert_eq!(types(&p.status), ["SuccessCriteriaMet", "Complete"]);
        assert_eq!(p.status.succeeded, Some(1));
        assert_eq!(p.status.completion_time, Some(time(now)));
        assert_eq!(p.create, 0);
    }

    #[test]
    fn failures_retry_with_backoff_then_exceed_the_limit() {
        let now = crate::controllers::clock::now();
        let f1 = pod("a", "Failed", now);
        let p = plan(&job(1), &[&f1], now);
        assert_eq!(p.create, 0);
        assert_eq!(p.retry_at, Some(now + chrono::Duration::seconds(1)));
        let later = now + chrono::Duration::seconds(2);
        assert_eq!(plan(&job(1), &[&f1], later).create, 1);
        let f2 = pod("b", "Failed", later);
        let p = plan(&job(1), &[&f1, &f2], later);
        assert_eq!(types(&p.status), ["FailureTarget", "Failed"]);
        let c = &p.status.conditions.as_ref().unwrap()[1];
        assert_eq!(c.reason.as_deref(), Some("BackoffLimitExceeded"));
        assert_eq!(p.status.completion_time, None);
    }

    #[test]
    fn the_deadline_fails_the_job_and_deletes_active_pods() {
        let now = crate::controllers::clock::now();
        let mut j = job(3);
        j.spec.as_mut().unwrap().active_deadline_seconds = Some(5);
        j.status = Some(JobStatus {
            start_time: Some(time(now - chrono::Duration::seconds(6))),
            ..JobStatus::default()
        });
        let mut running = pod("a", "Running", now);
        running.status.as_mut().unwrap().container_statuses = None;
        let p = plan(&j, &[&running], now);
        assert_eq!(types(&p.status), ["FailureTarget"]);
        assert_eq!(p.delete, ["a"]);
        let p = plan(&j, &[], now);
        assert_eq!(types(&p.status), ["FailureTarget", "Failed"]);
        assert_eq!(
            p.status.conditions.as_ref().unwrap()[1].reason.as_deref(),
            Some("DeadlineExceeded")
        );
    }

    #[test]
    fn suspend_deletes_pods_and_creates_none() {
        let now = crate::controllers::clock::now();
        let mut j = job(0);
        j.spec.as_mut().unwrap().suspend = Some(true);
        let p = plan(&j, &[], now);
        assert_eq!(p.create, 0);
        assert_eq!(types(&p.status), ["Suspended"]);
    }

    #[test]
    fn backoff_doubles_and_is_bounded() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(30), BACKOFF_MAX);
    }
}
