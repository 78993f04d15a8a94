//! Effect → API requests: the pure translation layer.
//!
//! Each core effect becomes the requests that carry it out (server-side apply with field
//! manager `cairn`, status merge patches, deletions, finalizer JSON patches guarded by a
//! `test` operation, Jobs, CronJobs, Events), or backend IO, or nothing (bookkeeping the
//! core keeps in memory). The current world is read only to look things up (uids for
//! owner references, the finalizer list a `test` guards, a session's scheduler).

use cairn_core::api::label::CLEANUP_FINALIZER;
use cairn_core::api::{BackupStorage, Kind};
use cairn_core::effect::Effect;
use cairn_core::job::JobSpec;
use cairn_core::world::hook::HookSpec;
use cairn_core::world::{Object, ObjectKey, ObjectRef, World};
use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::objects::{self, Config, TriggerInput};
use crate::request::{Request, FIELD_MANAGER};
use crate::resource::{Resource, CRON_JOBS, EVENTS, JOBS, ROLE_BINDINGS, SERVICE_ACCOUNTS};

/// What carrying out one effect takes.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Requests to the API server, in order.
    Api(Vec<Request>),
    /// Backend IO (`InitBackend`, `InitRepository`, `UploadSnapshotMetadata`,
    /// `ForgetSnapshots`, `WipeData`), done by [`crate::backend`].
    Backend(Box<Effect>),
    /// A hook to run.
    Hook(HookSpec),
    /// Nothing outside the in-memory world (`RecordFired`).
    Memory,
}

/// Translates `effect` against the `world` it was planned from.
pub fn translate(
    effect: &Effect,
    world: &World,
    cfg: &Config,
    now: DateTime<Utc>,
) -> Result<Action> {
    let api = |r: Vec<Request>| Ok(Action::Api(r));
    match effect {
        Effect::Apply(object) => api(vec![apply_object(world, object)?]),
        Effect::PatchStatus { object, status } => {
            let status = to_json(&object.to_string(), status)?;
            let res = Resource::of(object.kind);
            let key = &object.key;
            api(vec![Request::apply_status(
                &res,
                &key.namespace,
                &key.name,
                status,
                FIELD_MANAGER,
            )])
        }
        Effect::Delete { object, .. } => {
            let res = Resource::of(object.kind);
            api(vec![Request::delete(
                &res,
                &object.key.namespace,
                &object.key.name,
            )])
        }
        Effect::AddFinalizer(object) => api(add_finalizer(world, object).into_iter().collect()),
        Effect::RemoveFinalizer(object) => {
            api(remove_finalizer(world, object).into_iter().collect())
        }
        Effect::RunJob(spec) => api(run_job(world, cfg, spec, now)),
        Effect::CancelJob(key) => api(vec![Request::delete(
            &JOBS,
            &key.namespace,
            &objects::job_name(key),
        )]),
        Effect::EnsureTrigger {
            configuration,
            session,
            name,
            schedule,
            suspended,
            ..
        } => api(ensure_trigger(
            world,
            cfg,
            configuration,
            session,
            name,
            schedule,
            *suspended,
        )),
        Effect::Emit(event) => {
            let uid = meta_of(world, &event.object).and_then(|m| m.uid.as_deref());
            let body = objects::event(cfg, event, uid, now);
            api(vec![Request::create(
                &EVENTS,
                &objects::namespace_of_event(event),
                body,
            )])
        }
        Effect::RunHook(spec) => Ok(Action::Hook(spec.clone())),
        Effect::RecordFired { .. } => Ok(Action::Memory),
        Effect::InitBackend { .. }
        | Effect::InitRepository { .. }
        | Effect::UploadSnapshotMetadata { .. }
        | Effect::ForgetSnapshots { .. }
        | Effect::WipeData { .. } => Ok(Action::Backend(Box::new(effect.clone()))),
    }
}

fn to_json<T: serde::Serialize>(what: &str, value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Serialization {
        what: what.to_owned(),
        message: e.to_string(),
    })
}

/// Metadata fields the API server owns; an apply never sends them.
const SERVER_FIELDS: [&str; 7] = [
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "resourceVersion",
    "uid",
    "generation",
    "managedFields",
];

/// The server-side apply of a core object: spec and metadata, never status. Owner
/// references the core made before the owner had a uid get it from the world.
pub fn apply_object(world: &World, object: &Object) -> Result<Request> {
    let r = object.object_ref();
    let mut body = to_json(&r.to_string(), object)?;
    if let Some(map) = body.as_object_mut() {
        map.remove("status");
        map.insert("apiVersion".into(), json!(r.kind.api_version()));
        map.insert("kind".into(), json!(r.kind.name()));
    }
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in SERVER_FIELDS {
            meta.remove(field);
        }
        fill_owner_uids(world, &r.key.namespace, meta);
    }
    let res = Resource::of(r.kind);
    Ok(Request::apply(&res, &r.key.namespace, &r.key.name, body))
}

/// The API server refuses an owner reference without a uid. The core copies the owner's
/// uid from the world, which lacks it when the owner was created in the same pass: take it
/// from the observed owner, or leave the reference out (an owned object without garbage
/// collection beats a refused apply; the next apply adds it once the owner is observed).
fn fill_owner_uids(world: &World, namespace: &str, meta: &mut serde_json::Map<String, Value>) {
    let Some(owners) = meta
        .get_mut("ownerReferences")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    owners.retain_mut(|owner| {
        if owner
            .get("uid")
            .and_then(Value::as_str)
            .is_some_and(|u| !u.is_empty())
        {
            return true;
        }
        let text = |field: &str| owner.get(field).and_then(Value::as_str).unwrap_or_default();
        let (api_version, kind, name) = (text("apiVersion"), text("kind"), text("name"));
        let uid = Kind::from_type_meta(api_version, kind)
            .and_then(|k| meta_of(world, &ObjectRef::new(k, namespace, name)))
            .and_then(|m| m.uid.clone())
            .filter(|u| !u.is_empty());
        match uid {
            Some(uid) => {
                owner["uid"] = json!(uid);
                true
            }
            None => {
                tracing::debug!(kind, name, "owner has no uid yet; reference left out");
                false
            }
        }
    });
    if owners.is_empty() {
        meta.remove("ownerReferences");
    }
}

fn finalizers(meta: &ObjectMeta) -> Vec<String> {
    meta.finalizers.clone().unwrap_or_default()
}

/// Adds `kubestash.com/cleanup` unless present; the `test` makes a concurrent change of
/// the list fail with 422/409 instead of clobbering it (kube-runtime's finalizer shape).
fn add_finalizer(world: &World, object: &ObjectRef) -> Option<Request> {
    let meta = meta_of(world, object)?;
    let current = finalizers(meta);
    if current.iter().any(|f| f == CLEANUP_FINALIZER) {
        return None;
    }
    let ops = if current.is_empty() {
        json!([
            { "op": "test", "path": "/metadata/finalizers", "value": meta.finalizers },
            { "op": "add", "path": "/metadata/finalizers", "value": [CLEANUP_FINALIZER] },
        ])
    } else {
        json!([
            { "op": "test", "path": "/metadata/finalizers", "value": current },
            { "op": "add", "path": "/metadata/finalizers/-", "value": CLEANUP_FINALIZER },
        ])
    };
    let res = Resource::of(object.kind);
    Some(Request::json_patch(
        &res,
        &object.key.namespace,
        &object.key.name,
        ops,
    ))
}

/// Removes `kubestash.com/cleanup` at the index it is seen at, guarded by a `test`.
fn remove_finalizer(world: &World, object: &ObjectRef) -> Option<Request> {
    let current = finalizers(meta_of(world, object)?);
    let index = current.iter().position(|f| f == CLEANUP_FINALIZER)?;
    let path = format!("/metadata/finalizers/{index}");
    let ops = json!([
        { "op": "test", "path": path, "value": CLEANUP_FINALIZER },
        { "op": "remove", "path": path },
    ]);
    let res = Resource::of(object.kind);
    Some(Request::json_patch(
        &res,
        &object.key.namespace,
        &object.key.name,
        ops,
    ))
}

/// Every namespace the executor reads, the job's own first: the target's (its AppBinding
/// and auth Secret), each BackupStorage's (its credentials Secret) and each encryption
/// Secret's. A BackupStorage shared from another namespace (`usagePolicy` From: All) is
/// common in KubeStash setups; without a binding there the executor is refused.
pub fn executor_namespaces(spec: &JobSpec) -> Vec<String> {
    let ns = spec.key.namespace.as_str();
    let or_own = |n: &str| {
        if n.is_empty() {
            ns.to_owned()
        } else {
            n.to_owned()
        }
    };
    let mut out = vec![ns.to_owned()];
    let refs = spec
        .snapshots
        .iter()
        .flat_map(|s| std::iter::once(&s.storage).chain(s.encryption_secret.as_ref()))
        .chain(
            spec.restore
                .iter()
                .flat_map(|r| std::iter::once(&r.storage).chain(r.encryption_secret.as_ref())),
        )
        .map(|r| or_own(&r.namespace))
        .chain(std::iter::once(or_own(&spec.target.namespace)));
    for n in refs {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// The executor's identity in the job's namespace, a binding in every namespace it
/// reads ([`executor_namespaces`]), then the Job itself.
fn run_job(world: &World, cfg: &Config, spec: &JobSpec, now: DateTime<Utc>) -> Vec<Request> {
    let ns = &spec.key.namespace;
    let account = &cfg.executor_service_account;
    let mut requests = vec![Request::apply(
        &SERVICE_ACCOUNTS,
        ns,
        account,
        objects::service_account(ns, account),
    )];
    for binding_ns in executor_namespaces(spec) {
        let name = objects::role_binding_name(&binding_ns, ns, account);
        let body = objects::role_binding(&binding_ns, ns, account, &cfg.executor_cluster_role);
        requests.push(Request::apply(&ROLE_BINDINGS, &binding_ns, &name, body));
    }
    let owner = match spec.key.kind {
        cairn_core::job::JobKind::Backup => Kind::BackupSession,
        cairn_core::job::JobKind::Restore => Kind::RestoreSession,
    };
    let session = ObjectRef::new(owner, ns.clone(), spec.key.session.clone());
    let uid = meta_of(world, &session).and_then(|m| m.uid.as_deref());
    let mut job = objects::executor_job(cfg, spec, uid, now);
    let local: Vec<&BackupStorage> = spec
        .snapshots
        .iter()
        .map(|s| &s.storage)
        .chain(spec.restore.iter().map(|r| &r.storage))
        .filter_map(|r| world.get(&ObjectKey::new(r.namespace_or(ns), r.name.clone())))
        .collect();
    objects::mount_local_storages(&mut job, &local);
    requests.push(Request::apply(
        &JOBS,
        ns,
        &objects::job_name(&spec.key),
        job,
    ));
    requests
}

fn ensure_trigger(
    world: &World,
    cfg: &Config,
    configuration: &ObjectRef,
    session: &str,
    name: &str,
    schedule: &str,
    suspended: bool,
) -> Vec<Request> {
    let ns = &configuration.key.namespace;
    let bc = world.backup_configurations.get(&configuration.key);
    let input = TriggerInput {
        namespace: ns,
        configuration: &configuration.key.name,
        configuration_uid: bc.and_then(|b| b.metadata.uid.as_deref()),
        session: bc.and_then(|b| b.spec.sessions.iter().find(|s| s.name == session)),
        session_name: session,
        name,
        schedule,
        suspended,
    };
    let account = &cfg.trigger_service_account;
    vec![
        Request::apply(
            &SERVICE_ACCOUNTS,
            ns,
            account,
            objects::service_account(ns, account),
        ),
        Request::apply(
            &ROLE_BINDINGS,
            ns,
            account,
            objects::role_binding(ns, ns, account, &cfg.trigger_cluster_role),
        ),
        Request::apply(&CRON_JOBS, ns, name, objects::trigger_cron_job(cfg, &input)),
    ]
}

/// Metadata of the object `r` in the world, if present.
pub fn meta_of<'a>(world: &'a World, r: &ObjectRef) -> Option<&'a ObjectMeta> {
    fn get<'a, T: cairn_core::world::Stored>(
        w: &'a World,
        k: &ObjectKey,
    ) -> Option<&'a ObjectMeta> {
        w.get::<T>(k).map(kube::Resource::meta)
    }
    use cairn_core::api as a;
    let k = &r.key;
    match r.kind {
        Kind::BackupStorage => get::<a::BackupStorage>(world, k),
        Kind::Repository => get::<a::Repository>(world, k),
        Kind::Snapshot => get::<a::Snapshot>(world, k),
        Kind::RetentionPolicy => get::<a::RetentionPolicy>(world, k),
        Kind::BackupConfiguration => get::<a::BackupConfiguration>(world, k),
        Kind::BackupSession => get::<a::BackupSession>(world, k),
        Kind::RestoreSession => get::<a::RestoreSession>(world, k),
        Kind::HookTemplate => get::<a::HookTemplate>(world, k),
        Kind::Addon => get::<a::Addon>(world, k),
        Kind::Function => get::<a::Function>(world, k),
        Kind::AppBinding => get::<a::AppBinding>(world, k),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::api::{Repository, Snapshot};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    fn snapshot_owned_by(repo: &str, uid: &str) -> Object {
        let mut s: Snapshot = serde_json::from_value(json!({
            "apiVersion": Kind::Snapshot.api_version(), "kind": "Snapshot",
            "metadata": {"name": "s", "namespace": "demo"},
            "spec": {"repository": repo},
        }))
        .expect("snapshot");
        s.metadata.owner_references = Some(vec![OwnerReference {
            api_version: Kind::Repository.api_version(),
            kind: "Repository".into(),
            name: repo.into(),
            uid: uid.into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]);
        Object::Snapshot(s)
    }

    fn world_with_repository(uid: Option<&str>) -> World {
        let mut world = World::new();
        let mut repo: Repository = serde_json::from_value(json!({
            "apiVersion": Kind::Repository.api_version(), "kind": "Repository",
            "metadata": {"name": "r", "namespace": "demo"},
            "spec": {"storageRef": {"name": "st"}, "appRef": {"name": "db"}},
        }))
        .expect("repository");
        repo.metadata.uid = uid.map(str::to_owned);
        world.repositories.insert(ObjectKey::new("demo", "r"), repo);
        world
    }

    #[test]
    fn an_owner_created_in_the_same_pass_gets_its_observed_uid() {
        let world = world_with_repository(Some("u-123"));
        let req = apply_object(&world, &snapshot_owned_by("r", "")).expect("request");
        assert_eq!(req.body["metadata"]["ownerReferences"][0]["uid"], "u-123");
    }

    #[test]
    fn an_owner_without_a_uid_is_left_out_rather_than_refused_by_the_server() {
        let world = world_with_repository(None);
        let req = apply_object(&world, &snapshot_owned_by("r", "")).expect("request");
        assert!(req.body["metadata"].get("ownerReferences").is_none());
    }

    #[test]
    fn a_known_uid_is_kept() {
        let world = World::new();
        let req = apply_object(&world, &snapshot_owned_by("r", "u-9")).expect("request");
        assert_eq!(req.body["metadata"]["ownerReferences"][0]["uid"], "u-9");
    }

    #[test]
    fn the_executor_is_bound_in_every_namespace_it_reads() {
        use cairn_core::api::{ObjectReference, TypedObjectReference};
        use cairn_core::job::{JobKey, JobKind, SnapshotTarget};
        let target = |storage: &str, secret: Option<&str>| SnapshotTarget {
            snapshot: "s".into(),
            repository: "r".into(),
            repository_path: "/r".into(),
            storage: ObjectReference::new(storage, "st"),
            encryption_secret: secret.map(|n| ObjectReference::new(n, "enc")),
            components: Default::default(),
        };
        let spec = JobSpec {
            key: JobKey::new(JobKind::Backup, "app", "nightly-1"),
            target: TypedObjectReference {
                namespace: "db".into(),
                name: "sdb".into(),
                ..Default::default()
            },
            addon: "singlestore-addon".into(),
            tasks: vec![],
            snapshots: vec![target("stash", Some("vault")), target("", None)],
            restore: None,
            deadline: None,
            runtime: None,
        };
        assert_eq!(executor_namespaces(&spec), ["app", "stash", "vault", "db"]);
    }
}
