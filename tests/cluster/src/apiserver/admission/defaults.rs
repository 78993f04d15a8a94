//! Server-side defaults and mutations of built-in kinds (what upstream's defaulters,
//! registry strategies and the ServiceAccount admission plugin do).

use base64::Engine as _;
use serde_json::{json, Value};

use crate::apiserver::handlers::pipeline::{random_suffix, Write};
use crate::apiserver::registry::crd;
use crate::apiserver::state::State;

fn set_default(obj: &mut Value, key: &str, v: Value) {
    if let Some(o) = obj.as_object_mut() {
        if o.get(key).is_none_or(Value::is_null) {
            o.insert(key.to_string(), v);
        }
    }
}

/// Applies the defaults of `w.res` to `new` (old: the stored object on updates).
pub fn apply(st: &State, w: &Write, old: Option<&Value>, new: &mut Value) {
    let res = &w.res;
    if res.is_custom() {
        return;
    }
    let created = old.is_none();
    match (res.group.as_str(), res.kind.as_str()) {
        ("", "Namespace") => {
            let name = new.pointer("/metadata/name").cloned().unwrap_or(json!(""));
            set_default(&mut new["metadata"], "labels", json!({}));
            new["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
            set_default(new, "spec", json!({}));
            set_default(&mut new["spec"], "finalizers", json!(["kubernetes"]));
            if created {
                new["status"] = json!({"phase": "Active"});
            }
        }
        ("", "Secret") => {
            set_default(new, "type", json!("Opaque"));
            if let Some(sd) = new.as_object_mut().and_then(|o| o.remove("stringData")) {
                set_default(new, "data", json!({}));
                for (k, v) in sd.as_object().into_iter().flatten() {
                    let enc =
                        base64::engine::general_purpose::STANDARD.encode(v.as_str().unwrap_or(""));
                    new["data"][k] = json!(enc);
                }
            }
        }
        ("", "Service") => service(new, old),
        ("", "Pod") => {
            if let Some(spec) = new.get_mut("spec") {
                pod_spec(spec);
            }
            if created {
                service_account_volume(new);
                new["status"] = json!({"phase": "Pending", "qosClass": qos(new)});
            }
        }
        ("batch", "Job") => {
            if created {
                job(new);
                new["status"] = json!({});
            }
            if let Some(t) = new.pointer_mut("/spec/template/spec") {
                pod_spec(t);
            }
        }
        ("batch", "CronJob") => {
            set_default(new, "spec", json!({}));
            let spec = &mut new["spec"];
            set_default(spec, "concurrencyPolicy", json!("Allow"));
            set_default(spec, "suspend", json!(false));
            set_default(spec, "successfulJobsHistoryLimit", json!(3));
            set_default(spec, "failedJobsHistoryLimit", json!(1));
            if let Some(t) = spec.pointer_mut("/jobTemplate/spec/template/spec") {
                pod_spec(t);
            }
            if created {
                new["status"] = json!({});
            }
        }
        ("apps", "Deployment") => {
            set_default(new, "spec", json!({}));
            let spec = &mut new["spec"];
            set_default(spec, "replicas", json!(1));
            set_default(spec, "revisionHistoryLimit", json!(10));
            set_default(spec, "progressDeadlineSeconds", json!(600));
            set_default(
                spec,
                "strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            );
            if let Some(t) = spec.pointer_mut("/template/spec") {
                pod_spec(t);
            }
            if created {
                new["status"] = json!({});
            }
        }
        ("apps", "ReplicaSet" | "StatefulSet") => {
            set_default(new, "spec", json!({}));
            set_default(&mut new["spec"], "replicas", json!(1));
            if let Some(t) = new.pointer_mut("/spec/template/spec") {
                pod_spec(t);
            }
            if created {
                new["status"] = json!({"replicas": 0});
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd::establish(new, &w.now),
        _ => {}
    }
    let _ = st;
}

fn service(new: &mut Value, old: Option<&Value>) {
    set_default(new, "spec", json!({}));
    let spec = &mut new["spec"];
    set_default(spec, "type", json!("ClusterIP"));
    set_default(spec, "sessionAffinity", json!("None"));
    // clusterIP is immutable: keep the allocated one on updates.
    if let Some(ip) = old.and_then(|o| o.pointer("/spec/clusterIP")) {
        if spec.get("clusterIP").is_none_or(|v| v.is_null() || v == "") {
            spec["clusterIP"] = ip.clone();
        }
    }
    let ip = match spec.get("clusterIP").and_then(Value::as_str) {
        None | Some("") => "127.0.0.1".to_string(),
        Some(ip) => ip.to_string(),
    };
    spec["clusterIP"] = json!(ip);
    spec["clusterIPs"] = json!([ip]);
    set_default(spec, "ipFamilies", json!(["IPv4"]));
    set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
    set_default(spec, "internalTrafficPolicy", json!("Cluster"));
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            set_default(p, "protocol", json!("TCP"));
            let port = p.get("port").cloned().unwrap_or(Value::Null);
            set_default(p, "targetPort", port);
        }
    }
}

/// Pod spec defaults (also inside templates).
pub fn pod_spec(spec: &mut Value) {
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "enableServiceLinks", json!(true));
    let sa = spec
        .get("serviceAccountName")
        .cloned()
        .unwrap_or(json!("default"));
    set_default(spec, "serviceAccountName", sa.clone());
    set_default(spec, "serviceAccount", sa);
    for list in ["containers", "initContainers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs {
                let image = c
                    .get("image")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let tag_latest = !image.rsplit('/').next().unwrap_or("").contains(':')
                    || image.ends_with(":latest");
                let policy = if tag_latest && !image.contains('@') {
                    "Always"
                } else {
                    "IfNotPresent"
                };
                set_default(c, "imagePullPolicy", json!(policy));
                set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
                set_default(c, "terminationMessagePolicy", json!("File"));
                set_default(c, "resources", json!({}));
                if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
                    for p in ports {
                        set_default(p, "protocol", json!("TCP"));
                    }
                }
            }
        }
    }
}

fn qos(pod: &Value) -> &'static str {
    let cs = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let any = cs.iter().any(|c| {
        c.pointer("/resources/requests")
            .is_some_and(|r| r.as_object().is_some_and(|o| !o.is_empty()))
            || c.pointer("/resources/limits")
                .is_some_and(|r| r.as_object().is_some_and(|o| !o.is_empty()))
    });
    if any {
        "Burstable"
    } else {
        "BestEffort"
    }
}

/// The ServiceAccount admission plugin's projected token volume and mounts.
fn service_account_volume(pod: &mut Value) {
    if pod.pointer("/spec/automountServiceAccountToken") == Some(&json!(false)) {
        return;
    }
    let mount_path = "/var/run/secrets/kubernetes.io/serviceaccount";
    let has_mount = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c["volumeMounts"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|v| v["mountPath"] == mount_path))
            })
        });
    if has_mount {
        return;
    }
    let name = format!("kube-api-access-{}", random_suffix());
    let volume = json!({
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ]
        }
    });
    let spec = &mut pod["spec"];
    set_default(spec, "volumes", json!([]));
    if let Some(v) = spec["volumes"].as_array_mut() {
        v.push(volume);
    }
    for list in ["containers", "initContainers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs {
                set_default(c, "volumeMounts", json!([]));
                if let Some(m) = c["volumeMounts"].as_array_mut() {
                    m.push(json!({"name": name, "readOnly": true, "mountPath": mount_path}));
                }
            }
        }
    }
}

/// Job defaults and the controller-uid selector/labels the Job strategy adds.
fn job(new: &mut Value) {
    let uid = new.pointer("/metadata/uid").cloned().unwrap_or(json!(""));
    let name = new.pointer("/metadata/name").cloned().unwrap_or(json!(""));
    set_default(new, "spec", json!({}));
    let spec = &mut new["spec"];
    set_default(spec, "completions", json!(1));
    set_default(spec, "parallelism", json!(1));
    set_default(spec, "backoffLimit", json!(6));
    set_default(spec, "completionMode", json!("NonIndexed"));
    set_default(spec, "suspend", json!(false));
    set_default(spec, "manualSelector", Value::Null);
    set_default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    if spec.get("manualSelector").is_none_or(|m| m != true) {
        if let Some(o) = spec.as_object_mut() {
            o.remove("manualSelector");
        }
        spec["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
        set_default(spec, "template", json!({}));
        set_default(&mut spec["template"], "metadata", json!({}));
        set_default(&mut spec["template"]["metadata"], "labels", json!({}));
        let labels = &mut spec["template"]["metadata"]["labels"];
        labels["batch.kubernetes.io/controller-uid"] = uid.clone();
        labels["batch.kubernetes.io/job-name"] = name.clone();
        labels["controller-uid"] = uid;
        labels["job-name"] = name;
    }
}
