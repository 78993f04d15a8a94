//! `cairn exec backup|restore` inside a Kubernetes executor Job.
//!
//! The job runs what the operator planned, nothing else:
//!
//! 1. the core's [`JobSpec`] is read from the annotation [`JOB_SPEC_ANNOTATION`] of the
//!    executor Job (written by [`crate::objects::executor_job`] from the `RunJob`
//!    effect), so the executor never re-plans and cannot disagree with the operator;
//! 2. the objects the spec names are read through the API (the session, its
//!    BackupConfiguration, the AppBinding and its auth Secret, each Snapshot,
//!    Repository, BackupStorage and their Secrets) into a `World` of the same shape the
//!    operator builds; `local` BackupStorages are seen as mounted in this pod
//!    ([`crate::backend::pod_view`]);
//! 3. cairn-job resolves and runs the task;
//! 4. the result is patched into `status.components` of each Snapshot (backup) or of
//!    the RestoreSession (restore), status subresource, field manager `cairn`. The
//!    operator reads it back when the Job completes and decides the phases.
//!
//! A missing object is not an error of the executor: cairn-job reports it as failed
//! components with a message naming the object, which ends up in the statuses.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use cairn_core::api::{
    AppBinding, BackupConfiguration, BackupSession, BackupStorage, Kind, ObjectReference,
    Repository, RestoreSession, Snapshot,
};
use cairn_core::job::{JobKey, JobKind, JobResult, JobSpec};
use cairn_core::world::{ObjectKey, Stored, World};
use cairn_job::{resolve_inputs, run_backup, run_restore, HostStyle, JobReport};
use clap::{Args, ValueEnum};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Secret as KubeSecret;
use serde_json::{json, Value};
use tracing::{info, warn};

use crate::backend::pod_view;
use crate::error::{Error, Result};
use crate::execute::send;
use crate::objects::{job_name, JOB_SPEC_ANNOTATION};
use crate::observe::secret;
use crate::request::{Request, EXECUTOR_FIELD_MANAGER};
use crate::resource::{Resource, JOBS, SECRETS};

/// The job kinds of `cairn exec`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExecKind {
    /// The backup job of a BackupSession.
    Backup,
    /// The restore job of a RestoreSession.
    Restore,
}

/// Arguments of `cairn exec backup|restore` in a Kubernetes Job: the args the
/// KubeStash-shaped Functions pass. Only the namespace and the session select the job;
/// the other flags are accepted for compatibility (their values are already in the
/// job spec the operator wrote, as task params).
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// `backup` or `restore`.
    #[arg(value_enum)]
    pub what: ExecKind,
    /// Namespace of the session.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub namespace: String,
    /// The BackupSession (backup).
    #[arg(long)]
    pub backupsession: Option<String>,
    /// The RestoreSession (restore).
    #[arg(long)]
    pub restoresession: Option<String>,
    /// Directory relative local backend paths are resolved against.
    #[arg(long, default_value = "/")]
    pub base: PathBuf,
    /// Snapshot to restore (informational: the job spec names it).
    #[arg(long, allow_hyphen_values = true)]
    pub snapshot: Option<String>,
    /// Accepted for compatibility.
    #[arg(long, allow_hyphen_values = true)]
    pub enable_cache: Option<String>,
    /// Accepted for compatibility.
    #[arg(long, allow_hyphen_values = true)]
    pub scratch_dir: Option<String>,
    /// Accepted for compatibility.
    #[arg(long, allow_hyphen_values = true)]
    pub wait_timeout: Option<String>,
    /// Accepted for compatibility.
    #[arg(long, allow_hyphen_values = true)]
    pub db_version: Option<String>,
    /// Accepted for compatibility (the job spec's task params carry it).
    #[arg(long, allow_hyphen_values = true)]
    pub databases: Option<String>,
    /// Accepted for compatibility (the job spec's task params carry it).
    #[arg(long, allow_hyphen_values = true)]
    pub singlestore_args: Option<String>,
    /// Accepted for compatibility (the job spec's task params carry it).
    #[arg(long, allow_hyphen_values = true)]
    pub mysql_args: Option<String>,
    /// Accepted for compatibility (the job spec's task params carry it).
    #[arg(long, allow_hyphen_values = true)]
    pub mariadb_args: Option<String>,
}

impl ExecArgs {
    /// The job these arguments name.
    pub fn key(&self) -> Result<JobKey> {
        let (kind, session, flag) = match self.what {
            ExecKind::Backup => (JobKind::Backup, &self.backupsession, "--backupsession"),
            ExecKind::Restore => (JobKind::Restore, &self.restoresession, "--restoresession"),
        };
        match session.as_deref().filter(|s| !s.is_empty()) {
            Some(name) => Ok(JobKey::new(kind, self.namespace.clone(), name)),
            None => Err(Error::Input(format!("{flag} is required"))),
        }
    }
}

/// Runs `cairn exec` in a pod: the job, its status patches, and an exit status that
/// is an error when a component failed (the Job then fails; the statuses say why).
pub async fn run_exec(args: ExecArgs) -> anyhow::Result<()> {
    let key = args.key()?;
    let client = kube::Client::try_default()
        .await
        .context("connecting to the API server")?;
    crate::pod_liveness::register_from_env(&client);
    let report = exec(&client, &key, &args.base).await?;
    match &report.error {
        None => {
            info!(namespace = %key.namespace, session = %key.session, "executor job succeeded");
            Ok(())
        }
        Some(error) => anyhow::bail!("{error}"),
    }
}

/// Runs the executor job `key`: reads its spec and objects, runs it, patches the
/// statuses. Returns the report; `Err` only when the API server could not be used.
pub async fn exec(client: &kube::Client, key: &JobKey, base: &Path) -> Result<JobReport> {
    let spec = load_spec(client, key).await?;
    let world = match load_world(client, &spec).await {
        Ok(world) => world,
        Err(e) => return report_unreadable(client, &spec, e).await,
    };
    let report = match resolve_inputs(&world, &spec, HostStyle::Cluster, base) {
        Ok(inputs) => match spec.key.kind {
            JobKind::Backup => run_backup(&spec, &inputs).await,
            JobKind::Restore => run_restore(&spec, &inputs).await,
        },
        Err(e) => {
            warn!(category = e.category(), session = %key.session, "cannot start the job: {e}");
            JobReport::failed(
                &spec,
                format!(
                    "cannot start the job of {}/{}: {e}",
                    key.namespace, key.session
                ),
            )
        }
    };
    for request in status_requests(&spec, &report)? {
        send(client, &request).await?;
    }
    Ok(report)
}

/// Reports that the objects of `spec` could not be read (a 403 from RBAC, say) into the
/// statuses the job owns, so the session fails naming the object and the permission
/// instead of only a Job that "reached its backoff limit"; `Err(e)` if even that fails.
async fn report_unreadable(client: &kube::Client, spec: &JobSpec, e: Error) -> Result<JobReport> {
    let key = &spec.key;
    warn!(category = e.category(), session = %key.session, "cannot read the job's objects: {e}");
    let report = JobReport::failed(spec, unreadable_message(key, &e));
    for request in status_requests(spec, &report)? {
        if let Err(write) = send(client, &request).await {
            warn!(session = %key.session, "cannot report the failure either: {write}");
            return Err(e);
        }
    }
    Ok(report)
}

/// What a user reads when the executor could not read its inputs; a 403 says which
/// identity lacks which permission and where it is granted.
pub fn unreadable_message(key: &JobKey, e: &Error) -> String {
    let prefix = format!(
        "the executor of {}/{} could not read what the job needs: {e}",
        key.namespace, key.session
    );
    match e {
        Error::Rejected { code: 403, .. } => format!(
            "{prefix}. The operator binds the executor's ServiceAccount to its ClusterRole \
             (cairn-executor unless the operator is configured otherwise) in every namespace the job reads (the session's, the target's, each \
             BackupStorage's and encryption Secret's): check that this ClusterRole still grants \
             the permission (deploy/rbac or the Helm chart's rbac.yaml) and that no policy \
             removed the RoleBinding"
        ),
        _ => prefix,
    }
}

/// The job spec the operator wrote on the executor Job.
pub async fn load_spec(client: &kube::Client, key: &JobKey) -> Result<JobSpec> {
    let name = job_name(key);
    let job: Job = get(client, &JOBS, &key.namespace, &name)
        .await?
        .ok_or_else(|| Error::Input(format!("executor Job {}/{name} not found", key.namespace)))?;
    let text = job
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(JOB_SPEC_ANNOTATION))
        .ok_or_else(|| {
            Error::Input(format!(
                "executor Job {}/{name} has no annotation {JOB_SPEC_ANNOTATION}: it was not created by the Cairn operator",
                key.namespace
            ))
        })?;
    let spec: JobSpec = serde_json::from_str(text).map_err(|e| Error::Serialization {
        what: format!(
            "annotation {JOB_SPEC_ANNOTATION} of Job {}/{name}",
            key.namespace
        ),
        message: e.to_string(),
    })?;
    if &spec.key != key {
        return Err(Error::Input(format!(
            "executor Job {}/{name} runs session {}, not {}",
            key.namespace, spec.key.session, key.session
        )));
    }
    Ok(spec)
}

/// Reads one object; `None` when it does not exist.
async fn get<T: serde::de::DeserializeOwned>(
    client: &kube::Client,
    res: &Resource,
    namespace: &str,
    name: &str,
) -> Result<Option<T>> {
    let request = Request::get(res, namespace, name);
    let Some(value) = send(client, &request).await? else {
        return Ok(None);
    };
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| Error::Serialization {
            what: format!("{} {namespace}/{name}", res.kind),
            message: e.to_string(),
        })
}

/// Reads the core object `namespace/name` into `world`, if it exists.
async fn load<T: Stored>(
    client: &kube::Client,
    world: &mut World,
    namespace: &str,
    name: &str,
) -> Result<Option<T>> {
    if name.is_empty() {
        return Ok(None);
    }
    let object: Option<T> = get(client, &Resource::of(T::KIND), namespace, name).await?;
    if let Some(o) = &object {
        T::map_mut(world).insert(ObjectKey::new(namespace, name), o.clone());
    }
    Ok(object)
}

/// Reads the Secret `namespace/name` into `world`, if it exists.
async fn load_secret(
    client: &kube::Client,
    world: &mut World,
    namespace: &str,
    name: &str,
) -> Result<()> {
    let key = ObjectKey::new(namespace, name);
    if name.is_empty() || world.secrets.contains_key(&key) {
        return Ok(());
    }
    if let Some(s) = get::<KubeSecret>(client, &SECRETS, namespace, name).await? {
        world.secrets.insert(key, secret(&s));
    }
    Ok(())
}

/// Reads a BackupStorage (as this pod sees it) and its credential Secret.
async fn load_storage(
    client: &kube::Client,
    world: &mut World,
    reference: &ObjectReference,
    namespace: &str,
) -> Result<()> {
    let ns = reference.namespace_or(namespace).to_owned();
    let key = ObjectKey::new(ns.clone(), reference.name.clone());
    if world.backup_storages.contains_key(&key) {
        return Ok(());
    }
    if let Some(storage) = load::<BackupStorage>(client, world, &ns, &reference.name).await? {
        world.backup_storages.insert(key, pod_view(&storage));
        if let Some(secret_name) = storage.spec.storage.secret_name() {
            load_secret(client, world, &ns, secret_name).await?;
        }
    }
    Ok(())
}

/// The objects `spec` names, read through the API into a `World` shaped like the
/// operator's.
pub async fn load_world(client: &kube::Client, spec: &JobSpec) -> Result<World> {
    let mut world = World::default();
    let c = client;
    let w = &mut world;
    let ns = spec.key.namespace.as_str();
    let session = spec.key.session.as_str();
    let found = match spec.key.kind {
        JobKind::Backup => {
            let s = load::<BackupSession>(c, w, ns, session).await?;
            if let Some(invoker) = s.as_ref().and_then(|s| s.spec.invoker.as_ref()) {
                load::<BackupConfiguration>(c, w, ns, &invoker.name).await?;
            }
            s.is_some()
        }
        JobKind::Restore => load::<RestoreSession>(c, w, ns, session).await?.is_some(),
    };
    if !found {
        return Err(Error::Input(format!(
            "{} {ns}/{session} not found: it was deleted while its Job ran",
            match spec.key.kind {
                JobKind::Backup => Kind::BackupSession.name(),
                JobKind::Restore => Kind::RestoreSession.name(),
            }
        )));
    }
    let app_ns = if spec.target.namespace.is_empty() {
        ns
    } else {
        spec.target.namespace.as_str()
    };
    if let Some(app) = load::<AppBinding>(c, w, app_ns, &spec.target.name).await? {
        if let Some(auth) = &app.spec.secret {
            load_secret(c, w, app_ns, &auth.name).await?;
        }
    }
    for t in &spec.snapshots {
        load::<Snapshot>(c, w, ns, &t.snapshot).await?;
        load::<Repository>(c, w, ns, &t.repository).await?;
        load_storage(c, w, &t.storage, ns).await?;
        if let Some(e) = &t.encryption_secret {
            load_secret(c, w, e.namespace_or(ns), &e.name).await?;
        }
    }
    if let Some(r) = &spec.restore {
        load::<Snapshot>(c, w, ns, &r.snapshot).await?;
        load::<Repository>(c, w, ns, &r.repository).await?;
        load_storage(c, w, &r.storage, ns).await?;
        if let Some(e) = &r.encryption_secret {
            load_secret(c, w, e.namespace_or(ns), &e.name).await?;
        }
    }
    Ok(world)
}

fn encode<T: serde::Serialize>(what: &str, value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Serialization {
        what: what.to_owned(),
        message: e.to_string(),
    })
}

/// The status patches reporting `report`: `status.components` of each Snapshot
/// (backup) or of the RestoreSession (restore). Pure.
pub fn status_requests(spec: &JobSpec, report: &JobReport) -> Result<Vec<Request>> {
    let ns = &spec.key.namespace;
    Ok(match &report.result {
        JobResult::Backup(per_snapshot) => {
            let res = Resource::of(Kind::Snapshot);
            let mut out = Vec::new();
            for (snapshot, components) in per_snapshot {
                let components = encode(&format!("Snapshot {ns}/{snapshot}"), components)?;
                let status = json!({ "components": components });
                out.push(Request::apply_status(
                    &res,
                    ns,
                    snapshot,
                    status,
                    EXECUTOR_FIELD_MANAGER,
                ));
            }
            out
        }
        JobResult::Restore(components) => {
            let session = &spec.key.session;
            let components = encode(&format!("RestoreSession {ns}/{session}"), components)?;
            let res = Resource::of(Kind::RestoreSession);
            let status = json!({ "components": components });
            vec![Request::apply_status(
                &res,
                ns,
                session,
                status,
                EXECUTOR_FIELD_MANAGER,
            )]
        }
    })
}
