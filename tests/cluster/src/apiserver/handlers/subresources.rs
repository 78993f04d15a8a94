//! Subresources and virtual resources: `serviceaccounts/token` (TokenRequest), `pods/log`
//! (read from files the kubelet writes), `pods/binding`, `pods/eviction`, and the access and
//! token reviews.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::Response;
use serde_json::{json, Value};

use super::delete::{delete_object, DeleteOptions};
use super::{body_json, now};
use crate::apiserver::auth::rbac::{self, Attributes};
use crate::apiserver::http::request::{Ctx, ResourcePath};
use crate::apiserver::http::status::{ApiError, Cause, Subject};
use crate::apiserver::http::{json, text, Body};
use crate::apiserver::registry::Resource;
use crate::apiserver::state::Shared;

/// POST `serviceaccounts/<name>/token`.
pub fn token(shared: &Shared, ctx: &Ctx, rp: &ResourcePath) -> Result<Response<Body>, ApiError> {
    let req = body_json(ctx)?;
    let exp = req
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(3600);
    if exp < 600 {
        return Err(ApiError::invalid(
            "TokenRequest",
            "authentication.k8s.io",
            &rp.name,
            vec![Cause::invalid(
                "spec.expirationSeconds",
                &json!(exp),
                "may not specify a duration less than 10 minutes",
            )],
        ));
    }
    let audiences: Vec<String> = req
        .pointer("/spec/audiences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .filter(|a: &Vec<String>| !a.is_empty())
        .unwrap_or_else(|| vec!["https://kubernetes.default.svc.cluster.local".into()]);
    let mut st = shared.lock();
    let sa = st
        .store
        .get(
            &(String::new(), "serviceaccounts".into()),
            &rp.namespace,
            &rp.name,
        )
        .cloned()
        .ok_or_else(|| ApiError::not_found(&Subject::new("", "serviceaccounts", &rp.name)))?;
    let uid = sa
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let bound_pod = match req.pointer("/spec/boundObjectRef") {
        Some(r) if r["kind"] == "Pod" => {
            let name = r["name"].as_str().unwrap_or("");
            let pod = st
                .store
                .get(&(String::new(), "pods".into()), &rp.namespace, name)
                .ok_or_else(|| ApiError::not_found(&Subject::new("", "pods", name)))?;
            pod.pointer("/metadata/uid")
                .and_then(Value::as_str)
                .map(String::from)
        }
        _ => None,
    };
    let expires = chrono::Utc::now() + chrono::Duration::seconds(exp);
    let token = st.tokens.issue(
        &rp.namespace,
        &rp.name,
        &uid,
        expires.timestamp(),
        &audiences,
        bound_pod,
    );
    let mut out = json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": rp.name, "namespace": rp.namespace, "creationTimestamp": now()},
        "spec": {"audiences": audiences, "expirationSeconds": exp, "boundObjectRef": req.pointer("/spec/boundObjectRef").cloned().unwrap_or(Value::Null)},
        "status": {"token": token, "expirationTimestamp": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)},
    });
    if out["spec"]["boundObjectRef"].is_null() {
        out["spec"]
            .as_object_mut()
            .map(|o| o.remove("boundObjectRef"));
    }
    Ok(json(201, &out))
}

/// POST `pods/<name>/binding` (what a scheduler does): sets `spec.nodeName`.
pub fn binding(
    shared: &Shared,
    ctx: &Ctx,
    res: &Resource,
    rp: &ResourcePath,
) -> Result<Response<Body>, ApiError> {
    let b = body_json(ctx)?;
    let node = b
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let gr = res.gr();
    let mut st = shared.lock();
    let mut pod = st
        .store
        .get(&gr, &rp.namespace, &rp.name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&Subject::new("", "pods", &rp.name)))?;
    if pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty())
    {
        return Err(ApiError::conflict(
            &Subject::new("", "pods", &rp.name),
            &format!(
                "pod {} is already assigned to node {:?}",
                rp.name,
                pod["spec"]["nodeName"].as_str().unwrap_or("")
            ),
        ));
    }
    pod["spec"]["nodeName"] = json!(node);
    let conds = pod["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut conds: Vec<Value> = conds
        .into_iter()
        .filter(|c| c["type"] != "PodScheduled")
        .collect();
    conds.push(json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now()}));
    pod["status"]["conditions"] = json!(conds);
    st.store.put(&gr, pod);
    Ok(json(
        201,
        &crate::apiserver::http::status::success(json!({})),
    ))
}

/// POST `pods/<name>/eviction`: deletes the pod (no PodDisruptionBudgets).
pub fn eviction(
    shared: &Shared,
    _ctx: &Ctx,
    res: &Resource,
    rp: &ResourcePath,
) -> Result<Response<Body>, ApiError> {
    let mut st = shared.lock();
    delete_object(
        &mut st,
        res,
        &rp.namespace,
        &rp.name,
        &DeleteOptions::default(),
    )?;
    drop(st);
    shared.gc.notify_one();
    Ok(json(
        201,
        &crate::apiserver::http::status::success(json!({})),
    ))
}

/// POST of a review kind (SelfSubjectAccessReview, SubjectAccessReview, SelfSubjectReview, TokenReview).
pub fn review(shared: &Shared, ctx: &Ctx, res: &Resource) -> Result<Response<Body>, ApiError> {
    let mut r = body_json(ctx)?;
    let user = ctx.user();
    let st = shared.lock();
    match res.kind.as_str() {
        "SelfSubjectAccessReview" | "SubjectAccessReview" => {
            let subject = if res.kind == "SubjectAccessReview" {
                crate::apiserver::auth::User {
                    name: r
                        .pointer("/spec/user")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .into(),
                    groups: r
                        .pointer("/spec/groups")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|g| g.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default(),
                    uid: String::new(),
                }
            } else {
                user
            };
            let s = |p: &str| {
                r.pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let a = if r.pointer("/spec/nonResourceAttributes").is_some() {
                Attributes {
                    verb: s("/spec/nonResourceAttributes/verb"),
                    path: Some(s("/spec/nonResourceAttributes/path")),
                    ..Default::default()
                }
            } else {
                Attributes {
                    verb: s("/spec/resourceAttributes/verb"),
                    group: s("/spec/resourceAttributes/group"),
                    resource: s("/spec/resourceAttributes/resource"),
                    subresource: s("/spec/resourceAttributes/subresource"),
                    name: s("/spec/resourceAttributes/name"),
                    namespace: s("/spec/resourceAttributes/namespace"),
                    path: None,
                }
            };
            let allowed = rbac::allowed(&st.store, &subject, &a);
            r["status"] = json!({"allowed": allowed});
            if !allowed {
                r["status"]["reason"] = json!("");
            }
        }
        "SelfSubjectReview" => {
            r["status"] = json!({"userInfo": {"username": user.name, "uid": user.uid, "groups": user.groups}});
        }
        "TokenReview" => {
            let token = r
                .pointer("/spec/token")
                .and_then(Value::as_str)
                .unwrap_or("");
            let now_s = chrono::Utc::now().timestamp();
            match st
                .tokens
                .authenticate(token, now_s, |uid| st.store.uid_exists(uid))
            {
                Ok(u) => {
                    r["status"] = json!({"authenticated": true, "user": {"username": u.name, "uid": u.uid, "groups": u.groups}})
                }
                Err(_) => {
                    r["status"] = json!({"authenticated": false, "error": "invalid bearer token"})
                }
            }
        }
        _ => return Err(ApiError::method_not_allowed()),
    }
    if r.get("metadata").is_none() {
        r["metadata"] = json!({});
    }
    r["metadata"]["creationTimestamp"] = Value::Null;
    Ok(json(201, &r))
}

/// GET `pods/<name>/log`: the file `<dir>/logs/<ns>/<pod>/<container>.log` the kubelet writes
/// (`container`, `tailLines`, `follow` supported).
pub async fn log(
    shared: Arc<Shared>,
    ctx: Ctx,
    rp: ResourcePath,
) -> Result<Response<Body>, ApiError> {
    let (pod, dir) = {
        let st = shared.lock();
        let pod = st
            .store
            .get(&(String::new(), "pods".into()), &rp.namespace, &rp.name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&Subject::new("", "pods", &rp.name)))?;
        (pod, st.dir.clone())
    };
    let names: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|c| c["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let container = match ctx.q("container") {
        Some(c) if !c.is_empty() => c.to_string(),
        _ if names.len() == 1 => names[0].clone(),
        _ => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {}, choose one of: [{}]",
                rp.name,
                names.join(" ")
            )))
        }
    };
    let file = if ctx.flag("previous") {
        format!("{container}.previous.log")
    } else {
        format!("{container}.log")
    };
    let path = dir
        .join("logs")
        .join(&rp.namespace)
        .join(&rp.name)
        .join(file);
    let Ok(content) = tokio::fs::read(&path).await else {
        let waiting = pod
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c["name"] == container.as_str()))
            .and_then(|c| c.pointer("/state/waiting/reason"))
            .and_then(Value::as_str)
            .unwrap_or("ContainerCreating");
        return Err(ApiError::bad_request(format!(
            "container {container:?} in pod {:?} is waiting to start: {waiting}",
            rp.name
        )));
    };
    let tail = ctx.q("tailLines").and_then(|t| t.parse::<usize>().ok());
    let shown = match tail {
        Some(n) => {
            let text = String::from_utf8_lossy(&content);
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(n);
            let mut s = lines[start..].join("\n");
            if !s.is_empty() {
                s.push('\n');
            }
            s.into_bytes()
        }
        None => content.clone(),
    };
    if !ctx.flag("follow") {
        return Ok(text(200, shown));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    let ns = rp.namespace.clone();
    let name = rp.name.clone();
    tokio::spawn(async move {
        let mut offset = content.len();
        if tx.send(Bytes::from(shown)).await.is_err() {
            return;
        }
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if let Ok(now) = tokio::fs::read(&path).await {
                if now.len() > offset {
                    if tx
                        .send(Bytes::copy_from_slice(&now[offset..]))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    offset = now.len();
                }
            }
            let done = {
                let st = shared.lock();
                match st.store.get(&(String::new(), "pods".into()), &ns, &name) {
                    None => true,
                    Some(p) => matches!(
                        p.pointer("/status/phase").and_then(Value::as_str),
                        Some("Succeeded" | "Failed")
                    ),
                }
            };
            if done {
                if let Ok(now) = tokio::fs::read(&path).await {
                    if now.len() > offset {
                        let _ = tx.send(Bytes::copy_from_slice(&now[offset..])).await;
                    }
                }
                return;
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(Frame::data(b)), rx))
    });
    Response::builder()
        .status(200)
        .header("Content-Type", "text/plain")
        .body(StreamBody::new(stream).boxed())
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// The `autoscaling/v1 Scale` of a Deployment, ReplicaSet or StatefulSet.
fn scale_of(obj: &Value) -> Value {
    let m = &obj["metadata"];
    let selector = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|l| {
            l.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
            "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"],
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector},
    })
}

/// GET, PUT or PATCH (merge/JSON) of `<resource>/<name>/scale`: reads and sets `spec.replicas`.
pub fn scale(
    shared: &Shared,
    ctx: &Ctx,
    res: &Resource,
    rp: &ResourcePath,
) -> Result<Response<Body>, ApiError> {
    let gr = res.gr();
    let mut st = shared.lock();
    let mut obj = st
        .store
        .get(&gr, &rp.namespace, &rp.name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&Subject::new(&res.group, &res.plural, &rp.name)))?;
    let current = scale_of(&obj);
    if ctx.method == hyper::Method::GET {
        return Ok(json(200, &current));
    }
    let wanted = if ctx.method == hyper::Method::PUT {
        body_json(ctx)?
    } else {
        let patch: Value = serde_json::from_slice(&ctx.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
        let mut s = current.clone();
        match crate::apiserver::patch::PatchType::of(&ctx.content_type) {
            Some(crate::apiserver::patch::PatchType::Json) => {
                crate::apiserver::patch::json_patch(&mut s, &patch)?
            }
            _ => crate::apiserver::patch::merge_patch(&mut s, &patch),
        }
        s
    };
    if let Some(rv) = wanted
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        if !rv.is_empty()
            && Some(rv)
                != current
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
        {
            return Err(ApiError::stale(&Subject::new(
                &res.group,
                &res.plural,
                &rp.name,
            )));
        }
    }
    let replicas = wanted
        .pointer("/spec/replicas")
        .cloned()
        .unwrap_or(json!(0));
    if obj.pointer("/spec/replicas") != Some(&replicas) {
        obj["spec"]["replicas"] = replicas;
        let g = obj
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        obj["metadata"]["generation"] = json!(g + 1);
        obj = st.store.put(&gr, obj);
    }
    Ok(json(200, &scale_of(&obj)))
}
