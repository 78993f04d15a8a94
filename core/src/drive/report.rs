//! When a finished executor's report counts as missing. In a cluster the executor writes
//! its results into statuses and then exits; the Job's completion and those status writes
//! reach the control plane's watches in either order, so a completed Job whose results are
//! not visible yet is looked at again for a while before it counts as unreported.

use chrono::{DateTime, Duration, Utc};

use crate::job::{JobKey, JobResult};
use crate::world::Fact;

/// How long after its completion a job's report may still arrive.
pub const REPORT_GRACE_SECONDS: i64 = 60;

/// What an executor job that completed at `at` means at `now`, with the `result` read back
/// from the statuses: the fact to record, or the time to look again.
pub fn completed_job(
    job: JobKey,
    result: Option<JobResult>,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Fact, DateTime<Utc>> {
    match result {
        Some(result) => Ok(Fact::JobSucceeded { job, result, at }),
        None if now < at + Duration::seconds(REPORT_GRACE_SECONDS) => {
            Err(at + Duration::seconds(REPORT_GRACE_SECONDS))
        }
        None => Ok(Fact::JobFailed {
            job,
            message: format!(
                "the executor finished without reporting a result (none was visible {REPORT_GRACE_SECONDS}s after it completed)"
            ),
            result: None,
            at,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::JobKind;

    #[test]
    fn a_missing_report_is_awaited_for_the_grace_then_the_job_failed() {
        let job = JobKey::new(JobKind::Backup, "demo", "s");
        let at: DateTime<Utc> = "2026-12-04T10:00:00Z".parse().unwrap();
        let later = at + Duration::seconds(REPORT_GRACE_SECONDS);
        assert_eq!(completed_job(job.clone(), None, at, at), Err(later));
        assert!(matches!(
            completed_job(job.clone(), None, at, later),
            Ok(Fact::JobFailed { .. })
        ));
        let result = JobResult::Backup(Default::default());
        assert!(matches!(
            completed_job(job, Some(result), at, at),
            Ok(Fact::JobSucceeded { .. })
        ));
    }
}
