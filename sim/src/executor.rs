//! The fake executor: how a simulated job ends, and the result it reports, built from the
//! job's own spec (which snapshots and components it was asked to write or read).

use std::collections::BTreeMap;
use std::fmt;

use cairn_core::api::component_stats::{ResticStats, ResticSummary};
use cairn_core::api::{Component, ComponentPhase, Driver};
use cairn_core::job::{JobFact, JobKey, JobKind, JobResult, RestoreComponentResult};
use cairn_core::world::Fact;
use chrono::{DateTime, Utc};

/// How a running job ends.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobEnd {
    /// Finished and reported every component as succeeded.
    Succeeded,
    /// The database connection dropped: the job fails and reports failed components.
    DbDisconnect,
    /// The pod was killed: the job is gone without a report.
    Killed,
}

impl fmt::Debug for JobEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JobEnd::Succeeded => "succeeds",
            JobEnd::DbDisconnect => "fails (database connection dropped)",
            JobEnd::Killed => "is killed (pod gone, no report)",
        })
    }
}

/// A stable fake restic snapshot id (64 hex digits) for a name.
fn restic_id(name: &str) -> String {
    // FNV-1a: stable across builds, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}").repeat(4)
}

fn backup_result(job: &JobFact, ok: bool) -> JobResult {
    let mut out = BTreeMap::new();
    for target in &job.spec.snapshots {
        let components = target
            .components
            .iter()
            .map(|(name, path)| {
                let stats = ResticStats {
                    summary: ok.then(|| ResticSummary {
                        id: restic_id(&format!("{}/{name}", target.snapshot)),
                        uploaded: "1.000 MiB".to_owned(),
                        host_path: "dumpfile.sql".to_owned(),
                        size: "4.000 MiB".to_owned(),
                        ..ResticSummary::default()
                    }),
                    progress: None,
                };
                let component = Component {
                    path: path.clone(),
                    phase: Some(if ok {
                        ComponentPhase::Succeeded
                    } else {
                        ComponentPhase::Failed
                    }),
                    size: if ok {
                        "1.000 MiB".to_owned()
                    } else {
                        String::new()
                    },
                    duration: "3s".to_owned(),
                    integrity: ok.then_some(true),
                    error: if ok {
                        String::new()
                    } else {
                        "lost connection to the database during the dump".to_owned()
                    },
                    driver: Some(Driver::Restic),
                    restic_stats: if ok { vec![stats] } else { Vec::new() },
                    ..Component::default()
                };
                (name.clone(), component)
            })
            .collect();
        out.insert(target.snapshot.clone(), components);
    }
    JobResult::Backup(out)
}

fn restore_result(job: &JobFact, ok: bool) -> JobResult {
    let components = job
        .spec
        .restore
        .iter()
        .flat_map(|r| r.components.keys())
        .map(|name| {
            let result = RestoreComponentResult {
                phase: if ok {
                    ComponentPhase::Succeeded
                } else {
                    ComponentPhase::Failed
                },
                duration: "5s".to_owned(),
                error: if ok {
                    String::new()
                } else {
                    "lost connection to the database during the load".to_owned()
                },
            };
            (name.clone(), result)
        })
        .collect();
    JobResult::Restore(components)
}

/// The fact reporting that `job` started.
pub fn started(key: &JobKey, at: DateTime<Utc>) -> Fact {
    Fact::JobStarted {
        job: key.clone(),
        at,
    }
}

/// The fact reporting how `job` ended.
pub fn ended(job: &JobFact, end: JobEnd, at: DateTime<Utc>) -> Fact {
    let key = job.spec.key.clone();
    let result = |ok| match key.kind {
        JobKind::Backup => backup_result(job, ok),
        JobKind::Restore => restore_result(job, ok),
    };
    match end {
        JobEnd::Succeeded => Fact::JobSucceeded {
            job: key.clone(),
            result: result(true),
            at,
        },
        JobEnd::DbDisconnect => Fact::JobFailed {
            job: key.clone(),
            message: "database connection dropped".to_owned(),
            result: Some(result(false)),
            at,
        },
        JobEnd::Killed => Fact::JobVanished { job: key, at },
    }
}
