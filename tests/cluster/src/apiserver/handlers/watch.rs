//! Watches: chunked JSON lines of `{"type","object"}`; replay from the event log after a
//! resourceVersion (410 Expired when it is older than the log), synthetic ADDED for "" / "0",
//! `sendInitialEvents` with the `k8s.io/initial-events-end` bookmark, periodic BOOKMARKs,
//! `timeoutSeconds`, selectors (an object leaving a selector is DELETED), fault-injected drops.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::Response;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use super::present;
use super::read::selectors;
use crate::apiserver::faults::Hit;
use crate::apiserver::http::request::{Ctx, ResourcePath};
use crate::apiserver::http::status::ApiError;
use crate::apiserver::http::Body;
use crate::apiserver::registry::Resource;
use crate::apiserver::state::Shared;
use crate::apiserver::store::selectors::{FieldSelector, LabelSelector};
use crate::apiserver::store::{Event, EventType};
use crate::apiserver::table;

struct Filter {
    namespace: String,
    name: String,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, obj: &Value) -> bool {
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        (self.namespace.is_empty() || self.namespace == ns)
            && (self.name.is_empty() || self.name == name)
            && self.labels.matches(obj)
            && self.fields.matches(obj)
    }
}

fn expired_event(message: String) -> Value {
    json!({"type": "ERROR", "object": ApiError::expired(message).body()})
}

/// Serves a watch request.
pub async fn serve(
    shared: Arc<Shared>,
    ctx: Ctx,
    res: Arc<Resource>,
    rp: ResourcePath,
    hit: Hit,
) -> Result<Response<Body>, ApiError> {
    let (labels, fields) = selectors(&ctx, &res)?;
    let filter = Filter {
        namespace: rp.namespace.clone(),
        name: rp.name.clone(),
        labels,
        fields,
    };
    let gr = res.gr();
    let send_initial = ctx.q("sendInitialEvents") == Some("true");
    let bookmarks = ctx.flag("allowWatchBookmarks");
    if send_initial && (!bookmarks || ctx.q("resourceVersionMatch") != Some("NotOlderThan")) {
        return Err(ApiError::invalid("ListOptions", "meta.k8s.io", "", vec![crate::apiserver::http::status::Cause::new(
            "FieldValueForbidden",
            "sendInitialEvents",
            "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled and resourceVersionMatch is NotOlderThan and allowWatchBookmarks is true",
        )]));
    }
    let timeout = ctx
        .q("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let table_mode = ctx.wants_table();
    let metadata_mode = super::wants_metadata(&ctx);
    let rv_param = ctx.q("resourceVersion").unwrap_or("").to_string();
    let mut initial: Vec<Value> = Vec::new();
    let mut drop_watches = shared.drop_watches.subscribe();
    let (mut rx, start_rv, end_now) = {
        let st = shared.lock();
        let current = st.store.current_rv();
        let added = |initial: &mut Vec<Value>| {
            for o in st.store.list(
                &gr,
                if rp.namespace.is_empty() {
                    None
                } else {
                    Some(&rp.namespace)
                },
            ) {
                if filter.matches(o) {
                    initial.push(json!({"type": "ADDED", "object": present(o, &res, &rp.version)}));
                }
            }
        };
        if hit.gone410 {
            initial.push(expired_event(format!(
                "too old resource version: {rv_param} ({current})"
            )));
            (st.store.subscribe(), current, true)
        } else if rv_param.is_empty() || rv_param == "0" || send_initial {
            added(&mut initial);
            if send_initial {
                initial.push(json!({"type": "BOOKMARK", "object": {
                    "kind": res.kind, "apiVersion": res.api_version(&rp.version),
                    "metadata": {"resourceVersion": current.to_string(), "annotations": {"k8s.io/initial-events-end": "true"}}
                }}));
            }
            (st.store.subscribe(), current, false)
        } else {
            let rv: u64 = rv_param.parse().map_err(|_| {
                ApiError::bad_request(format!("resourceVersion: Invalid value: {rv_param:?}: must be a valid resource version"))
            })?;
            match st.store.watch_from(&gr, rv) {
                Ok((past, rx)) => {
                    for e in past {
                        if let Some(line) = event_line(&e, &filter, &res, &rp.version) {
                            initial.push(line);
                        }
                    }
                    (rx, current.max(rv), false)
                }
                Err(oldest) => {
                    initial.push(expired_event(format!(
                        "too old resource version: {rv} ({oldest})"
                    )));
                    (st.store.subscribe(), current, true)
                }
            }
        }
    };
    let end_now = end_now || hit.drop_watch;
    let (tx, out) = mpsc::channel::<Bytes>(256);
    let res2 = res.clone();
    let version = rp.version.clone();
    let bookmark_every = Duration::from_secs(shared.bookmark_secs.max(1));
    tokio::spawn(async move {
        let encode = |v: &Value| -> Bytes {
            let v = if metadata_mode
                && v["object"].get("kind") != Some(&json!("Status"))
                && v["type"] != "BOOKMARK"
            {
                json!({"type": v["type"], "object": super::partial(&v["object"])})
            } else if table_mode {
                as_table(v, &res2, &version)
            } else {
                v.clone()
            };
            let mut s = v.to_string();
            s.push('\n');
            Bytes::from(s)
        };
        for line in &initial {
            if tx.send(encode(line)).await.is_err() {
                return;
            }
        }
        if end_now {
            return;
        }
        let mut seen = start_rv;
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(bookmark_every);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = drop_watches.changed() => return,
                _ = tick.tick(), if bookmarks => {
                    let b = json!({"type": "BOOKMARK", "object": {
                        "kind": res2.kind, "apiVersion": res2.api_version(&version),
                        "metadata": {"resourceVersion": seen.to_string()}
                    }});
                    if tx.send(encode(&b)).await.is_err() { return; }
                }
                ev = rx.recv() => match ev {
                    Ok(e) => {
                        if e.rv <= seen { continue; }
                        seen = e.rv;
                        if e.gr != gr { continue; }
                        if let Some(line) = event_line(&e, &filter, &res2, &version) {
                            if tx.send(encode(&line)).await.is_err() { return; }
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = tx.send(encode(&expired_event(format!("too old resource version: {seen} (lagging watcher)")))).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    });
    let stream = futures::stream::unfold(out, |mut out| async move {
        out.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(Frame::data(b)), out))
    });
    let body = StreamBody::new(stream).boxed();
    Response::builder()
        .status(200)
        .header("Content-Type", "application/json")
        .header("Cache-Control", "no-cache, private")
        .body(body)
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// The watch line of a stored event for this watcher (None when filtered out).
fn event_line(e: &Event, f: &Filter, res: &Resource, version: &str) -> Option<Value> {
    let now = f.matches(&e.object);
    let before = e.old.as_ref().is_some_and(|o| f.matches(o));
    let kind = match e.kind {
        EventType::Added if now => EventType::Added,
        EventType::Deleted if now => EventType::Deleted,
        EventType::Modified if now && before => EventType::Modified,
        EventType::Modified if now => EventType::Added,
        EventType::Modified if before => EventType::Deleted,
        _ => return None,
    };
    Some(json!({"type": kind.as_str(), "object": present(&e.object, res, version)}))
}

fn as_table(line: &Value, res: &Resource, version: &str) -> Value {
    let t = line["type"].as_str().unwrap_or("");
    if t == "ERROR" || t == "BOOKMARK" {
        return line.clone();
    }
    let obj = &line["object"];
    let rv = obj
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    json!({"type": t, "object": table::table(res, version, std::slice::from_ref(obj), rv, "")})
}
