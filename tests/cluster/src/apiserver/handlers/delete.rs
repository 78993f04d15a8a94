//! delete and deletecollection: preconditions, finalizers (deletionTimestamp), propagation
//! policies (recorded as the `orphan`/`foregroundDeletion` finalizers the garbage collector
//! honours), graceful pod deletion, namespace termination.

use hyper::Response;
use serde_json::{json, Value};

use super::pipeline::after_remove;
use super::read::selectors;
use super::{body_json, now, present};
use crate::apiserver::http::request::{Ctx, ResourcePath};
use crate::apiserver::http::status::{success, ApiError, Subject};
use crate::apiserver::http::{json, Body};
use crate::apiserver::registry::Resource;
use crate::apiserver::state::{Shared, State};
use crate::apiserver::store::key_of;

/// DeleteOptions from the body and the query.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// `Background`, `Foreground`, `Orphan` (None: the kind's default).
    pub propagation: Option<String>,
    /// `gracePeriodSeconds`.
    pub grace: Option<i64>,
    /// `preconditions.uid`.
    pub uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub resource_version: Option<String>,
    /// `dryRun=All`.
    pub dry_run: bool,
}

impl DeleteOptions {
    fn from(ctx: &Ctx) -> Result<Self, ApiError> {
        let body = if ctx.body.is_empty() {
            Value::Null
        } else {
            body_json(ctx)?
        };
        let s = |p: &str| body.pointer(p).and_then(Value::as_str).map(String::from);
        let mut o = DeleteOptions {
            propagation: s("/propagationPolicy")
                .or_else(|| ctx.q("propagationPolicy").map(String::from)),
            grace: body
                .get("gracePeriodSeconds")
                .and_then(Value::as_i64)
                .or_else(|| ctx.q("gracePeriodSeconds").and_then(|g| g.parse().ok())),
            uid: s("/preconditions/uid"),
            resource_version: s("/preconditions/resourceVersion"),
            dry_run: ctx.dry_run()
                || body
                    .get("dryRun")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.contains(&json!("All"))),
        };
        let orphan = body.get("orphanDependents").and_then(Value::as_bool).or(
            match ctx.q("orphanDependents") {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            },
        );
        if o.propagation.is_none() {
            o.propagation = orphan.map(|b| {
                if b {
                    "Orphan".into()
                } else {
                    "Background".into()
                }
            });
        }
        Ok(o)
    }
}

/// The outcome: HTTP code and body.
pub type Deleted = (u16, Value);

/// Deletes one object as the registry does (no authorization here).
pub fn delete_object(
    st: &mut State,
    res: &Resource,
    ns: &str,
    name: &str,
    opts: &DeleteOptions,
) -> Result<Deleted, ApiError> {
    let gr = res.gr();
    let subject = Subject::new(&res.group, &res.plural, name);
    let obj = st
        .store
        .get(&gr, ns, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&subject))?;
    let uid = obj
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(want) = &opts.uid {
        if *want != uid {
            return Err(ApiError::conflict(
                &subject,
                &format!(
                    "Precondition failed: UID in precondition: {want}, UID in object meta: {uid}"
                ),
            ));
        }
    }
    let rv = obj
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if let Some(want) = &opts.resource_version {
        if want != rv {
            return Err(ApiError::conflict(&subject, &format!(
                "Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {rv}"
            )));
        }
    }
    let now = now();
    let mut next = obj.clone();
    if res.group.is_empty() && res.plural == "namespaces" {
        if obj.pointer("/metadata/deletionTimestamp").is_none() {
            next["metadata"]["deletionTimestamp"] = json!(now);
            next["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            next["status"] = json!({"phase": "Terminating"});
            if !opts.dry_run {
                next = st.store.put(&gr, next);
            }
        }
        return Ok((200, next));
    }
    let policy = opts.propagation.clone().unwrap_or_else(|| {
        // batch/v1 Jobs default to orphaning their pods (upstream's compatibility default).
        if res.group == "batch" && res.kind == "Job" {
            "Orphan".into()
        } else {
            "Background".into()
        }
    });
    let mut finalizers: Vec<Value> = obj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let add = |f: &mut Vec<Value>, name: &str| {
        if !f.contains(&json!(name)) {
            f.push(json!(name));
        }
    };
    let deleting = obj.pointer("/metadata/deletionTimestamp").is_some();
    match policy.as_str() {
        "Orphan" => add(&mut finalizers, "orphan"),
        "Foreground" => add(&mut finalizers, "foregroundDeletion"),
        "Background" => {}
        other => {
            return Err(ApiError::bad_request(format!(
                "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
            )))
        }
    }
    // Orphaning something that owns nothing needs no finalizer.
    if policy == "Orphan" && !has_dependents(st, &uid) {
        finalizers.retain(|f| f != "orphan");
    }
    // Graceful pod deletion: bound, running pods stay until the kubelet deletes them with grace 0.
    if res.group.is_empty() && res.kind == "Pod" {
        let bound = obj
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        let terminal = matches!(
            obj.pointer("/status/phase").and_then(Value::as_str),
            Some("Succeeded" | "Failed")
        );
        let grace = opts
            .grace
            .or_else(|| {
                obj.pointer("/spec/terminationGracePeriodSeconds")
                    .and_then(Value::as_i64)
            })
            .unwrap_or(30);
        let grace_now = obj
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64);
        if bound && !terminal && grace > 0 && grace_now.is_none_or(|g| g > grace) {
            let at = chrono::Utc::now() + chrono::Duration::seconds(grace);
            next["metadata"]["deletionTimestamp"] =
                json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            next["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            next["metadata"]["finalizers"] = json!(finalizers);
            if finalizers.is_empty() {
                next["metadata"]
                    .as_object_mut()
                    .map(|m| m.remove("finalizers"));
            }
            if !opts.dry_run {
                next = st.store.put(&gr, next);
            }
            return Ok((200, next));
        }
        if bound && !terminal && grace > 0 && deleting {
            return Ok((200, obj));
        }
    }
    if !finalizers.is_empty() {
        if !deleting || obj.pointer("/metadata/finalizers") != Some(&json!(finalizers)) {
            if !deleting {
                next["metadata"]["deletionTimestamp"] = json!(now);
                next["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            }
            next["metadata"]["finalizers"] = json!(finalizers);
            if !opts.dry_run {
                next = st.store.put(&gr, next);
            }
        }
        return Ok((202, next));
    }
    if opts.dry_run {
        return Ok((200, obj));
    }
    let gone = st.store.remove(&gr, ns, name).unwrap_or(obj);
    after_remove(st, res, &gone);
    if res.group.is_empty() && res.kind == "Pod" {
        return Ok((200, gone));
    }
    let mut details = json!({"name": name, "kind": res.plural, "uid": uid});
    if !res.group.is_empty() {
        details["group"] = json!(res.group);
    }
    Ok((200, success(details)))
}

/// Does any object name `uid` as an owner?
pub fn has_dependents(st: &State, uid: &str) -> bool {
    st.store.all().any(|(_, o)| {
        o.pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .is_some_and(|rs| rs.iter().any(|r| r["uid"] == uid))
    })
}

/// DELETE one object.
pub fn delete(
    shared: &Shared,
    ctx: &Ctx,
    res: &Resource,
    rp: &ResourcePath,
) -> Result<Response<Body>, ApiError> {
    let opts = DeleteOptions::from(ctx)?;
    let mut st = shared.lock();
    let (code, body) = delete_object(&mut st, res, &rp.namespace, &rp.name, &opts)?;
    drop(st);
    shared.gc.notify_one();
    let body = if body.get("kind") == Some(&json!("Status")) {
        body
    } else {
        present(&body, res, &rp.version)
    };
    Ok(json(code, &body))
}

/// DELETE a collection (selectors apply).
pub fn collection(
    shared: &Shared,
    ctx: &Ctx,
    res: &Resource,
    rp: &ResourcePath,
) -> Result<Response<Body>, ApiError> {
    let opts = DeleteOptions::from(ctx)?;
    let (labels, fields) = selectors(ctx, res)?;
    let gr = res.gr();
    let mut st = shared.lock();
    let ns = if rp.namespace.is_empty() {
        None
    } else {
        Some(rp.namespace.as_str())
    };
    let keys: Vec<(String, String)> = st
        .store
        .list(&gr, ns)
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .map(key_of)
        .collect();
    let mut items = Vec::new();
    for (ns, name) in keys {
        if let Ok((_, v)) = delete_object(&mut st, res, &ns, &name, &opts) {
            items.push(v);
        }
    }
    let rv = st.store.current_rv().to_string();
    drop(st);
    shared.gc.notify_one();
    Ok(json(
        200,
        &json!({
            "kind": format!("{}List", res.kind),
            "apiVersion": res.api_version(&rp.version),
            "metadata": {"resourceVersion": rv},
            "items": items.into_iter().filter(|i| i.get("kind") != Some(&json!("Status"))).collect::<Vec<_>>(),
        }),
    ))
}
