//! Request entry: read the body, health and version endpoints, authentication, test
//! endpoints, fault injection, then discovery or resource handlers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use serde_json::{json, Value};

use super::auth::rbac::{self, Attributes};
use super::discovery;
use super::faults::reason_of;
use super::handlers::{self, not_served};
use super::http::request::{parse_path, parse_query, Ctx, Target};
use super::http::status::ApiError;
use super::http::{error, json, text, Body};
use super::state::Shared;

/// Handles one HTTP request.
pub async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let header = |k: &str| {
        parts
            .headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return error(&ApiError::bad_request(format!("reading body: {e}"))),
    };
    let ctx = Ctx {
        method: parts.method.clone(),
        path: parts.uri.path().to_string(),
        query: parse_query(parts.uri.query()),
        accept: header("accept"),
        content_type: header("content-type"),
        user_agent: header("user-agent"),
        body,
        user: None,
    };
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let auth = header("authorization");
    let resp = route(shared, ctx, &auth, &target).await;
    tracing::debug!(method = %parts.method, target, status = resp.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    resp
}

fn unauthorized() -> ApiError {
    ApiError::new(401, "Unauthorized", "Unauthorized")
}

async fn route(shared: Arc<Shared>, mut ctx: Ctx, auth: &str, target: &str) -> Response<Body> {
    match ctx.path.as_str() {
        "/healthz" | "/readyz" | "/livez" => return text(200, "ok"),
        "/version" | "/version/" => return json(200, &discovery::version()),
        _ => {}
    }
    let token = auth.strip_prefix("Bearer ").map(str::trim).unwrap_or("");
    let user = {
        let st = shared.lock();
        let now = chrono::Utc::now().timestamp();
        st.tokens
            .authenticate(token, now, |uid| st.store.uid_exists(uid))
    };
    let Ok(user) = user else {
        return error(&unauthorized());
    };
    ctx.user = Some(user.clone());
    if let Some(rest) = ctx.path.strip_prefix("/_test/") {
        if !user.is_master() {
            return error(&ApiError::new(
                403,
                "Forbidden",
                "forbidden: test endpoints are for system:masters",
            ));
        }
        return test_endpoint(&shared, &ctx, rest.to_string());
    }
    let hit = shared
        .lock()
        .faults
        .take(ctx.method.as_str(), target, &user.name);
    if let Some(h) = &hit {
        if h.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(h.delay_ms)).await;
        }
        if let Some(code) = h.status {
            let msg = h
                .message
                .clone()
                .unwrap_or_else(|| format!("injected fault ({code})"));
            return error(&ApiError::new(code, reason_of(code), msg));
        }
    }
    match parse_path(&ctx.path) {
        Target::Resource(rp) => handlers::dispatch(shared, ctx, rp, hit).await,
        other => {
            if !user.is_master() {
                let a = Attributes {
                    verb: ctx.method.as_str().to_lowercase(),
                    path: Some(ctx.path.clone()),
                    ..Default::default()
                };
                let allowed = rbac::allowed(&shared.lock().store, &user, &a);
                if !allowed {
                    return error(&rbac::forbidden(&user, &a));
                }
            }
            non_resource(&shared, &ctx, other)
        }
    }
}

fn non_resource(shared: &Shared, ctx: &Ctx, target: Target) -> Response<Body> {
    if ctx.method != Method::GET {
        return error(&ApiError::method_not_allowed());
    }
    let st = shared.lock();
    let doc = match target {
        Target::CoreVersions => Some(discovery::core_versions(&shared.url)),
        Target::Groups => Some(discovery::groups(&st.registry)),
        Target::Group(g) => discovery::group(&st.registry, &g),
        Target::GroupVersion(g, v) => discovery::resource_list(&st.registry, &g, &v),
        Target::Other if ctx.path == "/openapi/v3" => Some(super::openapi::root(&st.registry)),
        Target::Other => match ctx.path.strip_prefix("/openapi/v3/") {
            Some(key) => super::openapi::group_version(&st.registry, key),
            None => None,
        },
        Target::Resource(_) => None,
    };
    match doc {
        Some(d) => json(200, &d),
        None => error(&not_served()),
    }
}

fn test_endpoint(shared: &Shared, ctx: &Ctx, rest: String) -> Response<Body> {
    let mut st = shared.lock();
    match (ctx.method.clone(), rest.as_str()) {
        (Method::POST, "faults") => {
            let body: Value = serde_json::from_slice(&ctx.body).unwrap_or(Value::Null);
            match st.faults.add(&body) {
                Ok(n) => json(201, &json!({"added": n})),
                Err(e) => error(&ApiError::bad_request(e.to_string())),
            }
        }
        (Method::DELETE, "faults") => {
            st.faults.clear();
            json(200, &json!({"cleared": true}))
        }
        (Method::POST, "watches/drop") => {
            drop(st);
            shared.drop_watches.send_modify(|n| *n += 1);
            json(200, &json!({"dropped": true}))
        }
        (Method::POST, "compact") => {
            st.store.compact();
            json(
                200,
                &json!({"compactedTo": st.store.current_rv().to_string()}),
            )
        }
        _ => error(&not_served()),
    }
}
