//! create (POST), update (PUT) and patch (PATCH, all four patch types).

use std::sync::Arc;

use hyper::Response;
use serde_json::{json, Value};

use super::pipeline::{commit, Op, Written};
use super::{body_json, present, write_ctx};
use crate::apiserver::http::request::{Ctx, ResourcePath};
use crate::apiserver::http::status::{ApiError, Cause, Subject};
use crate::apiserver::http::{json_with, Body};
use crate::apiserver::patch::apply::{apply, ApplyRequest};
use crate::apiserver::patch::listtypes::Builtin;
use crate::apiserver::patch::{json_patch, merge_patch, strategic, PatchType};
use crate::apiserver::registry::Resource;
use crate::apiserver::state::Shared;

fn answer(shared: &Shared, res: &Resource, version: &str, w: Written) -> Response<Body> {
    shared.gc.notify_one();
    json_with(w.code, &present(&w.object, res, version), &w.warnings)
}

/// POST a new object.
pub fn create(
    shared: &Shared,
    ctx: &Ctx,
    res: &Arc<Resource>,
    rp: &ResourcePath,
) -> Result<Response<Body>, ApiError> {
    if !rp.name.is_empty() && rp.subresource.is_empty() {
        return Err(ApiError::method_not_allowed());
    }
    let body = body_json(ctx)?;
    let w = write_ctx(ctx, res, rp);
    let mut st = shared.lock();
    let written = commit(&mut st, &w, None, body, Op::Create)?;
    drop(st);
    Ok(answer(shared, res, &rp.version, written))
}

/// PUT an object (or its status).
pub fn update(
    shared: &Shared,
    ctx: &Ctx,
    res: &Arc<Resource>,
    rp: &ResourcePath,
) -> Result<Response<Body>, ApiError> {
    let body = body_json(ctx)?;
    let w = write_ctx(ctx, res, rp);
    let gr = (res.group.clone(), res.plural.clone());
    let mut st = shared.lock();
    let old = st
        .store
        .get(&gr, &rp.namespace, &rp.name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&Subject::new(&res.group, &res.plural, &rp.name)))?;
    let written = commit(&mut st, &w, Some(&old), body, Op::Update)?;
    drop(st);
    Ok(answer(shared, res, &rp.version, written))
}

/// PATCH an object (or its status).
pub fn patch(
    shared: &Shared,
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
    let gr = (res.group.clone(), res.plural.clone());
    let mut st = shared.lock();
    let old = st.store.get(&gr, &rp.namespace, &rp.name).cloned();
    let not_found = || ApiError::not_found(&Subject::new(&res.group, &res.plural, &rp.name));
    let written = match pt {
        PatchType::Apply => {
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
            match patch.pointer("/metadata/name").and_then(Value::as_str) {
                Some(n) if n != rp.name => {
                    return Err(ApiError::bad_request(format!(
                        "the name of the object ({n}) does not match the name on the URL ({})",
                        rp.name
                    )))
                }
                _ => {}
            }
            let mut applied = patch.clone();
            applied["metadata"]["name"] = json!(rp.name);
            if res.namespaced {
                applied["metadata"]["namespace"] = json!(rp.namespace);
            }
            if old.is_none() && !rp.subresource.is_empty() {
                return Err(not_found());
            }
            let types = w.types();
            let req = ApplyRequest {
                applied: &applied,
                manager: &w.manager,
                force: ctx.flag("force"),
                subresource: &w.subresource,
                part: w.part(),
                now: &w.now,
            };
            let merged = apply(old.as_ref(), &req, types.as_ref())?;
            drop(types);
            commit(&mut st, &w, old.as_ref(), merged, Op::Apply)?
        }
        PatchType::Merge => {
            let old = old.ok_or_else(not_found)?;
            let mut new = old.clone();
            merge_patch(&mut new, &patch);
            commit(&mut st, &w, Some(&old), new, Op::Patch)?
        }
        PatchType::Json => {
            let old = old.ok_or_else(not_found)?;
            let mut new = old.clone();
            json_patch(&mut new, &patch)?;
            commit(&mut st, &w, Some(&old), new, Op::Patch)?
        }
        PatchType::Strategic => {
            let old = old.ok_or_else(not_found)?;
            let mut new = old.clone();
            strategic::apply(&mut new, &patch, &Builtin(&res.kind));
            commit(&mut st, &w, Some(&old), new, Op::Patch)?
        }
    };
    drop(st);
    Ok(answer(shared, res, &rp.version, written))
}
