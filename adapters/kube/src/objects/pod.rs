//! The pods of executor Jobs and trigger CronJobs: Pod Security "restricted" settings by
//! default, the operator's image and pull secrets, and the user's overrides
//! (`addon.jobTemplate`, `containerRuntimeSettings`, `scheduler.jobTemplate.template`),
//! which win over the defaults: a template asking for `runAsUser: 0` runs as root.

use cairn_core::api::component::{TEMP_DIR_MOUNT_PATH, TEMP_DIR_VOLUME_NAME};
use serde_json::{json, Map, Value};

use super::{merge, Config};

/// Pod-level half of Pod Security "restricted": non-root and the runtime's seccomp profile.
fn restricted_pod_security() -> Value {
    json!({ "runAsNonRoot": true, "seccompProfile": { "type": "RuntimeDefault" } })
}

/// Container-level half of "restricted" (plus a read-only root: scratch is an emptyDir).
fn restricted_container_security() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "capabilities": { "drop": ["ALL"] },
    })
}

/// The image a task runs: the built-in catalog's executor image means "this operator's
/// own image" (`Config::image`), so a private registry or a pinned tag reaches executors;
/// any other image (a user's Function) is kept.
pub(super) fn task_image<'a>(cfg: &'a Config, image: &'a str) -> &'a str {
    if image == cairn_core::catalog::EXECUTOR_IMAGE {
        &cfg.image
    } else {
        image
    }
}

/// A container running `command args` from `image` with `env`, restricted by default.
pub(super) fn container(
    name: &str,
    image: &str,
    command: &[String],
    args: &[String],
    env: Value,
) -> Value {
    json!({
        "name": name,
        "image": image,
        "command": command,
        "args": args,
        "env": env,
        "volumeMounts": [{ "name": TEMP_DIR_VOLUME_NAME, "mountPath": TEMP_DIR_MOUNT_PATH }],
        "securityContext": restricted_container_security(),
    })
}

/// A pod template labelled `labels`, running as `service_account`, never restarted,
/// restricted by default and pulling with the operator's pull secrets.
pub(super) fn pod_template(
    cfg: &Config,
    labels: &Value,
    service_account: &str,
    init_containers: Vec<Value>,
    containers: Vec<Value>,
) -> Value {
    let mut spec = json!({
        "serviceAccountName": service_account,
        "restartPolicy": "Never",
        "securityContext": restricted_pod_security(),
        "containers": containers,
    });
    if !init_containers.is_empty() {
        spec["initContainers"] = Value::Array(init_containers);
    }
    if !cfg.image_pull_secrets.is_empty() {
        spec["imagePullSecrets"] = cfg
            .image_pull_secrets
            .iter()
            .map(|name| json!({ "name": name }))
            .collect();
    }
    json!({ "metadata": { "labels": labels }, "spec": spec })
}

/// offshoot-api `PodSpec` fields that configure the containers, not the pod, with the
/// container field each becomes.
const CONTAINER_FIELDS: [(&str, &str); 3] = [
    ("containerSecurityContext", "securityContext"),
    ("resources", "resources"),
    ("env", "env"),
];

/// Pod spec fields Cairn owns: the tasks are its containers, and a Job pod never restarts.
const OWNED_POD_FIELDS: [&str; 3] = ["containers", "initContainers", "restartPolicy"];

/// offshoot-api `PodSpec` fields with no place in the pods Cairn builds: the task's own
/// args win, and probes or lifecycle hooks are refused on init containers.
const DROPPED_POD_FIELDS: [&str; 4] = ["args", "livenessProbe", "readinessProbe", "lifecycle"];

/// Applies the user's overrides to `pod`: an offshoot-api pod template (`metadata`,
/// `spec`) and container runtime settings (`resources`, `securityContext`, `env`,
/// `envFrom`). Overrides win over the restricted defaults; `runAsNonRoot` is dropped when
/// they make a container run as root (uid 0) without asking for it themselves, since the
/// kubelet would refuse to start such a pod.
pub(super) fn apply_runtime(pod: &mut Value, runtime: &Value) {
    if let Some(meta) = runtime.get("metadata") {
        merge(&mut pod["metadata"], meta);
    }
    let mut per_container = Map::new();
    if let Some(Value::Object(spec)) = runtime.get("spec") {
        for (key, value) in spec {
            let key = key.as_str();
            if let Some((_, to)) = CONTAINER_FIELDS.iter().find(|(from, _)| *from == key) {
                per_container.insert((*to).to_owned(), value.clone());
            } else if key == "volumes" {
                append(&mut pod["spec"]["volumes"], value);
            } else if !OWNED_POD_FIELDS.contains(&key) && !DROPPED_POD_FIELDS.contains(&key) {
                merge(&mut pod["spec"][key], value);
            }
        }
    }
    for key in ["resources", "securityContext", "env", "envFrom"] {
        if let Some(setting) = runtime.get(key) {
            per_container.insert(key.to_owned(), setting.clone());
        }
    }
    for list in ["initContainers", "containers"] {
        for c in pod["spec"][list].as_array_mut().into_iter().flatten() {
            for (key, setting) in &per_container {
                if matches!(key.as_str(), "env" | "envFrom") {
                    append(&mut c[key], setting);
                } else {
                    merge(&mut c[key], setting);
                }
            }
        }
    }
    if runs_as_root(pod) && !mentions(runtime, "runAsNonRoot") {
        if let Some(Value::Object(sc)) = pod["spec"].get_mut("securityContext") {
            sc.remove("runAsNonRoot");
        }
    }
}

/// Appends the items of `extra` (when a list) to the list at `target`.
fn append(target: &mut Value, extra: &Value) {
    let Value::Array(items) = extra else {
        return;
    };
    match target {
        Value::Array(list) => list.extend(items.iter().cloned()),
        other => *other = Value::Array(items.clone()),
    }
}

/// True when the pod or one of its containers asks for uid 0.
fn runs_as_root(pod: &Value) -> bool {
    let root = |sc: &Value| sc.get("runAsUser").and_then(Value::as_i64) == Some(0);
    let spec = &pod["spec"];
    root(&spec["securityContext"])
        || ["initContainers", "containers"].iter().any(|list| {
            spec[*list]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| root(&c["securityContext"]))
        })
}

/// True when `key` appears anywhere in `value`.
fn mentions(value: &Value, key: &str) -> bool {
    match value {
        Value::Object(map) => map.contains_key(key) || map.values().any(|v| mentions(v, key)),
        Value::Array(items) => items.iter().any(|v| mentions(v, key)),
        _ => false,
    }
}
