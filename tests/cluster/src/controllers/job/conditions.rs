//! Job conditions, with the types, reasons and messages of Kubernetes 1.34.

use crate::controllers::clock::{instant, time};
use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::{JobCondition, JobStatus};

/// `Complete`: the Job succeeded (after every pod terminated).
pub const COMPLETE: &str = "Complete";
/// `Failed`: the Job failed (after every pod terminated).
pub const FAILED: &str = "Failed";
/// `SuccessCriteriaMet`: the Job will be `Complete` once its pods terminate.
pub const SUCCESS_CRITERIA_MET: &str = "SuccessCriteriaMet";
/// `FailureTarget`: the Job will be `Failed` once its pods terminate.
pub const FAILURE_TARGET: &str = "FailureTarget";
/// `Suspended`.
pub const SUSPENDED: &str = "Suspended";

/// Why a Job ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `completions` pods succeeded.
    CompletionsReached,
    /// More than `backoffLimit` pods failed.
    BackoffLimitExceeded,
    /// `activeDeadlineSeconds` passed.
    DeadlineExceeded,
}

impl Outcome {
    /// The condition reason.
    pub fn reason(self) -> &'static str {
        match self {
            Self::CompletionsReached => "CompletionsReached",
            Self::BackoffLimitExceeded => "BackoffLimitExceeded",
            Self::DeadlineExceeded => "DeadlineExceeded",
        }
    }

    /// The condition message.
    pub fn message(self) -> &'static str {
        match self {
            Self::CompletionsReached => "Reached expected number of succeeded pods",
            Self::BackoffLimitExceeded => "Job has reached the specified backoff limit",
            Self::DeadlineExceeded => "Job was active longer than specified deadline",
        }
    }

    /// (interim condition, final condition).
    pub fn condition_types(self) -> (&'static str, &'static str) {
        match self {
            Self::CompletionsReached => (SUCCESS_CRITERIA_MET, COMPLETE),
            _ => (FAILURE_TARGET, FAILED),
        }
    }

    /// The outcome a condition of `status` announces, if any.
    pub fn of(status: &JobStatus) -> Option<Self> {
        let c = status.conditions.iter().flatten().find(|c| {
            c.status == "True"
                && [SUCCESS_CRITERIA_MET, FAILURE_TARGET, COMPLETE, FAILED]
                    .contains(&c.type_.as_str())
        })?;
        Some(match c.reason.as_deref() {
            Some("DeadlineExceeded") => Self::DeadlineExceeded,
            Some("BackoffLimitExceeded") => Self::BackoffLimitExceeded,
            _ if c.type_ == SUCCESS_CRITERIA_MET || c.type_ == COMPLETE => Self::CompletionsReached,
            _ => Self::BackoffLimitExceeded,
        })
    }
}

/// Whether `status` has condition `type_` True.
pub fn is_true(status: &JobStatus, type_: &str) -> bool {
    status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == type_ && c.status == "True")
}

/// Whether the Job is finished (`Complete` or `Failed`).
pub fn finished(status: &JobStatus) -> bool {
    is_true(status, COMPLETE) || is_true(status, FAILED)
}

/// When the Job finished.
pub fn finished_at(status: &JobStatus) -> Option<DateTime<Utc>> {
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| (c.type_ == COMPLETE || c.type_ == FAILED) && c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(instant)
}

/// Sets condition `type_` (keeping its transition time when its status is unchanged).
pub fn set(
    status: &mut JobStatus,
    type_: &str,
    value: bool,
    reason: &str,
    message: &str,
    now: DateTime<Utc>,
) {
    let value = if value { "True" } else { "False" };
    let list = status.conditions.get_or_insert_with(Vec::new);
    if let Some(c) = list.iter_mut().find(|c| c.type_ == type_) {
        if c.status != value {
            c.last_transition_time = Some(time(now));
        }
        c.status = value.to_owned();
        c.reason = Some(reason.to_owned());
        c.message = Some(message.to_owned());
        c.last_probe_time = Some(time(now));
        return;
    }
    list.push(JobCondition {
        type_: type_.to_owned(),
        status: value.to_owned(),
        reason: Some(reason.to_owned()),
        message: Some(message.to_owned()),
        last_probe_time: Some(time(now)),
        last_transition_time: Some(time(now)),
    });
}
