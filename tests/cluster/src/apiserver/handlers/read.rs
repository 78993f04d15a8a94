//! get and list (selectors, pagination, Tables).

use base64::Engine as _;
use hyper::Response;
use serde_json::{json, Value};

use super::present;
use crate::apiserver::faults::Hit;
use crate::apiserver::http::request::{Ctx, ResourcePath};
use crate::apiserver::http::status::{ApiError, Subject};
use crate::apiserver::http::{json, Body};
use crate::apiserver::registry::Resource;
use crate::apiserver::state::Shared;
use crate::apiserver::store::key_of;
use crate::apiserver::store::selectors::{FieldSelector, LabelSelector};
use crate::apiserver::table;

/// GET one object.
pub fn get(
    shared: &Shared,
    ctx: &Ctx,
    res: &Resource,
    rp: &ResourcePath,
) -> Result<Response<Body>, ApiError> {
    let st = shared.lock();
    let gr = res.gr();
    let obj = st
        .store
        .get(&gr, &rp.namespace, &rp.name)
        .ok_or_else(|| ApiError::not_found(&Subject::new(&res.group, &res.plural, &rp.name)))?;
    let obj = present(obj, res, &rp.version);
    if ctx.wants_table() {
        let rv = obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        return Ok(json(
            200,
            &table::table(
                res,
                &rp.version,
                &[obj],
                &rv,
                ctx.q("includeObject").unwrap_or(""),
            ),
        ));
    }
    if super::wants_metadata(ctx) {
        return Ok(json(200, &super::partial(&obj)));
    }
    Ok(json(200, &obj))
}

/// The selectors of a request.
pub fn selectors(ctx: &Ctx, res: &Resource) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(ctx.q("labelSelector").unwrap_or(""))?;
    let fields = FieldSelector::parse(ctx.q("fieldSelector").unwrap_or(""), &res.kind)?;
    Ok((labels, fields))
}

/// GET a collection.
pub fn list(
    shared: &Shared,
    ctx: &Ctx,
    res: &Resource,
    rp: &ResourcePath,
    hit: &Hit,
) -> Result<Response<Body>, ApiError> {
    if hit.gone410 {
        return Err(ApiError::expired(
            "too old resource version: injected (fault)",
        ));
    }
    let (labels, fields) = selectors(ctx, res)?;
    let limit: usize = ctx
        .q("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let start_after: Option<(String, String)> = match ctx.q("continue").filter(|c| !c.is_empty()) {
        None => None,
        Some(tok) => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(tok)
                .map_err(|_| {
                    ApiError::bad_request("continue key is not valid: illegal base64 data")
                })?;
            let v: Value = serde_json::from_slice(&raw)
                .map_err(|_| ApiError::bad_request("continue key is not valid"))?;
            Some((
                v["ns"].as_str().unwrap_or("").into(),
                v["name"].as_str().unwrap_or("").into(),
            ))
        }
    };
    let st = shared.lock();
    let gr = res.gr();
    let ns = if rp.namespace.is_empty() {
        None
    } else {
        Some(rp.namespace.as_str())
    };
    let mut matching = st
        .store
        .list(&gr, ns)
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .filter(|o| start_after.as_ref().is_none_or(|k| key_of(o) > *k));
    let items: Vec<Value> = matching
        .by_ref()
        .take(limit)
        .map(|o| present(o, res, &rp.version))
        .collect();
    let remaining = matching.count();
    let rv = st.store.current_rv().to_string();
    drop(st);
    let mut meta = json!({"resourceVersion": rv});
    if remaining > 0 {
        if let Some(last) = items.last() {
            let (ns, name) = key_of(last);
            let tok = json!({"ns": ns, "name": name, "rv": rv}).to_string();
            meta["continue"] = json!(base64::engine::general_purpose::STANDARD.encode(tok));
            meta["remainingItemCount"] = json!(remaining);
        }
    }
    if ctx.wants_table() {
        let mut t = table::table(
            res,
            &rp.version,
            &items,
            &rv,
            ctx.q("includeObject").unwrap_or(""),
        );
        t["metadata"] = meta;
        return Ok(json(200, &t));
    }
    if super::wants_metadata(ctx) {
        let items: Vec<Value> = items.iter().map(super::partial).collect();
        return Ok(json(
            200,
            &json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": meta,
                "items": items,
            }),
        ));
    }
    Ok(json(
        200,
        &json!({
            "kind": format!("{}List", res.kind),
            "apiVersion": res.api_version(&rp.version),
            "metadata": meta,
            "items": items,
        }),
    ))
}
