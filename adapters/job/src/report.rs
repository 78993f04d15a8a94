//! What a finished job reports, and the fact the core learns from it.

use chrono::{DateTime, Utc};

use std::collections::BTreeMap;

use cairn_core::api::{Component, ComponentPhase, Driver};
use cairn_core::job::{JobKey, JobResult, JobSpec, RestoreComponentResult};
use cairn_core::plan::GoDuration;
use cairn_core::world::Fact;

/// The result of one job run: component results, and the first failure if any.
#[derive(Clone, Debug, PartialEq)]
pub struct JobReport {
    /// Component results (backup: by snapshot then component; restore: by component).
    pub result: JobResult,
    /// Why the job failed (first failed component), `None` when all succeeded.
    pub error: Option<String>,
}

impl JobReport {
    /// The fact for the core: `JobSucceeded`, or `JobFailed` carrying the results.
    pub fn into_fact(self, job: JobKey, at: DateTime<Utc>) -> Fact {
        match self.error {
            None => Fact::JobSucceeded {
                job,
                result: self.result,
                at,
            },
            Some(message) => Fact::JobFailed {
                job,
                message,
                result: Some(self.result),
                at,
            },
        }
    }

    /// Every component of `spec` failed with `message` (the job could not even start,
    /// e.g. a Secret is missing): the Snapshots or the RestoreSession show why.
    pub fn failed(spec: &JobSpec, message: String) -> Self {
        let result = match &spec.restore {
            None => JobResult::Backup(
                spec.snapshots
                    .iter()
                    .map(|t| {
                        let components = t
                            .components
                            .iter()
                            .map(|(name, path)| {
                                let c = Component {
                                    path: path.clone(),
                                    phase: Some(ComponentPhase::Failed),
                                    error: message.clone(),
                                    driver: Some(Driver::Restic),
                                    ..Component::default()
                                };
                                (name.clone(), c)
                            })
                            .collect();
                        (t.snapshot.clone(), components)
                    })
                    .collect(),
            ),
            Some(source) => JobResult::Restore(
                source
                    .components
                    .keys()
                    .map(|name| {
                        let r = RestoreComponentResult {
                            phase: ComponentPhase::Failed,
                            duration: GoDuration::ZERO.to_string(),
                            error: message.clone(),
                        };
                        (name.clone(), r)
                    })
                    .collect::<BTreeMap<_, _>>(),
            ),
        };
        JobReport {
            result,
            error: Some(message),
        }
    }

    /// Whether every component succeeded.
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// The phase of a component from its outcome.
pub(crate) fn phase(ok: bool) -> ComponentPhase {
    if ok {
        ComponentPhase::Succeeded
    } else {
        ComponentPhase::Failed
    }
}

/// A Go duration string (`7.472499073s`) for a wall-clock span.
pub(crate) fn go_duration(span: std::time::Duration) -> String {
    let nanos = i64::try_from(span.as_nanos()).unwrap_or(i64::MAX);
    GoDuration::from_nanos(nanos).to_string()
}
