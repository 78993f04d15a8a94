//! Admission webhooks: Mutating then Validating WebhookConfigurations, called over HTTPS
//! with their caBundle (AdmissionReview v1), with rules, scope, namespaceSelector,
//! objectSelector, failurePolicy, timeoutSeconds and JSONPatch responses. Service
//! references resolve to 127.0.0.1 (every Service's clusterIP) at the Service's target port.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use crate::apiserver::handlers::pipeline::Write;
use crate::apiserver::http::status::ApiError;
use crate::apiserver::state::{Shared, State};
use crate::apiserver::store::selectors::LabelSelector;
use crate::apiserver::tls;

/// One webhook to call.
#[derive(Debug, Clone)]
pub struct Hook {
    name: String,
    mutating: bool,
    /// `(host to connect, port, TLS server name, path)`.
    target: (String, u16, String, String),
    ca: Vec<u8>,
    fail_closed: bool,
    timeout: Duration,
}

fn strs(v: &Value, k: &str) -> Vec<String> {
    v.get(k)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn rule_matches(rule: &Value, w: &Write, operation: &str) -> bool {
    let any = |list: Vec<String>, x: &str| list.iter().any(|v| v == "*" || v == x);
    let resource = if w.subresource.is_empty() {
        w.res.plural.clone()
    } else {
        format!("{}/{}", w.res.plural, w.subresource)
    };
    let resources = strs(rule, "resources");
    let res_ok = resources.iter().any(|r| {
        *r == resource
            || (r == "*" && w.subresource.is_empty())
            || (r == "*/*")
            || (!w.subresource.is_empty() && *r == format!("*/{}", w.subresource))
    });
    let scope = rule.get("scope").and_then(Value::as_str).unwrap_or("*");
    let scope_ok = scope == "*" || (scope == "Namespaced") == w.res.namespaced;
    any(strs(rule, "operations"), operation)
        && any(strs(rule, "apiGroups"), &w.res.group)
        && any(strs(rule, "apiVersions"), &w.version)
        && res_ok
        && scope_ok
}

fn target(st: &State, cfg: &Value) -> Option<(String, u16, String, String)> {
    if let Some(url) = cfg.get("url").and_then(Value::as_str) {
        let u = url::Url::parse(url).ok()?;
        let host = u.host_str()?.to_string();
        return Some((
            host.clone(),
            u.port().unwrap_or(443),
            host,
            u.path().to_string(),
        ));
    }
    let svc = cfg.get("service")?;
    let ns = svc.get("namespace")?.as_str()?;
    let name = svc.get("name")?.as_str()?;
    let port = svc.get("port").and_then(Value::as_u64).unwrap_or(443);
    let path = svc
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or("/")
        .to_string();
    // The Service's targetPort, when numeric, is where a local process listens.
    let object = st.store.get(&(String::new(), "services".into()), ns, name);
    let target_port = object
        .and_then(|s| s.pointer("/spec/ports").and_then(Value::as_array).cloned())
        .and_then(|ps| ps.into_iter().find(|p| p["port"].as_u64() == Some(port)))
        .and_then(|p| p["targetPort"].as_u64())
        .unwrap_or(port);
    Some((
        "127.0.0.1".into(),
        target_port as u16,
        format!("{name}.{ns}.svc"),
        path,
    ))
}

/// The webhooks that apply to a write, mutating first.
pub fn matching(st: &State, w: &Write, operation: &str, object: &Value) -> Vec<Hook> {
    let mut out = Vec::new();
    for (plural, mutating) in [
        ("mutatingwebhookconfigurations", true),
        ("validatingwebhookconfigurations", false),
    ] {
        let gr = (
            "admissionregistration.k8s.io".to_string(),
            plural.to_string(),
        );
        for cfg in st.store.list(&gr, None) {
            for hook in cfg
                .get("webhooks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let rules = hook
                    .get("rules")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if !rules.iter().any(|r| rule_matches(r, w, operation)) {
                    continue;
                }
                if let Some(sel) = hook
                    .get("namespaceSelector")
                    .filter(|s| s.as_object().is_some_and(|o| !o.is_empty()))
                {
                    let ns_obj = if w.res.plural == "namespaces" && w.res.group.is_empty() {
                        Some(object.clone())
                    } else {
                        st.store
                            .get(&(String::new(), "namespaces".into()), "", &w.namespace)
                            .cloned()
                    };
                    let scoped = w.res.namespaced || w.res.plural == "namespaces";
                    if scoped
                        && !ns_obj.is_some_and(|n| LabelSelector::from_object(sel).matches(&n))
                    {
                        continue;
                    }
                }
                if let Some(sel) = hook
                    .get("objectSelector")
                    .filter(|s| s.as_object().is_some_and(|o| !o.is_empty()))
                {
                    if !LabelSelector::from_object(sel).matches(object) {
                        continue;
                    }
                }
                let Some(cc) = hook.get("clientConfig") else {
                    continue;
                };
                let Some(target) = target(st, cc) else {
                    continue;
                };
                let ca = cc
                    .get("caBundle")
                    .and_then(Value::as_str)
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                    .unwrap_or_else(|| st.ca_pem.as_bytes().to_vec());
                out.push(Hook {
                    name: hook
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    mutating,
                    target,
                    ca,
                    fail_closed: hook.get("failurePolicy").and_then(Value::as_str)
                        != Some("Ignore"),
                    timeout: Duration::from_secs(
                        hook.get("timeoutSeconds")
                            .and_then(Value::as_u64)
                            .unwrap_or(10),
                    ),
                });
            }
        }
    }
    out
}

/// Calls the hooks in order; returns the object as mutated, or the refusal.
pub async fn admit(
    shared: &Arc<Shared>,
    hooks: &[Hook],
    w: &Write,
    operation: &str,
    old: Option<&Value>,
    mut object: Value,
) -> Result<Value, ApiError> {
    for hook in hooks {
        let uid = uuid::Uuid::new_v4().to_string();
        let (group, version) = (w.res.group.clone(), w.version.clone());
        let mut request = json!({
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": w.res.kind},
            "resource": {"group": group, "version": version, "resource": w.res.plural},
            "requestKind": {"group": group, "version": version, "kind": w.res.kind},
            "requestResource": {"group": group, "version": version, "resource": w.res.plural},
            "name": object.pointer("/metadata/name").cloned().unwrap_or(json!(w.name)),
            "operation": operation,
            "userInfo": {"username": w.user.name, "uid": w.user.uid, "groups": w.user.groups},
            "object": object,
            "oldObject": old.cloned().unwrap_or(Value::Null),
            "dryRun": w.dry_run,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": if operation == "CREATE" { "CreateOptions" } else { "UpdateOptions" }},
        });
        if !w.namespace.is_empty() {
            request["namespace"] = json!(w.namespace);
        }
        if !w.subresource.is_empty() {
            request["subResource"] = json!(w.subresource);
        }
        let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request});
        let answer = match tokio::time::timeout(hook.timeout, call(shared, hook, &review)).await {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => {
                if hook.fail_closed {
                    return Err(ApiError::internal(format!(
                        "failed calling webhook \"{}\": {e}",
                        hook.name
                    )));
                }
                tracing::warn!(webhook = %hook.name, error = %e, "webhook failed (failurePolicy Ignore)");
                continue;
            }
            Err(_) => {
                if hook.fail_closed {
                    return Err(ApiError::internal(format!(
                        "failed calling webhook \"{}\": context deadline exceeded",
                        hook.name
                    )));
                }
                continue;
            }
        };
        let resp = answer.get("response").cloned().unwrap_or(Value::Null);
        if resp.get("allowed").and_then(Value::as_bool) != Some(true) {
            let status = resp.get("status").cloned().unwrap_or(json!({}));
            let msg = status.get("message").and_then(Value::as_str).unwrap_or("");
            let denied = format!("admission webhook \"{}\" denied the request", hook.name);
            let message = if msg.is_empty() {
                format!("{denied} without explanation")
            } else {
                format!("{denied}: {msg}")
            };
            let code = status
                .get("code")
                .and_then(Value::as_u64)
                .filter(|c| *c >= 400)
                .unwrap_or(400) as u16;
            let reason = status.get("reason").and_then(Value::as_str).unwrap_or("");
            return Err(ApiError::new(code, reason, message));
        }
        if hook.mutating {
            if let Some(p) = resp.get("patch").and_then(Value::as_str) {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(p)
                    .map_err(|e| {
                        ApiError::internal(format!("webhook \"{}\" patch: {e}", hook.name))
                    })?;
                let patch: json_patch::Patch = serde_json::from_slice(&raw).map_err(|e| {
                    ApiError::internal(format!("webhook \"{}\" patch: {e}", hook.name))
                })?;
                json_patch::patch(&mut object, &patch).map_err(|e| {
                    ApiError::internal(format!("webhook \"{}\" patch: {e}", hook.name))
                })?;
            }
        }
    }
    Ok(object)
}

/// Why a webhook call failed.
#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Http(#[from] hyper::Error),
    #[error("{0}")]
    Other(String),
}

async fn call(shared: &Arc<Shared>, hook: &Hook, review: &Value) -> Result<Value, CallError> {
    let key = String::from_utf8_lossy(&hook.ca).into_owned();
    let cfg = {
        let mut cache = shared.webhook_tls.lock().unwrap_or_else(|p| p.into_inner());
        match cache.get(&key) {
            Some(c) => c.clone(),
            None => {
                let c = tls::client_config(&hook.ca)?;
                cache.insert(key, c.clone());
                c
            }
        }
    };
    let (host, port, server_name, path) = &hook.target;
    let tcp = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
    let name = rustls::pki_types::ServerName::try_from(server_name.clone())
        .map_err(|e| CallError::Other(e.to_string()))?;
    let stream = tokio_rustls::TlsConnector::from(cfg)
        .connect(name, tcp)
        .await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = hyper::Request::post(path.as_str())
        .header("Host", server_name.as_str())
        .header("Content-Type", "application/json")
        .body(Full::new(bytes::Bytes::from(review.to_string())))
        .map_err(|e| CallError::Other(e.to_string()))?;
    let resp = sender.send_request(req).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(CallError::Other(format!(
            "the server responded with the status code {}",
            status.as_u16()
        )));
    }
    serde_json::from_slice(&body)
        .map_err(|e| CallError::Other(format!("decoding AdmissionReview: {e}")))
}
