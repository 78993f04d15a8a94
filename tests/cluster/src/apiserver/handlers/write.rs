//! create (POST), update (PUT) and patch (PATCH, all four patch types), with admission
//! webhooks called outside the state lock (the write is re-planned if the object changed
//! meanwhile).

use std::sync::Arc;

use hyper::Response;
use serde_json::{json, Value};

use super::pipeline::{commit, Op, Write, Written};
use super::{body_json, present, write_ctx};
use crate::apiserver::admission::webhooks;
use crate::apiserver::http::request::{Ctx, ResourcePath};
use crate::apiserver::http::status::{ApiError, Cause, Subject};
use crate::apiserver::http::{json_with, Body};
use crate::apiserver::patch::apply::{apply, ApplyRequest};
use crate::apiserver::patch::listtypes::Builtin;
use crate::apiserver::patch::{json_patch, merge_patch, strategic, PatchType};
use crate::apiserver::registry::{events, Resource};
use crate::apiserver::state::{Shared, State};

/// What a write will store: the current object, the new one, and the kind of write.
type Plan = (Option<Value>, Value, Op);

fn answer(shared: &Shared, res: &Resource, version: &str, w: Written) -> Response<Body> {
    shared.gc.notify_one();
    json_with(w.code, &present(&w.object, res, version), &w.warnings)
}

fn rv(v: Option<&Value>) -> Option<String> {
    v.and_then(|o| o.pointer("/metadata/resourceVersion"))
        .and_then(Value::as_str)
        .map(String::from)
}

/// Plans under the lock, calls the matching webhooks without it, commits under it again.
async fn run(
    shared: &Arc<Shared>,
    res: &Arc<Resource>,
    w: &Write,
    plan: impl Fn(&State, &Write) -> Result<Plan, ApiError>,
) -> Result<Response<Body>, ApiError> {
    let gr = res.gr();
    for _ in 0..5 {
        let (old, new, op, operation, hooks) = {
            let mut st = shared.lock();
            let (old, new, op) = plan(&st, w)?;
            let operation = if old.is_none() { "CREATE" } else { "UPDATE" };
            let hooks = webhooks::matching(&st, w, operation, &new);
            if hooks.is_empty() {
                let written = commit(&mut st, w, old.as_ref(), new, op)?;
                drop(st);
                return Ok(answer(shared, res, &w.version, written));
            }
            (old, new, op, operation, hooks)
        };
        let admitted = webhooks::admit(shared, &hooks, w, operation, old.as_ref(), new).await?;
        let mut st = shared.lock();
        if old.is_some() && rv(st.store.get(&gr, &w.namespace, &w.name)) != rv(old.as_ref()) {
            continue;
        }
        let written = commit(&mut st, w, old.as_ref(), admitted, op)?;
        drop(st);
        return Ok(answer(shared, res, &w.version, written));
    }
    Err(ApiError::stale(&w.subject(&w.name)))
}

fn current(st: &State, w: &Write) -> Option<Value> {
    let converted = w.res.gr() != (w.res.group.clone(), w.res.plural.clone());
    let obj = st.store.get(&w.res.gr(), &w.namespace, &w.name)?;
    Some(if converted {
        events::to_v1(obj)
    } else {
        obj.clone()
    })
}

fn not_found(w: &Write) -> ApiError {
    ApiError::not_found(&Subject::new(&w.res.group, &w.res.plural, &w.name))
}

/// POST a new object.
pub async fn create(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    res: &Arc<Resource>,
    rp: &ResourcePath,
) -> Result<Response<Body>, ApiError> {
    if !rp.name.is_empty() && rp.subresource.is_empty() {
        return Err(ApiError::method_not_allowed());
    }
    let body = body_json(ctx)?;
    let w = write_ctx(ctx, res, rp);
    run(shared, res, &w, |_, _| Ok((None, body.clone(), Op::Create))).await
}

/// PUT an object (or its status).
pub async fn update(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    res: &Arc<Resource>,
    rp: &ResourcePath,
) -> Result<Response<Body>, ApiError> {
    let body = body_json(ctx)?;
    let w = write_ctx(ctx, res, rp);
    run(shared, res, &w, |st, w| {
        let old = current(st, w).ok_or_else(|| not_found(w))?;
        Ok((Some(old), body.clone(), Op::Update))
    })
    .await
}

/// PATCH an object (or its status).
pub async fn patch(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    res: &Arc<Resource>,
    rp: &ResourcePath,
) -> Result<Response<Body>, ApiError> {
    let accepted: &[&str] = if res.is_custom() {
        &[
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/apply-patch+yaml",
        ]
    } else {
        &[
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ]
    };
    let pt = PatchType::of(&ctx.content_type)
        .ok_or_else(|| ApiError::unsupported_media(&ctx.content_type, accepted))?;
    if pt == PatchType::Strategic && res.is_custom() {
        return Err(ApiError::unsupported_media(&ctx.content_type, accepted));
    }
    let patch: Value = if pt == PatchType::Apply {
        serde_yaml::from_slice(&ctx.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
    } else {
        serde_json::from_slice(&ctx.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?
    };
    let w = write_ctx(ctx, res, rp);
    let applied = if pt == PatchType::Apply {
        Some(applied_config(ctx, res, rp, &patch)?)
    } else {
        None
    };
    let force = ctx.flag("force");
    run(shared, res, &w, |st, w| {
        let old = current(st, w);
        match pt {
            PatchType::Apply => {
                if old.is_none() && !w.subresource.is_empty() {
                    return Err(not_found(w));
                }
                let applied = applied
                    .as_ref()
                    .ok_or_else(|| ApiError::internal("no applied configuration"))?;
                let types = w.types();
                let req = ApplyRequest {
                    applied,
                    manager: &w.manager,
                    force,
                    subresource: &w.subresource,
                    part: w.part(),
                    now: &w.now,
                };
                let merged = apply(old.as_ref(), &req, types.as_ref())?;
                Ok((old, merged, Op::Apply))
            }
            PatchType::Merge => {
                let old = old.ok_or_else(|| not_found(w))?;
                let mut new = old.clone();
                merge_patch(&mut new, &patch);
                Ok((Some(old), new, Op::Patch))
            }
            PatchType::Json => {
                let old = old.ok_or_else(|| not_found(w))?;
                let mut new = old.clone();
                json_patch(&mut new, &patch)?;
                Ok((Some(old), new, Op::Patch))
            }
            PatchType::Strategic => {
                let old = old.ok_or_else(|| not_found(w))?;
                let mut new = old.clone();
                strategic::apply(&mut new, &patch, &Builtin(&w.res.kind));
                Ok((Some(old), new, Op::Patch))
            }
        }
    })
    .await
}

/// The applied configuration of an apply patch, checked as upstream does.
fn applied_config(
    ctx: &Ctx,
    res: &Resource,
    rp: &ResourcePath,
    patch: &Value,
) -> Result<Value, ApiError> {
    if ctx.q("fieldManager").is_none_or(str::is_empty) {
        return Err(ApiError::invalid(
            "PatchOptions",
            "meta.k8s.io",
            "",
            vec![Cause::new(
                "FieldValueRequired",
                "fieldManager",
                "Required value: is required for apply patch",
            )],
        ));
    }
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "error decoding YAML: the applied configuration is not an object",
        ));
    }
    if let Some(n) = patch.pointer("/metadata/name").and_then(Value::as_str) {
        if n != rp.name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({})",
                rp.name
            )));
        }
    }
    let mut applied = patch.clone();
    applied["metadata"]["name"] = json!(rp.name);
    if res.namespaced {
        applied["metadata"]["namespace"] = json!(rp.namespace);
    }
    Ok(applied)
}
