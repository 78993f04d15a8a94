//! The Kubernetes objects the operator writes besides the core's own kinds: executor
//! Jobs, trigger CronJobs, the per-namespace ServiceAccounts and RoleBindings they run
//! as, and Events. Pure builders: same inputs, same JSON.

use cairn_core::api::backend::StorageProvider;
use cairn_core::api::backup_configuration::Session;
use cairn_core::api::component::TEMP_DIR_VOLUME_NAME;
use cairn_core::api::label::{INVOKER_KIND, INVOKER_NAME, MANAGED_BY, SESSION_NAME};
use cairn_core::api::{BackupStorage, Kind};
use cairn_core::event::{Event, EventType};
use cairn_core::job::{JobKey, JobKind, JobSpec, TaskRun};
use cairn_core::plan::naming::middle_truncate;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::resource::{Resource, CRON_JOBS, EVENTS, JOBS, ROLE_BINDINGS, SERVICE_ACCOUNTS};

mod pod;

use pod::{apply_runtime, container, pod_template, task_image};

/// `app.kubernetes.io/managed-by` value on the objects Cairn creates.
pub const MANAGED_BY_CAIRN: &str = "cairn";
/// Label on executor Jobs: `backup` or `restore`.
pub const JOB_KIND_LABEL: &str = "cairn.kubestash.com/job";
/// Annotation on executor Jobs: the core's `JobSpec` as JSON, which `cairn exec` runs.
/// It names Secrets, never holds their values.
pub const JOB_SPEC_ANNOTATION: &str = "cairn.kubestash.com/job-spec";
/// Longest DNS-1123 label (object names of Jobs).
const NAME_MAX: usize = 63;

/// Settings of the operator that shape the objects it writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Image of Cairn itself: trigger CronJobs run `cairn trigger` from it, and executor
    /// tasks of the built-in catalog (whose Functions name `catalog::EXECUTOR_IMAGE`) too.
    pub image: String,
    /// Secrets (in the pod's namespace) for pulling images, on every pod the operator creates.
    pub image_pull_secrets: Vec<String>,
    /// ServiceAccount executor Jobs run as, created in each namespace that needs it.
    pub executor_service_account: String,
    /// ClusterRole granted to that ServiceAccount by a RoleBinding per namespace.
    pub executor_cluster_role: String,
    /// ServiceAccount trigger CronJobs run as.
    pub trigger_service_account: String,
    /// ClusterRole granted to the trigger ServiceAccount.
    pub trigger_cluster_role: String,
    /// `reportingController` of Events.
    pub reporting_controller: String,
    /// `reportingInstance` of Events (the pod name).
    pub reporting_instance: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            image: cairn_core::catalog::EXECUTOR_IMAGE.to_owned(),
            image_pull_secrets: Vec::new(),
            executor_service_account: "cairn-executor".to_owned(),
            executor_cluster_role: "cairn-executor".to_owned(),
            trigger_service_account: "cairn-trigger".to_owned(),
            trigger_cluster_role: "cairn-trigger".to_owned(),
            reporting_controller: "cairn.kubestash.com/operator".to_owned(),
            reporting_instance: "cairn-operator".to_owned(),
        }
    }
}

/// The kind label value of a job.
pub fn job_kind_label(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Backup => "backup",
        JobKind::Restore => "restore",
    }
}

/// Name of the batch/v1 Job of `key`: `cairn-<backup|restore>-<session>` (≤ 63 bytes).
pub fn job_name(key: &JobKey) -> String {
    middle_truncate(
        &format!("cairn-{}-{}", job_kind_label(key.kind), key.session),
        NAME_MAX,
    )
}

/// An owner reference to `kind`/`name` with `uid`, when the uid is known.
pub fn owner_reference(kind: Kind, name: &str, uid: Option<&str>) -> Option<Value> {
    uid.map(|uid| {
        json!({
            "apiVersion": kind.api_version(),
            "kind": kind.name(),
            "name": name,
            "uid": uid,
            "controller": true,
            "blockOwnerDeletion": true,
        })
    })
}

fn meta(
    res: &Resource,
    namespace: &str,
    name: &str,
    labels: Value,
    owner: Option<Value>,
) -> Map<String, Value> {
    let mut metadata = json!({ "name": name, "namespace": namespace, "labels": labels });
    if let Some(owner) = owner {
        metadata["ownerReferences"] = json!([owner]);
    }
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), res.api_version().into());
    obj.insert("kind".into(), res.kind.into());
    obj.insert("metadata".into(), metadata);
    obj
}

/// A ServiceAccount `name` in `namespace`.
pub fn service_account(namespace: &str, name: &str) -> Value {
    let labels = json!({ MANAGED_BY: MANAGED_BY_CAIRN });
    Value::Object(meta(&SERVICE_ACCOUNTS, namespace, name, labels, None))
}

/// A RoleBinding in `namespace` granting ClusterRole `role` to ServiceAccount
/// `account` of `account_namespace`; named after the account (and its namespace when
/// it lives elsewhere).
pub fn role_binding(namespace: &str, account_namespace: &str, account: &str, role: &str) -> Value {
    let name = role_binding_name(namespace, account_namespace, account);
    let labels = json!({ MANAGED_BY: MANAGED_BY_CAIRN });
    let mut obj = meta(&ROLE_BINDINGS, namespace, &name, labels, None);
    obj.insert(
        "roleRef".into(),
        json!({ "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role }),
    );
    obj.insert(
        "subjects".into(),
        json!([{ "kind": "ServiceAccount", "name": account, "namespace": account_namespace }]),
    );
    Value::Object(obj)
}

/// Name of the RoleBinding of [`role_binding`].
pub fn role_binding_name(namespace: &str, account_namespace: &str, account: &str) -> String {
    if namespace == account_namespace {
        account.to_owned()
    } else {
        middle_truncate(&format!("{account}-{account_namespace}"), NAME_MAX)
    }
}

fn task_container(cfg: &Config, task: &TaskRun) -> Value {
    // The pod's own name and namespace go into the repository locks it takes, so a
    // retry can tell the lock of a pod that is gone from a live one.
    let downward = ["name", "namespace"].map(|field| {
        json!({
            "name": format!("POD_{}", field.to_uppercase()),
            "valueFrom": { "fieldRef": { "fieldPath": format!("metadata.{field}") } },
        })
    });
    let env: Vec<Value> = downward
        .into_iter()
        .chain(
            task.env
                .iter()
                .map(|(k, v)| json!({ "name": k, "value": v })),
        )
        .collect();
    container(
        &middle_truncate(&task.task, NAME_MAX),
        task_image(cfg, &task.image),
        &task.command,
        &task.args,
        Value::Array(env),
    )
}

/// Merges `overlay` into `base`: objects key by key, anything else replaced.
pub fn merge(base: &mut Value, overlay: &Value) {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// The executor Job of `spec`: tasks run in order (all but the last as init
/// containers), as the executor ServiceAccount, owned by the session, never retried by
/// Kubernetes (retries are the core's `retryConfig`), bounded by the session deadline.
pub fn executor_job(
    cfg: &Config,
    spec: &JobSpec,
    session_uid: Option<&str>,
    now: DateTime<Utc>,
) -> Value {
    let key = &spec.key;
    let (owner_kind, kind_label) = match key.kind {
        JobKind::Backup => (Kind::BackupSession, "backup"),
        JobKind::Restore => (Kind::RestoreSession, "restore"),
    };
    let labels = json!({
        MANAGED_BY: MANAGED_BY_CAIRN,
        JOB_KIND_LABEL: kind_label,
        INVOKER_KIND: owner_kind.name(),
        INVOKER_NAME: key.session,
    });
    let owner = owner_reference(owner_kind, &key.session, session_uid);
    let mut obj = meta(&JOBS, &key.namespace, &job_name(key), labels.clone(), owner);
    obj["metadata"]["annotations"] =
        json!({ JOB_SPEC_ANNOTATION: serde_json::to_string(spec).unwrap_or_default() });
    let mut containers: Vec<Value> = spec.tasks.iter().map(|t| task_container(cfg, t)).collect();
    let main = containers.pop().map(|c| vec![c]).unwrap_or_default();
    let account = &cfg.executor_service_account;
    let mut pod = pod_template(cfg, &labels, account, containers, main);
    pod["spec"]["volumes"] = json!([{ "name": TEMP_DIR_VOLUME_NAME, "emptyDir": {} }]);
    if let Some(runtime) = &spec.runtime {
        apply_runtime(&mut pod, runtime);
    }
    let mut job_spec = json!({ "backoffLimit": 0, "template": pod });
    if let Some(deadline) = spec.deadline {
        job_spec["activeDeadlineSeconds"] = json!((deadline - now).num_seconds().max(1));
    }
    obj.insert("spec".into(), job_spec);
    Value::Object(obj)
}

/// Mounts the volume of each `local` BackupStorage into every container of the
/// executor `job` at its `mountPath` (what "local backend" means in Kubernetes: the
/// executor reads and writes under `mountPath`, as KubeStash's executor does).
/// Storages of other providers are skipped.
pub fn mount_local_storages(job: &mut Value, storages: &[&BackupStorage]) {
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    for storage in storages {
        let Some(local) = storage.spec.storage.local.as_ref() else {
            continue;
        };
        if storage.spec.storage.provider != Some(StorageProvider::Local)
            || local.mount_path.is_empty()
            || local.volume_source.is_empty()
        {
            continue;
        }
        let name = middle_truncate(
            &format!(
                "backend-{}",
                storage.metadata.name.as_deref().unwrap_or_default()
            ),
            NAME_MAX,
        );
        if volumes.iter().any(|v: &Value| v["name"] == json!(name)) {
            continue;
        }
        let mut volume: Map<String, Value> = local.volume_source.clone().into_iter().collect();
        volume.insert("name".into(), json!(name));
        volumes.push(Value::Object(volume));
        mounts.push(json!({ "name": name, "mountPath": local.mount_path }));
    }
    if volumes.is_empty() {
        return;
    }
    let pod = &mut job["spec"]["template"]["spec"];
    if let Some(list) = pod["volumes"].as_array_mut() {
        list.extend(volumes);
    }
    for containers in ["initContainers", "containers"] {
        for c in pod[containers].as_array_mut().into_iter().flatten() {
            if let Some(list) = c["volumeMounts"].as_array_mut() {
                list.extend(mounts.iter().cloned());
            }
        }
    }
}

/// What the trigger CronJob of one session is built from.
pub struct TriggerInput<'a> {
    /// Namespace of the BackupConfiguration.
    pub namespace: &'a str,
    /// Name of the BackupConfiguration.
    pub configuration: &'a str,
    /// Its uid (owner reference), when known.
    pub configuration_uid: Option<&'a str>,
    /// The session of the BackupConfiguration, when still in its spec.
    pub session: Option<&'a Session>,
    /// Session name.
    pub session_name: &'a str,
    /// CronJob name.
    pub name: &'a str,
    /// Schedule text.
    pub schedule: &'a str,
    /// Suspended.
    pub suspended: bool,
}

/// The trigger CronJob of one session: the session's scheduler (schedule,
/// concurrencyPolicy, history limits, deadline, job template) around a pod running
/// `cairn trigger <bc> --session <s> --namespace <ns>`.
pub fn trigger_cron_job(cfg: &Config, input: &TriggerInput<'_>) -> Value {
    let labels = json!({
        MANAGED_BY: MANAGED_BY_CAIRN,
        INVOKER_KIND: Kind::BackupConfiguration.name(),
        INVOKER_NAME: input.configuration,
        SESSION_NAME: input.session_name,
    });
    let owner = owner_reference(
        Kind::BackupConfiguration,
        input.configuration,
        input.configuration_uid,
    );
    let mut obj = meta(
        &CRON_JOBS,
        input.namespace,
        input.name,
        labels.clone(),
        owner,
    );
    let scheduler = input.session.and_then(|s| s.scheduler.as_ref());
    let mut job_spec = scheduler
        .and_then(|s| serde_json::to_value(&s.job_template).ok())
        .unwrap_or_else(|| json!({}));
    let command: Vec<String> = [
        "cairn",
        "trigger",
        input.configuration,
        "--session",
        input.session_name,
        "--namespace",
        input.namespace,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut trigger = container("trigger", &cfg.image, &command, &[], json!([]));
    trigger["volumeMounts"] = json!([]);
    let account = &cfg.trigger_service_account;
    let mut pod = pod_template(cfg, &labels, account, Vec::new(), vec![trigger]);
    if let Some(template) = job_spec.get("template").filter(|t| t.is_object()) {
        apply_runtime(&mut pod, template);
        // The trigger needs its own RBAC and labels, whatever the template says.
        pod["spec"]["serviceAccountName"] = json!(account);
        merge(&mut pod["metadata"]["labels"], &labels);
    }
    job_spec["template"] = pod;
    let (schedule, time_zone) = cairn_core::plan::schedule::cron_job_schedule(input.schedule);
    let mut spec = json!({
        "schedule": schedule,
        "suspend": input.suspended,
        "jobTemplate": { "metadata": { "labels": labels }, "spec": job_spec },
    });
    if let Some(zone) = time_zone {
        spec["timeZone"] = json!(zone);
    }
    if let Some(s) = scheduler {
        let extra = json!({
            "concurrencyPolicy": s.concurrency_policy,
            "startingDeadlineSeconds": s.starting_deadline_seconds,
            "successfulJobsHistoryLimit": s.successful_jobs_history_limit,
            "failedJobsHistoryLimit": s.failed_jobs_history_limit,
        });
        for (k, v) in extra.as_object().into_iter().flatten() {
            if !v.is_null() {
                spec[k] = v.clone();
            }
        }
    }
    obj.insert("spec".into(), spec);
    Value::Object(obj)
}

/// An events.k8s.io/v1 Event about `event.object` (uid when known), at `now`.
pub fn event(cfg: &Config, event: &Event, uid: Option<&str>, now: DateTime<Utc>) -> Value {
    let kind = event.object.kind;
    let namespace = namespace_of_event(event);
    let mut regarding = json!({
        "apiVersion": kind.api_version(),
        "kind": kind.name(),
        "name": event.object.key.name,
    });
    if kind.namespaced() {
        regarding["namespace"] = json!(event.object.key.namespace);
    }
    if let Some(uid) = uid {
        regarding["uid"] = json!(uid);
    }
    json!({
        "apiVersion": EVENTS.api_version(),
        "kind": "Event",
        "metadata": {
            "generateName": format!("{}.", event.object.key.name),
            "namespace": namespace,
        },
        "eventTime": now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "type": match event.type_ {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        },
        "reason": event.reason,
        "action": event.reason,
        "note": truncate_note(&event.message),
        "regarding": regarding,
        "reportingController": cfg.reporting_controller,
        "reportingInstance": cfg.reporting_instance,
    })
}

/// Namespace an Event about `event.object` is written to (`default` for
/// cluster-scoped objects).
pub fn namespace_of_event(event: &Event) -> String {
    if event.object.key.namespace.is_empty() {
        "default".to_owned()
    } else {
        event.object.key.namespace.clone()
    }
}

/// events.k8s.io limits `note` to 1 KiB.
fn truncate_note(message: &str) -> String {
    const MAX: usize = 1024;
    if message.len() <= MAX {
        return message.to_owned();
    }
    let mut end = MAX - 3;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &message[..end])
}
