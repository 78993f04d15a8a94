//! Snapshot status: components from the backup job's facts, `BackupIncomplete` when the
//! executor died or the deadline passed, metadata upload, phase, size and integrity.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::api::condition::{get_condition, is_condition_true};
use crate::api::condition_type::*;
use crate::api::{
    BackupSession, Component, ComponentPhase, Driver, Kind, ObjectReference, Snapshot,
    SnapshotPhase, SnapshotStatus,
};
use crate::effect::{Effect, Plan};
use crate::event::Event;
use crate::job::{JobFact, JobKey, JobKind, JobPhase, JobResult};
use crate::plan::naming::snapshot_metadata_path;
use crate::world::object::created_at;
use crate::world::{FileState, Inflight, ObjectKey, ObjectRef, Status, World};

use super::write::{ensure_finalizer, patch_status, set_and_announce};

/// Attempts at uploading a Snapshot YAML before `SnapshotMetadataUploaded=False`.
pub const METADATA_UPLOAD_ATTEMPTS: u32 = 5;
/// Wait after the first failed Snapshot YAML upload (then ×4 per failure).
pub const METADATA_UPLOAD_RETRY_AFTER: Duration = Duration::seconds(10);
/// Longest wait between two Snapshot YAML uploads.
pub const METADATA_UPLOAD_RETRY_AFTER_MAX: Duration = Duration::minutes(5);
/// Cairn condition counting failed Snapshot YAML uploads while they are retried (its
/// message records the attempt number and the failure's time, so a restart keeps count).
pub const TYPE_SNAPSHOT_METADATA_UPLOAD_RETRIED: &str = "SnapshotMetadataUploadRetried";
/// Reason of `SnapshotMetadataUploadRetried` and of its Warning events.
pub const REASON_SNAPSHOT_METADATA_UPLOAD_FAILED: &str = "SnapshotMetadataUploadFailed";

/// Reconciles one live Snapshot.
pub fn reconcile_snapshot(world: &World, snapshot: &Snapshot, now: DateTime<Utc>, plan: &mut Plan) {
    let me = ObjectRef::of(Kind::Snapshot, &snapshot.metadata);
    ensure_finalizer(plan, &me, &snapshot.metadata);
    let old = snapshot.status.as_ref();
    let mut status = old.cloned().unwrap_or_default();
    if status.is_completed() {
        return; // terminal: never rewritten
    }
    status.snapshot_time = status
        .snapshot_time
        .or_else(|| created_at(&snapshot.metadata));
    let job_key = JobKey::new(
        JobKind::Backup,
        me.key.namespace.clone(),
        snapshot.spec.backup_session.clone(),
    );
    let job = world.jobs.get(&job_key);
    let session = world.backup_sessions.get(&ObjectKey::new(
        me.key.namespace.clone(),
        snapshot.spec.backup_session.clone(),
    ));
    if let Some(job) = job {
        record_components(snapshot, job, &mut status);
        if job.phase == JobPhase::Failed && !has_result(job, &me.key.name) {
            let why = format!("the backup executor of BackupSession {} terminated before completing Snapshot {}: {}", snapshot.spec.backup_session, me.key, job.message);
            set_and_announce(
                plan,
                &me,
                &mut status.conditions,
                TYPE_BACKUP_INCOMPLETE,
                true,
                REASON_BACKUP_EXECUTOR_TERMINATED_BEFORE_COMPLETION,
                why,
                now,
            );
        }
    }
    if deadline_passed(session, now)
        && !components_done(&status)
        && !is_condition_true(&status.conditions, TYPE_BACKUP_INCOMPLETE)
    {
        let why = format!(
            "BackupSession {} passed its backupTimeout before Snapshot {} completed",
            snapshot.spec.backup_session, me.key
        );
        set_and_announce(
            plan,
            &me,
            &mut status.conditions,
            TYPE_BACKUP_INCOMPLETE,
            true,
            REASON_BACKUP_EXECUTOR_TERMINATED_BEFORE_COMPLETION,
            why,
            now,
        );
    }
    if components_done(&status) && !is_condition_true(&status.conditions, TYPE_BACKUP_INCOMPLETE) {
        upload_metadata(world, snapshot, &me, &mut status, now, plan);
    }
    status.size = status.calculate_size();
    status.integrity = status.calculate_integrity();
    status.phase = Some(status.calculate_phase());
    if old.map(|o| (&o.components, &o.conditions)) != Some((&status.components, &status.conditions))
    {
        status.last_update_time = Some(now);
    }
    patch_status(plan, &me, old, status, Status::Snapshot);
}

/// Whether the job reported every component of `snapshot` as finished (a component still
/// `Running` or `Pending` in a failed job's report was cut short: the backup is incomplete).
fn has_result(job: &JobFact, snapshot: &str) -> bool {
    let Some(JobResult::Backup(results)) = &job.result else {
        return false;
    };
    results.get(snapshot).is_some_and(|components| {
        !components.is_empty()
            && components.values().all(|c| {
                matches!(
                    c.phase,
                    Some(ComponentPhase::Succeeded | ComponentPhase::Failed)
                )
            })
    })
}

fn deadline_passed(session: Option<&BackupSession>, now: DateTime<Utc>) -> bool {
    session
        .and_then(|s| s.status.as_ref())
        .and_then(|s| s.backup_deadline)
        .is_some_and(|d| now >= d)
}

fn components_done(status: &SnapshotStatus) -> bool {
    matches!(
        status.components_phase(),
        SnapshotPhase::Succeeded | SnapshotPhase::Failed
    )
}

/// Components: the job's reported results, or `Running` entries while it runs.
fn record_components(snapshot: &Snapshot, job: &JobFact, status: &mut SnapshotStatus) {
    let name = snapshot.metadata.name.clone().unwrap_or_default();
    let planned: BTreeMap<String, String> = job
        .spec
        .snapshots
        .iter()
        .find(|t| t.snapshot == name)
        .map(|t| t.components.clone())
        .unwrap_or_default();
    status.total_components = i32::try_from(planned.len().max(1)).unwrap_or(1);
    if let Some(JobResult::Backup(results)) = &job.result {
        if let Some(components) = results.get(&name) {
            for (component, reported) in components {
                let mut c = reported.clone();
                if c.path.is_empty() {
                    c.path = planned
                        .get(component)
                        .cloned()
                        .unwrap_or_else(|| snapshot.component_path(component));
                }
                c.driver = c.driver.or(Some(Driver::Restic));
                status.components.insert(component.clone(), c);
            }
            return;
        }
    }
    if job.phase == JobPhase::Running {
        for (component, path) in planned {
            status
                .components
                .entry(component)
                .or_insert_with(|| Component {
                    path,
                    phase: Some(ComponentPhase::Running),
                    driver: Some(Driver::Restic),
                    ..Component::default()
                });
        }
    }
}

/// `SnapshotMetadataUploaded` and `RecentSnapshotListUpdated` once components are done.
fn upload_metadata(
    world: &World,
    snapshot: &Snapshot,
    me: &ObjectRef,
    status: &mut SnapshotStatus,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    let Some(repo) = world.repositories.get(&ObjectKey::new(
        me.key.namespace.clone(),
        snapshot.spec.repository.clone(),
    )) else {
        return;
    };
    let storage = super::repository::storage_key(repo);
    let path = snapshot_metadata_path(&repo.spec.path, &me.key.name);
    match world
        .backends
        .get(&storage)
        .and_then(|f| f.snapshots.get(&path))
    {
        Some(FileState::Present) => {
            let msg = format!("{path} uploaded to BackupStorage {storage}");
            set_and_announce(
                plan,
                me,
                &mut status.conditions,
                TYPE_SNAPSHOT_METADATA_UPLOADED,
                true,
                REASON_SUCCESSFULLY_UPLOADED_SNAPSHOT_METADATA,
                msg,
                now,
            );
            let msg = format!(
                "Repository {}/{} lists Snapshot {}",
                me.key.namespace, snapshot.spec.repository, me.key.name
            );
            super::write::set_quietly(
                &mut status.conditions,
                TYPE_RECENT_SNAPSHOT_LIST_UPDATED,
                true,
                REASON_SUCCESSFULLY_UPDATED_RECENT_SNAPSHOT_LIST,
                msg,
                now,
            );
        }
        Some(FileState::Failed { message, at }) => {
            let failure = UploadFailure {
                storage: &storage,
                path: &path,
                message,
                at: *at,
            };
            let attempts = record_failed_upload(me, status, &failure, now, plan);
            if attempts >= METADATA_UPLOAD_ATTEMPTS {
                let msg = format!(
                    "uploading {path} to BackupStorage {storage} failed {attempts} times, last: \
                     {message}; the backup data is in the restic repository, but this \
                     Snapshot cannot be recovered from the backend"
                );
                set_and_announce(
                    plan,
                    me,
                    &mut status.conditions,
                    TYPE_SNAPSHOT_METADATA_UPLOADED,
                    false,
                    REASON_FAILED_TO_UPLOAD_SNAPSHOT_METADATA,
                    msg,
                    now,
                );
                return;
            }
            let retry_at = *at + metadata_upload_backoff(attempts);
            if now < retry_at {
                plan.wake_at(retry_at);
            } else if !world
                .inflight
                .contains(&Inflight::UploadSnapshot(me.key.clone()))
            {
                push_upload(snapshot, me, status, path, storage, now, plan);
            }
        }
        None if !world
            .inflight
            .contains(&Inflight::UploadSnapshot(me.key.clone())) =>
        {
            push_upload(snapshot, me, status, path, storage, now, plan);
        }
        None => {}
    }
}

fn push_upload(
    snapshot: &Snapshot,
    me: &ObjectRef,
    status: &SnapshotStatus,
    path: String,
    storage: ObjectKey,
    now: DateTime<Utc>,
    plan: &mut Plan,
) {
    let mut uploaded = snapshot.clone();
    uploaded.status = Some(uploaded_status(status, &path, &storage, now));
    uploaded.metadata.finalizers = None;
    plan.push(Effect::UploadSnapshotMetadata {
        storage: ObjectRef {
            kind: Kind::BackupStorage,
            key: storage,
        },
        snapshot: me.clone(),
        path,
        yaml: serde_yaml::to_string(&uploaded).unwrap_or_default(),
    });
}

/// One failed answer to a Snapshot YAML upload.
struct UploadFailure<'a> {
    storage: &'a ObjectKey,
    path: &'a str,
    message: &'a str,
    at: DateTime<Utc>,
}

/// Counts `failure` once in the persisted `SnapshotMetadataUploadRetried` condition
/// (announcing it with a Warning) and returns the number of failed attempts so far.
fn record_failed_upload(
    me: &ObjectRef,
    status: &mut SnapshotStatus,
    failure: &UploadFailure,
    now: DateTime<Utc>,
    plan: &mut Plan,
) -> u32 {
    let recorded = get_condition(&status.conditions, TYPE_SNAPSHOT_METADATA_UPLOAD_RETRIED)
        .map(|c| parse_attempt(&c.message))
        .unwrap_or_default();
    let stamp = failure.at.to_rfc3339_opts(SecondsFormat::Millis, true);
    if recorded.is_some_and(|(_, at)| at == stamp) {
        return recorded.map_or(0, |(n, _)| n);
    }
    let attempts = recorded.map_or(0, |(n, _)| n) + 1;
    let next = if attempts >= METADATA_UPLOAD_ATTEMPTS {
        "giving up".to_owned()
    } else {
        format!(
            "retrying in {}s",
            metadata_upload_backoff(attempts).num_seconds()
        )
    };
    let message = format!(
        "attempt {attempts}/{METADATA_UPLOAD_ATTEMPTS} failed at {stamp}: uploading {} to \
         BackupStorage {} failed: {}; {next}",
        failure.path, failure.storage, failure.message
    );
    super::write::set_quietly(
        &mut status.conditions,
        TYPE_SNAPSHOT_METADATA_UPLOAD_RETRIED,
        true,
        REASON_SNAPSHOT_METADATA_UPLOAD_FAILED,
        message.clone(),
        now,
    );
    plan.push(Effect::Emit(Event::warning(
        me.clone(),
        REASON_SNAPSHOT_METADATA_UPLOAD_FAILED,
        format!("Snapshot {}: {message}", me.key),
    )));
    attempts
}

/// The attempt count and failure time recorded in a `SnapshotMetadataUploadRetried`
/// message (`attempt <n>/<max> failed at <rfc3339>: …`).
fn parse_attempt(message: &str) -> Option<(u32, &str)> {
    let rest = message.strip_prefix("attempt ")?;
    let (n, rest) = rest.split_once('/')?;
    let (_, rest) = rest.split_once(" failed at ")?;
    let (at, _) = rest.split_once(": ")?;
    Some((n.parse().ok()?, at))
}

/// Wait after the `attempts`-th failed upload: 10 s, ×4 each time, at most 5 min.
pub fn metadata_upload_backoff(attempts: u32) -> Duration {
    let factor = 4_i64.saturating_pow(attempts.saturating_sub(1).min(8));
    (METADATA_UPLOAD_RETRY_AFTER * i32::try_from(factor).unwrap_or(i32::MAX))
        .min(METADATA_UPLOAD_RETRY_AFTER_MAX)
}

/// The status the Snapshot will have once its YAML is uploaded: the file carries its
/// final phase, so a control plane recovering from it sees `Succeeded`, not `Running`.
fn uploaded_status(
    status: &SnapshotStatus,
    path: &str,
    storage: &ObjectKey,
    now: DateTime<Utc>,
) -> SnapshotStatus {
    let mut done = status.clone();
    super::write::set_quietly(
        &mut done.conditions,
        TYPE_SNAPSHOT_METADATA_UPLOADED,
        true,
        REASON_SUCCESSFULLY_UPLOADED_SNAPSHOT_METADATA,
        format!("{path} uploaded to BackupStorage {storage}"),
        now,
    );
    super::write::set_quietly(
        &mut done.conditions,
        TYPE_RECENT_SNAPSHOT_LIST_UPDATED,
        true,
        REASON_SUCCESSFULLY_UPDATED_RECENT_SNAPSHOT_LIST,
        "recent snapshot list updated".to_owned(),
        now,
    );
    done.size = done.calculate_size();
    done.integrity = done.calculate_integrity();
    done.phase = Some(done.calculate_phase());
    done.last_update_time = Some(now);
    done
}

/// The storage reference of a snapshot's repository, for effects that need it.
pub fn storage_of(world: &World, snapshot: &Snapshot) -> Option<(ObjectReference, String)> {
    let namespace = snapshot.metadata.namespace.clone().unwrap_or_default();
    let repo = world
        .repositories
        .get(&ObjectKey::new(namespace, snapshot.spec.repository.clone()))?;
    Some((repo.spec.storage_ref.clone(), repo.spec.path.clone()))
}
