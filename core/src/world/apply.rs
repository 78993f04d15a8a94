//! Pure application of effects to the world model.
//!
//! Object effects change objects exactly as an API server would (create-or-update keeps
//! status; delete with finalizers only stamps `deletionTimestamp`). IO effects only record
//! that they were requested; their outcome comes back later as a [`super::Fact`].

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::label::CLEANUP_FINALIZER;
use crate::api::{
    Addon, AppBinding, BackupConfiguration, BackupSession, BackupStorage, Function, HookTemplate,
    Kind, Repository, RestoreSession, RetentionPolicy, Snapshot,
};
use crate::effect::Effect;
use crate::job::{JobFact, JobKey, JobKind, JobPhase};

use super::{
    HookFact, HookOutcome, Object, ObjectKey, ObjectRef, Status, Stored, Trigger, World,
    EVENT_HISTORY_LIMIT,
};

/// Applies one effect to the world. Idempotent: applying an effect twice equals once.
pub fn apply(world: &mut World, effect: &Effect) {
    if let Some(marker) = effect.inflight() {
        world.inflight.insert(marker);
    }
    match effect {
        Effect::Apply(object) => apply_object(world, object),
        Effect::PatchStatus { object, status } => patch_status(world, object, status),
        Effect::Delete { object, at } => request_delete(world, object, *at),
        Effect::AddFinalizer(object) => add_finalizer(world, object),
        Effect::RemoveFinalizer(object) => remove_finalizer(world, object),
        Effect::RunJob(spec) => {
            world
                .jobs
                .entry(spec.key.clone())
                .or_insert_with(|| JobFact::pending(spec.clone()));
        }
        Effect::CancelJob(key) => {
            if let Some(job) = world.jobs.get_mut(key).filter(|j| !j.is_finished()) {
                // The executor stops it; without a result the job counts as incomplete.
                job.phase = JobPhase::Failed;
                job.message = "cancelled: backup deadline exceeded".to_owned();
            }
        }
        Effect::RunHook(spec) => {
            world.hooks.entry(spec.key.clone()).or_insert(HookFact {
                outcome: HookOutcome::Pending,
                message: String::new(),
            });
        }
        Effect::EnsureTrigger {
            configuration,
            session,
            name,
            schedule,
            suspended,
            since,
        } => {
            let key = (configuration.key.clone(), session.clone());
            let trigger = world.triggers.entry(key).or_insert_with(|| Trigger {
                name: name.clone(),
                schedule: schedule.clone(),
                suspended: *suspended,
                since: *since,
                last_fired: None,
            });
            trigger.name.clone_from(name);
            trigger.schedule.clone_from(schedule);
            trigger.suspended = *suspended;
        }
        Effect::RecordFired {
            configuration,
            session,
            slot,
        } => {
            if let Some(t) = world
                .triggers
                .get_mut(&(configuration.key.clone(), session.clone()))
            {
                t.last_fired = Some(t.last_fired.map_or(*slot, |last| last.max(*slot)));
            }
        }
        Effect::Emit(event) => {
            // A replayed emit is the same event (Kubernetes aggregates repeats too).
            if world.events.last() == Some(event) {
                return;
            }
            world.events.push(event.clone());
            let excess = world.events.len().saturating_sub(EVENT_HISTORY_LIMIT);
            world.events.drain(..excess);
        }
        Effect::InitBackend { .. }
        | Effect::InitRepository { .. }
        | Effect::UploadSnapshotMetadata { .. }
        | Effect::ForgetSnapshots { .. }
        | Effect::WipeData { .. } => {}
    }
}

/// Creates `object` or updates its spec and metadata, keeping status and the
/// server-owned metadata (creation and deletion timestamps, finalizers added earlier).
pub fn apply_object(world: &mut World, object: &Object) {
    match object {
        Object::BackupStorage(o) => upsert(world, o),
        Object::Repository(o) => upsert(world, o),
        Object::Snapshot(o) => upsert(world, o),
        Object::RetentionPolicy(o) => upsert(world, o),
        Object::BackupConfiguration(o) => upsert(world, o),
        Object::BackupSession(o) => upsert(world, o),
        Object::RestoreSession(o) => upsert(world, o),
        Object::HookTemplate(o) => upsert(world, o),
        Object::Addon(o) => upsert(world, o),
        Object::Function(o) => upsert(world, o),
        Object::AppBinding(o) => upsert(world, o),
    }
}

fn upsert<T: Stored>(world: &mut World, new: &T) {
    let key = ObjectKey::of(new.meta());
    let map = T::map_mut(world);
    let mut merged = new.clone();
    if let Some(old) = map.get(&key) {
        let (old_meta, meta) = (old.meta(), merged.meta_mut());
        meta.creation_timestamp = meta
            .creation_timestamp
            .take()
            .or_else(|| old_meta.creation_timestamp.clone());
        meta.deletion_timestamp = old_meta.deletion_timestamp.clone();
        let mut finalizers = old_meta.finalizers.clone().unwrap_or_default();
        for f in meta.finalizers.take().unwrap_or_default() {
            if !finalizers.contains(&f) {
                finalizers.push(f);
            }
        }
        meta.finalizers = (!finalizers.is_empty()).then_some(finalizers);
        keep_status(old, &mut merged);
    }
    map.insert(key, merged);
}

/// Copies the status of `old` into `new`: an apply never writes status.
fn keep_status<T: Stored>(old: &T, new: &mut T) {
    // Round-trip through JSON keeps this generic over kinds without a status accessor
    // trait; objects are small and applies are rare compared with reconciles.
    let (Ok(old_json), Ok(mut new_json)) = (serde_json::to_value(old), serde_json::to_value(&*new))
    else {
        return;
    };
    match old_json.get("status") {
        Some(status) => new_json["status"] = status.clone(),
        None => {
            if let Some(map) = new_json.as_object_mut() {
                map.remove("status");
            }
        }
    }
    if let Ok(merged) = serde_json::from_value(new_json) {
        *new = merged;
    }
}

fn patch_status(world: &mut World, object: &ObjectRef, status: &Status) {
    let key = &object.key;
    match status {
        Status::BackupStorage(s) => {
            set(world.backup_storages.get_mut(key).map(|o| &mut o.status), s)
        }
        Status::Repository(s) => set(world.repositories.get_mut(key).map(|o| &mut o.status), s),
        Status::Snapshot(s) => set(world.snapshots.get_mut(key).map(|o| &mut o.status), s),
        Status::BackupConfiguration(s) => set(
            world
                .backup_configurations
                .get_mut(key)
                .map(|o| &mut o.status),
            s,
        ),
        Status::BackupSession(s) => {
            set(world.backup_sessions.get_mut(key).map(|o| &mut o.status), s)
        }
        Status::RestoreSession(s) => set(
            world.restore_sessions.get_mut(key).map(|o| &mut o.status),
            s,
        ),
    }
}

fn set<S: Clone>(slot: Option<&mut Option<S>>, status: &S) {
    if let Some(slot) = slot {
        *slot = Some(status.clone());
    }
}

fn request_delete(world: &mut World, r: &ObjectRef, at: DateTime<Utc>) {
    let time = super::object::to_time(at);
    edit_meta(world, r, |meta| {
        if meta.deletion_timestamp.is_none() {
            meta.deletion_timestamp = Some(time);
        }
    });
    remove_if_released(world, r);
}

fn add_finalizer(world: &mut World, r: &ObjectRef) {
    edit_meta(world, r, |meta| {
        if meta.deletion_timestamp.is_some() {
            return; // the API server refuses new finalizers on a deleting object
        }
        let list = meta.finalizers.get_or_insert_with(Vec::new);
        if !list.iter().any(|f| f == CLEANUP_FINALIZER) {
            list.push(CLEANUP_FINALIZER.to_owned());
        }
    });
}

fn remove_finalizer(world: &mut World, r: &ObjectRef) {
    edit_meta(world, r, |meta| {
        if let Some(list) = meta.finalizers.as_mut() {
            list.retain(|f| f != CLEANUP_FINALIZER);
            if list.is_empty() {
                meta.finalizers = None;
            }
        }
    });
    remove_if_released(world, r);
}

/// Removes a deleting object once no finalizer holds it (what the API server does).
fn remove_if_released(world: &mut World, r: &ObjectRef) {
    let mut released = false;
    edit_meta(world, r, |meta| {
        released =
            meta.deletion_timestamp.is_some() && meta.finalizers.as_ref().is_none_or(Vec::is_empty);
    });
    if !released {
        return;
    }
    forget_dependents(world, r);
    let key = &r.key;
    match r.kind {
        Kind::BackupStorage => drop(world.backup_storages.remove(key)),
        Kind::Repository => drop(world.repositories.remove(key)),
        Kind::Snapshot => drop(world.snapshots.remove(key)),
        Kind::RetentionPolicy => drop(world.retention_policies.remove(key)),
        Kind::BackupConfiguration => drop(world.backup_configurations.remove(key)),
        Kind::BackupSession => drop(world.backup_sessions.remove(key)),
        Kind::RestoreSession => drop(world.restore_sessions.remove(key)),
        Kind::HookTemplate => drop(world.hook_templates.remove(key)),
        Kind::Addon => drop(world.addons.remove(key)),
        Kind::Function => drop(world.functions.remove(key)),
        Kind::AppBinding => drop(world.app_bindings.remove(key)),
    }
}

/// Drops the bookkeeping that belongs to an object that is gone, so an object
/// re-created with the same name starts afresh: a storage re-initializes and re-lists
/// its backend, a configuration gets new triggers, a session (RestoreSession names are
/// user-chosen and reused) never inherits the job or hooks of its namesake, and a
/// deliberately deleted Repository or Snapshot is not recovered from the same listing.
fn forget_dependents(world: &mut World, r: &ObjectRef) {
    let key = &r.key;
    let owned = |job: &JobKey| job.namespace == key.namespace && job.session == key.name;
    match r.kind {
        Kind::BackupStorage => drop(world.backends.remove(key)),
        Kind::BackupConfiguration => world.triggers.retain(|(cfg, _), _| cfg != key),
        Kind::BackupSession | Kind::RestoreSession => {
            let kind = if r.kind == Kind::BackupSession {
                JobKind::Backup
            } else {
                JobKind::Restore
            };
            world.jobs.retain(|j, _| !(j.kind == kind && owned(j)));
            world.hooks.retain(|h, _| h.session != *r);
        }
        Kind::Repository | Kind::Snapshot => {
            for facts in world.backends.values_mut() {
                facts.forget_found(r.kind, key);
            }
        }
        _ => {}
    }
}

/// Edits the metadata of the object `r`, if it exists.
fn edit_meta(world: &mut World, r: &ObjectRef, f: impl FnOnce(&mut ObjectMeta)) {
    fn meta_of<'a, T: Stored>(world: &'a mut World, key: &ObjectKey) -> Option<&'a mut ObjectMeta> {
        T::map_mut(world).get_mut(key).map(|o| o.meta_mut())
    }
    let key = &r.key;
    let meta = match r.kind {
        Kind::BackupStorage => meta_of::<BackupStorage>(world, key),
        Kind::Repository => meta_of::<Repository>(world, key),
        Kind::Snapshot => meta_of::<Snapshot>(world, key),
        Kind::RetentionPolicy => meta_of::<RetentionPolicy>(world, key),
        Kind::BackupConfiguration => meta_of::<BackupConfiguration>(world, key),
        Kind::BackupSession => meta_of::<BackupSession>(world, key),
        Kind::RestoreSession => meta_of::<RestoreSession>(world, key),
        Kind::HookTemplate => meta_of::<HookTemplate>(world, key),
        Kind::Addon => meta_of::<Addon>(world, key),
        Kind::Function => meta_of::<Function>(world, key),
        Kind::AppBinding => meta_of::<AppBinding>(world, key),
    };
    if let Some(meta) = meta {
        f(meta);
    }
}
