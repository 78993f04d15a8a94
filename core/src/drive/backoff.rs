//! A refused write stays with its object: the effects of an object whose request the
//! API server refused (or could not answer) wait, with exponential backoff, while every
//! other object's effects go on. The same idea as kube-runtime's per-object requeue, but
//! for the one world reconcile: the effect's *subject* is the object it writes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use crate::api::Kind;
use crate::effect::Effect;
use crate::job::JobKind;
use crate::world::ObjectRef;

/// First wait after a refusal; doubled per further refusal.
pub const FIRST_DELAY: Duration = Duration::milliseconds(500);
/// Longest wait between attempts (kube-runtime's default backoff caps near here too).
pub const MAX_DELAY: Duration = Duration::seconds(300);

/// The object an effect writes (or acts for): what a refusal of it holds back.
pub fn subject(effect: &Effect) -> ObjectRef {
    let session = |kind: JobKind, namespace: &str, name: &str| {
        let kind = match kind {
            JobKind::Backup => Kind::BackupSession,
            JobKind::Restore => Kind::RestoreSession,
        };
        ObjectRef::new(kind, namespace, name)
    };
    match effect {
        Effect::Apply(object) => object.object_ref(),
        Effect::PatchStatus { object, .. }
        | Effect::Delete { object, .. }
        | Effect::AddFinalizer(object)
        | Effect::RemoveFinalizer(object) => object.clone(),
        Effect::InitBackend { storage, .. } | Effect::WipeData { storage, .. } => storage.clone(),
        Effect::InitRepository { repository, .. } => repository.clone(),
        Effect::UploadSnapshotMetadata { snapshot, .. }
        | Effect::ForgetSnapshots { snapshot, .. } => snapshot.clone(),
        Effect::RunJob(spec) => session(spec.key.kind, &spec.key.namespace, &spec.key.session),
        Effect::CancelJob(key) => session(key.kind, &key.namespace, &key.session),
        Effect::RunHook(spec) => spec.key.session.clone(),
        Effect::EnsureTrigger { configuration, .. } | Effect::RecordFired { configuration, .. } => {
            configuration.clone()
        }
        Effect::Emit(event) => event.object.clone(),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Refusals {
    count: u32,
    retry_at: DateTime<Utc>,
}

/// The objects whose last write was refused, and when each may try again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Backoff {
    refused: BTreeMap<ObjectRef, Refusals>,
}

impl Backoff {
    /// Records a refusal of a write to `subject` at `now`; returns when it may try again.
    pub fn refused(&mut self, subject: ObjectRef, now: DateTime<Utc>) -> DateTime<Utc> {
        let entry = self.refused.entry(subject).or_insert(Refusals {
            count: 0,
            retry_at: now,
        });
        entry.count = entry.count.saturating_add(1);
        let delay = (0..entry.count - 1).fold(FIRST_DELAY, |d, _| (d * 2).min(MAX_DELAY));
        entry.retry_at = now + delay;
        entry.retry_at
    }

    /// Records that a write to `subject` went through: its backoff starts over.
    pub fn accepted(&mut self, subject: &ObjectRef) {
        self.refused.remove(subject);
    }

    /// The objects still waiting at `now`: a turn leaves their effects for later.
    pub fn waiting(&self, now: DateTime<Utc>) -> BTreeSet<ObjectRef> {
        self.refused
            .iter()
            .filter(|(_, r)| r.retry_at > now)
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// The earliest time a waiting object may try again.
    pub fn next_retry(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.refused
            .values()
            .map(|r| r.retry_at)
            .filter(|at| *at > now)
            .min()
    }

    /// How many writes to `subject` were refused in a row.
    pub fn refusals(&self, subject: &ObjectRef) -> u32 {
        self.refused.get(subject).map_or(0, |r| r.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_800_000_000_000 + ms).unwrap()
    }

    #[test]
    fn each_refusal_doubles_the_wait_up_to_the_cap_and_an_accepted_write_resets_it() {
        let mut b = Backoff::default();
        let cfg = ObjectRef::new(Kind::BackupConfiguration, "team-a", "nightly");
        let other = ObjectRef::new(Kind::BackupConfiguration, "team-b", "nightly");
        assert_eq!(b.refused(cfg.clone(), at(0)), at(500));
        assert_eq!(b.refused(cfg.clone(), at(500)), at(1500));
        assert_eq!(b.refused(cfg.clone(), at(1500)), at(3500));
        assert_eq!(b.waiting(at(1000)), BTreeSet::from([cfg.clone()]));
        assert!(!b.waiting(at(1000)).contains(&other), "others never wait");
        assert_eq!(b.next_retry(at(1000)), Some(at(3500)));
        assert!(b.waiting(at(3500)).is_empty(), "due again at retry_at");
        for _ in 0..30 {
            b.refused(cfg.clone(), at(0));
        }
        assert_eq!(b.next_retry(at(0)), Some(at(0) + MAX_DELAY));
        b.accepted(&cfg);
        assert_eq!(b.refusals(&cfg), 0);
        assert_eq!(b.refused(cfg, at(0)), at(500));
    }
}
