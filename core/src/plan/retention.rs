//! The RetentionPolicy planner: which Snapshots of one repository to keep or delete.
//!
//! How the rules combine (KubeStash removes everything outside `maxRetentionPeriod`, and
//! applies keep counts inside it):
//! 1. A snapshot that has not finished (Pending, Running) is always kept and never counted.
//! 2. A finished snapshot older than `now - maxRetentionPeriod` is deleted ("older than 2mo").
//! 3. Inside the period, successful snapshots go through the `successfulSnapshots` rules
//!    with restic `forget --keep-*` bucket semantics: newest first, each rule keeps the
//!    newest snapshot of each distinct hour/day/ISO week/month/year (UTC) until it has kept
//!    N buckets; `last` keeps the N newest. A snapshot is kept if any rule keeps it. With
//!    no count rule at all, every successful snapshot inside the period is kept.
//! 4. Inside the period, the newest `failedSnapshots.last` (default 1) failed ones are kept.
//! 5. Whatever the policy, the newest successful snapshot is never deleted, so a
//!    repository always holds a restorable point, even when it is older than the period.
//!
//! Unlike restic 0.15+, a rule with counts left over does not also keep the oldest
//! snapshot: the rule is exactly "newest of the N newest buckets".

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::period::{PeriodError, RetentionPeriod};
use crate::api::RetentionPolicySpec;

/// A snapshot's phase as retention sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CandidatePhase {
    /// `Succeeded`: counted by `successfulSnapshots`.
    Succeeded,
    /// `Failed`: counted by `failedSnapshots`.
    Failed,
    /// `Pending`, `Running` or unknown: never deleted.
    Unfinished,
}

/// One Snapshot of the repository (and session) being planned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// Snapshot name; unique within the repository.
    pub name: String,
    /// `status.snapshotTime` (or creation time when absent).
    pub time: DateTime<Utc>,
    /// Phase class.
    pub phase: CandidatePhase,
}

/// A RetentionPolicy reduced to what planning needs; a count of 0 disables its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeepPolicy {
    /// `successfulSnapshots.last`: keep the N newest.
    pub last: u32,
    /// `successfulSnapshots.hourly`: newest of each of the N newest hours.
    pub hourly: u32,
    /// `successfulSnapshots.daily`: newest of each of the N newest days.
    pub daily: u32,
    /// `successfulSnapshots.weekly`: newest of each of the N newest ISO weeks.
    pub weekly: u32,
    /// `successfulSnapshots.monthly`: newest of each of the N newest months.
    pub monthly: u32,
    /// `successfulSnapshots.yearly`: newest of each of the N newest years.
    pub yearly: u32,
    /// `failedSnapshots.last`: keep the N newest failed snapshots (KubeStash default 1).
    pub failed_last: u32,
    /// `maxRetentionPeriod`: delete finished snapshots older than `now - period`.
    pub max_retention_period: Option<RetentionPeriod>,
}

impl Default for KeepPolicy {
    /// No count rule, no period, `failedSnapshots.last = 1`: keeps every successful snapshot.
    fn default() -> Self {
        KeepPolicy {
            last: 0,
            hourly: 0,
            daily: 0,
            weekly: 0,
            monthly: 0,
            yearly: 0,
            failed_last: 1,
            max_retention_period: None,
        }
    }
}

/// Why a snapshot is kept.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeepReason {
    /// Among the newest `successfulSnapshots.last` (the value is N).
    Last(u32),
    /// Newest of its hour bucket (label `2026-11-20T13`).
    Hourly(String),
    /// Newest of its day bucket (label `2026-11-20`).
    Daily(String),
    /// Newest of its ISO-week bucket (label `2026-W47`).
    Weekly(String),
    /// Newest of its month bucket (label `2026-11`).
    Monthly(String),
    /// Newest of its year bucket (label `2026`).
    Yearly(String),
    /// Among the newest `failedSnapshots.last` failed snapshots (the value is N).
    FailedLast(u32),
    /// The newest successful snapshot, which is never deleted.
    NewestSuccessful,
    /// Not finished yet (Pending/Running).
    Unfinished,
    /// The policy has no `successfulSnapshots` count, so every one in the period stays.
    NoCountRule,
}

/// Why a snapshot is deleted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeleteReason {
    /// Finished before `now - maxRetentionPeriod`.
    OlderThan(RetentionPeriod),
    /// Successful, but no `successfulSnapshots` rule selected it.
    NotSelected,
    /// Failed, and newer failed snapshots fill `failedSnapshots.last` (the value is N).
    BeyondFailedLast(u32),
}

/// The outcome for one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Keep, for at least one reason.
    Keep(Vec<KeepReason>),
    /// Delete, for this reason.
    Delete(DeleteReason),
}

/// The decision for one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decision {
    /// Snapshot name.
    pub name: String,
    /// Snapshot time.
    pub time: DateTime<Utc>,
    /// Phase class.
    pub phase: CandidatePhase,
    /// Keep or delete, with reasons.
    pub verdict: Verdict,
}

/// Decisions for every distinct snapshot name, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RetentionPlan {
    /// One decision per snapshot, newest first (ties by name, descending).
    pub decisions: Vec<Decision>,
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::Last(n) => write!(f, "last {n}"),
            KeepReason::Hourly(b) => write!(f, "hourly {b}"),
            KeepReason::Daily(b) => write!(f, "daily {b}"),
            KeepReason::Weekly(b) => write!(f, "weekly {b}"),
            KeepReason::Monthly(b) => write!(f, "monthly {b}"),
            KeepReason::Yearly(b) => write!(f, "yearly {b}"),
            KeepReason::FailedLast(n) => write!(f, "failed last {n}"),
            KeepReason::NewestSuccessful => f.write_str("newest successful snapshot"),
            KeepReason::Unfinished => f.write_str("not finished"),
            KeepReason::NoCountRule => f.write_str("no successfulSnapshots limit"),
        }
    }
}

impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeleteReason::OlderThan(p) => write!(f, "older than {p}"),
            DeleteReason::NotSelected => f.write_str("not kept by any successfulSnapshots rule"),
            DeleteReason::BeyondFailedLast(n) => write!(f, "beyond failed last {n}"),
        }
    }
}

impl fmt::Display for Decision {
    /// One line: `keep   <name> <time> (<reasons>)` or `delete <name> <time> (<reason>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = self.time.format("%Y-%m-%dT%H:%M:%SZ");
        match &self.verdict {
            Verdict::Keep(reasons) => {
                let text: Vec<String> = reasons.iter().map(ToString::to_string).collect();
                write!(f, "keep   {} {time} ({})", self.name, text.join(", "))
            }
            Verdict::Delete(reason) => write!(f, "delete {} {time} ({reason})", self.name),
        }
    }
}

impl fmt::Display for RetentionPlan {
    /// One decision per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.decisions {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl RetentionPlan {
    /// Names of the snapshots to delete, newest first.
    pub fn to_delete(&self) -> impl Iterator<Item = &str> {
        self.decisions
            .iter()
            .filter(|d| matches!(d.verdict, Verdict::Delete(_)))
            .map(|d| d.name.as_str())
    }

    /// Names of the snapshots to keep, newest first.
    pub fn to_keep(&self) -> impl Iterator<Item = &str> {
        self.decisions
            .iter()
            .filter(|d| matches!(d.verdict, Verdict::Keep(_)))
            .map(|d| d.name.as_str())
    }
}

impl KeepPolicy {
    /// Reads a RetentionPolicy spec; negative counts count as 0, `failedSnapshots.last`
    /// defaults to 1, and a blank `maxRetentionPeriod` means no maximum.
    pub fn from_spec(spec: &RetentionPolicySpec) -> Result<Self, PeriodError> {
        let count = |n: Option<i32>| n.map_or(0, |n| u32::try_from(n).unwrap_or(0));
        let ok = spec.successful_snapshots.clone().unwrap_or_default();
        Ok(KeepPolicy {
            last: count(ok.last),
            hourly: count(ok.hourly),
            daily: count(ok.daily),
            weekly: count(ok.weekly),
            monthly: count(ok.monthly),
            yearly: count(ok.yearly),
            failed_last: count(Some(spec.failed_snapshots_last())),
            max_retention_period: RetentionPeriod::parse_optional(Some(
                &spec.max_retention_period,
            ))?,
        })
    }

    /// Whether any `successfulSnapshots` count rule is set.
    pub fn has_count_rule(&self) -> bool {
        self.bucket_rules().iter().any(|(_, n)| *n > 0)
    }

    fn bucket_rules(&self) -> [(Bucket, u32); 6] {
        [
            (Bucket::Last, self.last),
            (Bucket::Hourly, self.hourly),
            (Bucket::Daily, self.daily),
            (Bucket::Weekly, self.weekly),
            (Bucket::Monthly, self.monthly),
            (Bucket::Yearly, self.yearly),
        ]
    }

    /// The count rules as restic `forget` flags, e.g. `["--keep-last", "5"]`.
    ///
    /// `maxRetentionPeriod` and `failedSnapshots` have no restic equivalent (restic's
    /// `--keep-within` only *adds* keeps, relative to the newest snapshot), so
    /// `cairn forget` runs [`plan_retention`] and removes the chosen snapshots by id;
    /// these flags document and cross-check the count rules.
    pub fn to_restic_args(&self) -> Vec<String> {
        self.bucket_rules()
            .iter()
            .filter(|(_, n)| *n > 0)
            .flat_map(|(bucket, n)| [format!("--keep-{}", bucket.flag()), n.to_string()])
            .collect()
    }
}

/// The calendar unit a successful-snapshot rule groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Last,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Bucket {
    fn flag(self) -> &'static str {
        match self {
            Bucket::Last => "last",
            Bucket::Hourly => "hourly",
            Bucket::Daily => "daily",
            Bucket::Weekly => "weekly",
            Bucket::Monthly => "monthly",
            Bucket::Yearly => "yearly",
        }
    }

    /// The bucket label of a time; `None` for `Last`, where every snapshot is its own bucket.
    fn label(self, t: DateTime<Utc>) -> Option<String> {
        let (y, m, d, h) = (t.year(), t.month(), t.day(), t.hour());
        match self {
            Bucket::Last => None,
            Bucket::Hourly => Some(format!("{y:04}-{m:02}-{d:02}T{h:02}")),
            Bucket::Daily => Some(format!("{y:04}-{m:02}-{d:02}")),
            Bucket::Weekly => {
                let w = t.iso_week();
                Some(format!("{:04}-W{:02}", w.year(), w.week()))
            }
            Bucket::Monthly => Some(format!("{y:04}-{m:02}")),
            Bucket::Yearly => Some(format!("{y:04}")),
        }
    }

    fn reason(self, n: u32, label: Option<String>) -> KeepReason {
        let label = label.unwrap_or_default();
        match self {
            Bucket::Last => KeepReason::Last(n),
            Bucket::Hourly => KeepReason::Hourly(label),
            Bucket::Daily => KeepReason::Daily(label),
            Bucket::Weekly => KeepReason::Weekly(label),
            Bucket::Monthly => KeepReason::Monthly(label),
            Bucket::Yearly => KeepReason::Yearly(label),
        }
    }
}

/// Plans retention for the snapshots of one repository (and session) at time `now`.
///
/// The result is independent of input order. A name listed more than once is decided
/// once, from its newest entry.
pub fn plan_retention(
    candidates: &[Candidate],
    policy: &KeepPolicy,
    now: DateTime<Utc>,
) -> RetentionPlan {
    let sorted = newest_first_unique(candidates);
    let cutoff = policy.max_retention_period.and_then(|p| p.cutoff(now));
    let expired = |c: &Candidate| cutoff.is_some_and(|cut| c.time < cut);

    let live_successes: Vec<&Candidate> = sorted
        .iter()
        .copied()
        .filter(|c| c.phase == CandidatePhase::Succeeded && !expired(c))
        .collect();
    let mut success_reasons = successful_keep_reasons(&live_successes, policy).into_iter();
    let mut failed_seen = 0u32;
    let newest_success = sorted
        .iter()
        .position(|c| c.phase == CandidatePhase::Succeeded);

    let decisions = sorted
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let verdict = match c.phase {
                CandidatePhase::Unfinished => Verdict::Keep(vec![KeepReason::Unfinished]),
                _ if Some(i) == newest_success && expired(c) => {
                    Verdict::Keep(vec![KeepReason::NewestSuccessful])
                }
                _ if expired(c) => Verdict::Delete(DeleteReason::OlderThan(
                    policy.max_retention_period.unwrap_or_default(),
                )),
                CandidatePhase::Succeeded => {
                    // live_successes is in the same order, so its reasons come next.
                    let reasons = success_reasons.next().unwrap_or_default();
                    if reasons.is_empty() {
                        Verdict::Delete(DeleteReason::NotSelected)
                    } else {
                        Verdict::Keep(reasons)
                    }
                }
                CandidatePhase::Failed => {
                    failed_seen += 1;
                    if failed_seen <= policy.failed_last {
                        Verdict::Keep(vec![KeepReason::FailedLast(policy.failed_last)])
                    } else {
                        Verdict::Delete(DeleteReason::BeyondFailedLast(policy.failed_last))
                    }
                }
            };
            Decision {
                name: c.name.clone(),
                time: c.time,
                phase: c.phase,
                verdict,
            }
        })
        .collect();
    RetentionPlan { decisions }
}

/// Sorts newest first (ties: name descending, then phase) and drops repeated names.
fn newest_first_unique(candidates: &[Candidate]) -> Vec<&Candidate> {
    let mut sorted: Vec<&Candidate> = candidates.iter().collect();
    sorted.sort_by(|a, b| {
        b.time
            .cmp(&a.time)
            .then_with(|| b.name.cmp(&a.name))
            .then_with(|| a.phase.cmp(&b.phase))
    });
    let mut seen = BTreeSet::new();
    sorted.retain(|c| seen.insert(c.name.as_str()));
    sorted
}

/// Keep reasons for each successful snapshot inside the period (same order; empty = delete).
fn successful_keep_reasons(snapshots: &[&Candidate], policy: &KeepPolicy) -> Vec<Vec<KeepReason>> {
    if !policy.has_count_rule() {
        return vec![vec![KeepReason::NoCountRule]; snapshots.len()];
    }
    let mut reasons = vec![Vec::new(); snapshots.len()];
    for (bucket, n) in policy.bucket_rules() {
        let mut remaining = n;
        let mut last_label: Option<Option<String>> = None;
        for (i, c) in snapshots.iter().enumerate() {
            if remaining == 0 {
                break;
            }
            let label = bucket.label(c.time);
            // `Last` has no label: every snapshot starts a new bucket.
            if bucket == Bucket::Last || last_label.as_ref() != Some(&label) {
                reasons[i].push(bucket.reason(n, label.clone()));
                last_label = Some(label);
                remaining -= 1;
            }
        }
    }
    reasons
}

#[cfg(test)]
#[path = "retention_tests.rs"]
mod tests;
