//! Decoding of `application/vnd.kubernetes.protobuf` request bodies for the kinds kubectl's
//! imperative commands send that way (`create namespace|secret|serviceaccount|configmap|token|
//! role|rolebinding|clusterrole|clusterrolebinding|deployment|job|cronjob`, `auth can-i|whoami`)
//! and helm's DeleteOptions. The envelope is `k8s\0` + `runtime.Unknown`; the field numbers are
//! those of the upstream `generated.proto` files. A non-empty field outside these tables is
//! refused with 415, never dropped; other clients (kubectl apply, helm, kube-rs) send JSON.

use base64::Engine as _;
use serde_json::{json, Map, Value};

/// Non-pointer Go fields with `omitempty`: their zero values are not sent in JSON either.
const OMIT_ZERO: &[&str] = &[
    "generation",
    "hostPort",
    "stdin",
    "stdinOnce",
    "tty",
    "minReadySeconds",
    "paused",
];

/// How a field decodes.
#[derive(Clone, Copy)]
enum T {
    Str,
    Int,
    Bool,
    Bytes,
    Time,
    Msg(&'static str),
    MapStr,
    MapBytes,
}

/// (number, JSON name, type, repeated)
type Field = (u64, &'static str, T, bool);

fn fields(msg: &str) -> &'static [Field] {
    use T::*;
    match msg {
        "ObjectMeta" => &[
            (1, "name", Str, false),
            (2, "generateName", Str, false),
            (3, "namespace", Str, false),
            (5, "uid", Str, false),
            (6, "resourceVersion", Str, false),
            (7, "generation", Int, false),
            (8, "creationTimestamp", Time, false),
            (11, "labels", MapStr, false),
            (12, "annotations", MapStr, false),
            (13, "ownerReferences", Msg("OwnerReference"), true),
            (14, "finalizers", Str, true),
        ],
        "OwnerReference" => &[
            (1, "kind", Str, false),
            (3, "name", Str, false),
            (4, "uid", Str, false),
            (5, "apiVersion", Str, false),
            (6, "controller", Bool, false),
            (7, "blockOwnerDeletion", Bool, false),
        ],
        "Namespace" => &[
            (1, "metadata", Msg("ObjectMeta"), false),
            (2, "spec", Msg("NamespaceSpec"), false),
        ],
        "NamespaceSpec" => &[(1, "finalizers", Str, true)],
        "Secret" => &[
            (1, "metadata", Msg("ObjectMeta"), false),
            (2, "data", MapBytes, false),
            (3, "type", Str, false),
            (4, "stringData", MapStr, false),
            (5, "immutable", Bool, false),
        ],
        "ConfigMap" => &[
            (1, "metadata", Msg("ObjectMeta"), false),
            (2, "data", MapStr, false),
            (3, "binaryData", MapBytes, false),
            (4, "immutable", Bool, false),
        ],
        "ServiceAccount" => &[
            (1, "metadata", Msg("ObjectMeta"), false),
            (2, "secrets", Msg("ObjectReference"), true),
            (3, "imagePullSecrets", Msg("LocalObjectReference"), true),
            (4, "automountServiceAccountToken", Bool, false),
        ],
        "ObjectReference" => &[
            (1, "kind", Str, false),
            (2, "namespace", Str, false),
            (3, "name", Str, false),
            (4, "uid", Str, false),
            (5, "apiVersion", Str, false),
            (6, "resourceVersion", Str, false),
            (7, "fieldPath", Str, false),
        ],
        "LocalObjectReference" => &[(1, "name", Str, false)],
        "TokenRequest" => &[
            (1, "metadata", Msg("ObjectMeta"), false),
            (2, "spec", Msg("TokenRequestSpec"), false),
        ],
        "TokenRequestSpec" => &[
            (1, "audiences", Str, true),
            (3, "boundObjectRef", Msg("BoundObjectReference"), false),
            (4, "expirationSeconds", Int, false),
        ],
        "BoundObjectReference" => &[
            (1, "kind", Str, false),
            (2, "apiVersion", Str, false),
            (3, "name", Str, false),
            (4, "uid", Str, false),
        ],
        "Role" | "ClusterRole" => &[
            (1, "metadata", Msg("ObjectMeta"), false),
            (2, "rules", Msg("PolicyRule"), true),
        ],
        "PolicyRule" => &[
            (1, "verbs", Str, true),
            (2, "apiGroups", Str, true),
            (3, "resources", Str, true),
            (4, "resourceNames", Str, true),
            (5, "nonResourceURLs", Str, true),
        ],
        "RoleBinding" | "ClusterRoleBinding" => &[
            (1, "metadata", Msg("ObjectMeta"), false),
            (2, "subjects", Msg("Subject"), true),
            (3, "roleRef", Msg("RoleRef"), false),
        ],
        "Subject" => &[
            (1, "kind", Str, false),
            (2, "apiGroup", Str, false),
            (3, "name", Str, false),
            (4, "namespace", Str, false),
        ],
        "RoleRef" => &[
            (1, "apiGroup", Str, false),
            (2, "kind", Str, false),
            (3, "name", Str, false),
        ],
        "SelfSubjectAccessReview" => &[
            (1, "metadata", Msg("ObjectMeta"), false),
            (2, "spec", Msg("SelfSubjectAccessReviewSpec"), false),
        ],
        "SelfSubjectAccessReviewSpec" => &[
            (1, "resourceAttributes", Msg("ResourceAttributes"), false),
            (
                2,
                "nonResourceAttributes",
                Msg("NonResourceAttributes"),
                false,
            ),
        ],
        "ResourceAttributes" => &[
            (1, "namespace", Str, false),
            (2, "verb", Str, false),
            (3, "group", Str, false),
            (4, "version", Str, false),
            (5, "resource", Str, false),
            (6, "subresource", Str, false),
            (7, "name", Str, false),
        ],
        "NonResourceAttributes" => &[(1, "path", Str, false), (2, "verb", Str, false)],
        "SelfSubjectReview" => &[(1, "metadata", Msg("ObjectMeta"), false)],
        "DeleteOptions" => &[
            (1, "gracePeriodSeconds", Int, false),
            (2, "preconditions", Msg("Preconditions"), false),
            (3, "orphanDependents", Bool, false),
            (4, "propagationPolicy", Str, false),
            (5, "dryRun", Str, true),
        ],
        "Preconditions" => &[(1, "uid", Str, false), (2, "resourceVersion", Str, false)],
        "Deployment" => &[
            (1, "metadata", Msg("ObjectMeta"), false),
            (2, "spec", Msg("DeploymentSpec"), false),
        ],
        "Job" => &[
            (1, "metadata", Msg("ObjectMeta"), false),
            (2, "spec", Msg("JobSpec"), false),
        ],
        "CronJob" => &[
            (1, "metadata", Msg("ObjectMeta"), false),
            (2, "spec", Msg("CronJobSpec"), false),
        ],
        "DeploymentSpec" => &[
            (1, "replicas", Int, false),
            (2, "selector", Msg("LabelSelector"), false),
            (3, "template", Msg("PodTemplateSpec"), false),
            (4, "strategy", Msg("DeploymentStrategy"), false),
            (5, "minReadySeconds", Int, false),
            (6, "revisionHistoryLimit", Int, false),
            (7, "paused", Bool, false),
            (9, "progressDeadlineSeconds", Int, false),
        ],
        "DeploymentStrategy" => &[(1, "type", Str, false)],
        "JobSpec" => &[
            (1, "parallelism", Int, false),
            (2, "completions", Int, false),
            (3, "activeDeadlineSeconds", Int, false),
            (4, "selector", Msg("LabelSelector"), false),
            (5, "manualSelector", Bool, false),
            (6, "template", Msg("PodTemplateSpec"), false),
            (7, "backoffLimit", Int, false),
            (8, "ttlSecondsAfterFinished", Int, false),
            (9, "completionMode", Str, false),
            (10, "suspend", Bool, false),
        ],
        "CronJobSpec" => &[
            (1, "schedule", Str, false),
            (2, "startingDeadlineSeconds", Int, false),
            (3, "concurrencyPolicy", Str, false),
            (4, "suspend", Bool, false),
            (5, "jobTemplate", Msg("JobTemplateSpec"), false),
            (6, "successfulJobsHistoryLimit", Int, false),
            (7, "failedJobsHistoryLimit", Int, false),
            (8, "timeZone", Str, false),
        ],
        "JobTemplateSpec" => &[
            (1, "metadata", Msg("ObjectMeta"), false),
            (2, "spec", Msg("JobSpec"), false),
        ],
        "LabelSelector" => &[(1, "matchLabels", MapStr, false)],
        "PodTemplateSpec" => &[
            (1, "metadata", Msg("ObjectMeta"), false),
            (2, "spec", Msg("PodSpec"), false),
        ],
        "PodSpec" => &[
            (2, "containers", Msg("Container"), true),
            (3, "restartPolicy", Str, false),
            (4, "terminationGracePeriodSeconds", Int, false),
            (5, "activeDeadlineSeconds", Int, false),
            (6, "dnsPolicy", Str, false),
            (7, "nodeSelector", MapStr, false),
            (8, "serviceAccountName", Str, false),
            (9, "serviceAccount", Str, false),
            (10, "nodeName", Str, false),
            (15, "imagePullSecrets", Msg("LocalObjectReference"), true),
            (19, "schedulerName", Str, false),
            (20, "initContainers", Msg("Container"), true),
            (21, "automountServiceAccountToken", Bool, false),
            (30, "enableServiceLinks", Bool, false),
        ],
        "Container" => &[
            (1, "name", Str, false),
            (2, "image", Str, false),
            (3, "command", Str, true),
            (4, "args", Str, true),
            (5, "workingDir", Str, false),
            (6, "ports", Msg("ContainerPort"), true),
            (7, "env", Msg("EnvVar"), true),
            (13, "terminationMessagePath", Str, false),
            (14, "imagePullPolicy", Str, false),
            (16, "stdin", Bool, false),
            (17, "stdinOnce", Bool, false),
            (18, "tty", Bool, false),
            (20, "terminationMessagePolicy", Str, false),
        ],
        "ContainerPort" => &[
            (1, "name", Str, false),
            (2, "hostPort", Int, false),
            (3, "containerPort", Int, false),
            (4, "protocol", Str, false),
            (5, "hostIP", Str, false),
        ],
        "EnvVar" => &[(1, "name", Str, false), (2, "value", Str, false)],
        "Unknown" => &[
            (1, "typeMeta", Msg("TypeMeta"), false),
            (2, "raw", Bytes, false),
        ],
        "TypeMeta" => &[(1, "apiVersion", Str, false), (2, "kind", Str, false)],
        "Time" => &[(1, "seconds", Int, false), (2, "nanos", Int, false)],
        "MapEntry" => &[(1, "key", Str, false), (2, "value", Bytes, false)],
        _ => &[],
    }
}

/// Why a body cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum ProtoError {
    /// Not `k8s\0` + a valid message.
    #[error("invalid protobuf body: {0}")]
    Invalid(&'static str),
    /// A kind this server does not decode from protobuf.
    #[error("protobuf bodies of kind {0} are not supported by this test server; send JSON")]
    Unsupported(String),
}

enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn varint(b: &[u8], i: &mut usize) -> Result<u64, ProtoError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i).ok_or(ProtoError::Invalid("truncated varint"))?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(ProtoError::Invalid("varint too long"))
}

fn parse(b: &[u8]) -> Result<Vec<(u64, Wire<'_>)>, ProtoError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let key = varint(b, &mut i)?;
        let (num, wt) = (key >> 3, key & 7);
        let w = match wt {
            0 => Wire::Varint(varint(b, &mut i)?),
            2 => {
                let len = varint(b, &mut i)? as usize;
                let end = i
                    .checked_add(len)
                    .filter(|e| *e <= b.len())
                    .ok_or(ProtoError::Invalid("truncated field"))?;
                let s = &b[i..end];
                i = end;
                Wire::Bytes(s)
            }
            1 => {
                i += 8;
                Wire::Varint(0)
            }
            5 => {
                i += 4;
                Wire::Varint(0)
            }
            _ => return Err(ProtoError::Invalid("unknown wire type")),
        };
        out.push((num, w));
    }
    Ok(out)
}

/// Is this (possibly nested) message made only of empty and zero fields?
fn all_zero(b: &[u8]) -> bool {
    b.is_empty()
        || parse(b).is_ok_and(|fs| {
            fs.iter().all(|(_, w)| match w {
                Wire::Varint(n) => *n == 0,
                Wire::Bytes(inner) => all_zero(inner),
            })
        })
}

fn decode(msg: &str, b: &[u8]) -> Result<Value, ProtoError> {
    let table = fields(msg);
    let mut obj = Map::new();
    for (num, w) in parse(b)? {
        let Some((_, name, t, repeated)) = table.iter().find(|f| f.0 == num) else {
            // Go writes empty messages and zero values of fields this table lacks: harmless.
            // Anything else would be lost silently, so the body is refused instead.
            match w {
                Wire::Bytes(b) if all_zero(b) => continue,
                Wire::Varint(0) => continue,
                _ => return Err(ProtoError::Unsupported(format!("{msg} (field {num})"))),
            }
        };
        let v = match (t, &w) {
            (T::Str, Wire::Bytes(s)) => json!(String::from_utf8_lossy(s)),
            (T::Bytes, Wire::Bytes(s)) => {
                json!(base64::engine::general_purpose::STANDARD.encode(s))
            }
            (T::Int, Wire::Varint(n)) => json!(*n as i64),
            (T::Bool, Wire::Varint(n)) => json!(*n != 0),
            (T::Time, Wire::Bytes(s)) => {
                let t = decode("Time", s)?;
                let secs = t["seconds"].as_i64().unwrap_or(0);
                if secs <= 0 {
                    continue;
                }
                chrono::DateTime::from_timestamp(secs, 0)
                    .map(|d| json!(d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
                    .unwrap_or(Value::Null)
            }
            (T::Msg(m), Wire::Bytes(s)) => decode(m, s)?,
            (T::MapStr | T::MapBytes, Wire::Bytes(s)) => {
                let e = decode("MapEntry", s)?;
                let k = e["key"].as_str().unwrap_or("").to_string();
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(e["value"].as_str().unwrap_or(""))
                    .unwrap_or_default();
                let val = match t {
                    T::MapStr => json!(String::from_utf8_lossy(&raw)),
                    _ => json!(base64::engine::general_purpose::STANDARD.encode(raw)),
                };
                let m = obj.entry(name.to_string()).or_insert_with(|| json!({}));
                m[k] = val;
                continue;
            }
            _ => return Err(ProtoError::Invalid("field of the wrong wire type")),
        };
        // Go marshals empty scalars that JSON would omit.
        if !*repeated
            && (v == json!("")
                || v.is_null()
                || (OMIT_ZERO.contains(name) && (v == json!(0) || v == json!(false))))
        {
            continue;
        }
        if *repeated {
            let a = obj.entry(name.to_string()).or_insert_with(|| json!([]));
            if let Some(a) = a.as_array_mut() {
                a.push(v);
            }
        } else {
            obj.insert(name.to_string(), v);
        }
    }
    Ok(Value::Object(obj))
}

/// The JSON object of a Kubernetes protobuf body.
pub fn to_json(body: &[u8]) -> Result<Value, ProtoError> {
    let rest = body
        .strip_prefix(b"k8s\0")
        .ok_or(ProtoError::Invalid("missing k8s magic"))?;
    let unknown = decode("Unknown", rest)?;
    let api_version = unknown
        .pointer("/typeMeta/apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let kind = unknown
        .pointer("/typeMeta/kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if kind == "SelfSubjectReview" {
        return Ok(json!({"apiVersion": api_version, "kind": kind, "metadata": {}}));
    }
    if fields(&kind).is_empty()
        || matches!(kind.as_str(), "Unknown" | "TypeMeta" | "Time" | "MapEntry")
    {
        return Err(ProtoError::Unsupported(kind));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(unknown["raw"].as_str().unwrap_or(""))
        .map_err(|_| ProtoError::Invalid("raw"))?;
    let mut obj = decode(&kind, &raw)?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}
