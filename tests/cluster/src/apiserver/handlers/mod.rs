//! Resource request handlers: routing by verb, authorization, then get/list/watch/write/delete.

pub mod delete;
pub mod pipeline;
pub mod read;
pub mod subresources;
pub mod watch;
pub mod write;

use std::sync::Arc;

use hyper::{Method, Response};
use serde_json::{json, Value};

use super::auth::rbac::{self, Attributes};
use super::faults::Hit;
use super::http::request::{Ctx, ResourcePath};
use super::http::status::ApiError;
use super::http::{error, Body};
use super::registry::Resource;
use super::state::Shared;
use pipeline::Write;

/// 404 for an unknown path, as upstream words it.
pub fn not_served() -> ApiError {
    let mut e = ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    );
    e.details = Some(json!({}));
    e
}

/// The request's verb (RBAC terms).
pub fn verb_of(ctx: &Ctx, rp: &ResourcePath) -> &'static str {
    let watch = rp.watch_path || ctx.flag("watch");
    match (&ctx.method, rp.name.is_empty()) {
        (&Method::GET, _) if watch => "watch",
        (&Method::GET, true) => "list",
        (&Method::GET, false) => "get",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, true) => "deletecollection",
        (&Method::DELETE, false) => "delete",
        _ => "unknown",
    }
}

/// Handles one resource request.
pub async fn dispatch(
    shared: Arc<Shared>,
    ctx: Ctx,
    rp: ResourcePath,
    hit: Option<Hit>,
) -> Response<Body> {
    match inner(shared, ctx, rp, hit).await {
        Ok(r) => r,
        Err(e) => error(&e),
    }
}

async fn inner(
    shared: Arc<Shared>,
    ctx: Ctx,
    rp: ResourcePath,
    hit: Option<Hit>,
) -> Result<Response<Body>, ApiError> {
    let res = shared
        .lock()
        .registry
        .find(&rp.group, &rp.version, &rp.resource)
        .ok_or_else(not_served)?;
    if !res.namespaced && !rp.namespace.is_empty() {
        return Err(not_served());
    }
    let sub_ok = rp.subresource.is_empty()
        || (rp.subresource == "status" && res.status)
        || res.extra_subresources.contains(&rp.subresource.as_str());
    if !sub_ok || (!rp.subresource.is_empty() && rp.name.is_empty()) {
        return Err(not_served());
    }
    if res.namespaced && rp.namespace.is_empty() && !rp.name.is_empty() {
        return Err(not_served());
    }
    let verb = verb_of(&ctx, &rp);
    if verb == "unknown" {
        return Err(ApiError::method_not_allowed());
    }
    let user = ctx.user();
    if !user.is_master() {
        let a = Attributes {
            verb: verb.into(),
            group: res.group.clone(),
            resource: res.plural.clone(),
            subresource: rp.subresource.clone(),
            name: rp.name.clone(),
            namespace: rp.namespace.clone(),
            path: None,
        };
        if !rbac::allowed(&shared.lock().store, &user, &a) {
            return Err(rbac::forbidden(&user, &a));
        }
    }
    let hit = hit.unwrap_or_default();
    match (verb, rp.subresource.as_str()) {
        ("watch", _) => watch::serve(shared, ctx, res, rp, hit).await,
        ("list", _) => read::list(&shared, &ctx, &res, &rp, &hit),
        ("get", "log") => subresources::log(shared, ctx, rp).await,
        ("get" | "update" | "patch", "scale") => subresources::scale(&shared, &ctx, &res, &rp),
        ("get", _) => read::get(&shared, &ctx, &res, &rp),
        ("create", "token") => subresources::token(&shared, &ctx, &rp),
        ("create", "binding") => subresources::binding(&shared, &ctx, &res, &rp),
        ("create", "eviction") => subresources::eviction(&shared, &ctx, &res, &rp),
        ("create", _) if res.verbs == ["create"] => subresources::review(&shared, &ctx, &res),
        ("create", _) => write::create(&shared, &ctx, &res, &rp).await,
        ("update", _) => write::update(&shared, &ctx, &res, &rp).await,
        ("patch", _) => write::patch(&shared, &ctx, &res, &rp).await,
        ("delete", _) => delete::delete(&shared, &ctx, &res, &rp),
        ("deletecollection", _) => delete::collection(&shared, &ctx, &res, &rp),
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// Now in RFC 3339 with seconds (as metav1.Time serialises).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The write context of a request.
pub fn write_ctx(ctx: &Ctx, res: &Arc<Resource>, rp: &ResourcePath) -> Write {
    Write {
        res: res.clone(),
        version: rp.version.clone(),
        namespace: rp.namespace.clone(),
        name: rp.name.clone(),
        subresource: rp.subresource.clone(),
        user: ctx.user(),
        manager: ctx.field_manager(),
        dry_run: ctx.dry_run(),
        field_validation: ctx.q("fieldValidation").unwrap_or("Warn").to_string(),
        now: now(),
    }
}

/// An object as served in `version` (no conversion: apiVersion rewritten, as CRDs with
/// strategy None do).
pub fn present(obj: &Value, res: &Resource, version: &str) -> Value {
    let mut o = if res.gr() != (res.group.clone(), res.plural.clone()) {
        super::registry::events::to_v1(obj)
    } else {
        obj.clone()
    };
    o["apiVersion"] = json!(res.api_version(version));
    o["kind"] = json!(res.kind);
    o
}

/// Does the client ask for `meta.k8s.io/v1` PartialObjectMetadata (metadata-only clients)?
pub fn wants_metadata(ctx: &Ctx) -> bool {
    ctx.accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=PartialObjectMetadata"))
}

/// The PartialObjectMetadata of an object.
pub fn partial(obj: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]})
}

/// The body as JSON (YAML accepted for apply patches and YAML content types).
pub fn body_json(ctx: &Ctx) -> Result<Value, ApiError> {
    if ctx.content_type.contains("protobuf") {
        return super::http::protobuf::to_json(&ctx.body).map_err(|e| match e {
            super::http::protobuf::ProtoError::Unsupported(_) => {
                let mut err = ApiError::unsupported_media(
                    &ctx.content_type,
                    &["application/json", "application/yaml"],
                );
                err.message = format!("{}: {e}", err.message);
                err
            }
            other => ApiError::bad_request(other.to_string()),
        });
    }
    if ctx.content_type.contains("cbor") {
        return Err(ApiError::unsupported_media(
            &ctx.content_type,
            &["application/json", "application/yaml"],
        ));
    }
    if ctx.body.is_empty() {
        return Ok(Value::Null);
    }
    if ctx.content_type.contains("yaml") {
        return serde_yaml::from_slice::<Value>(&ctx.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")));
    }
    serde_json::from_slice(&ctx.body).map_err(|e| {
        ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
    })
}
