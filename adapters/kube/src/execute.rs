//! Sends [`Request`]s to the API server and classifies the answers.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::request::{Method, Request};

/// Sends `req`; returns the object the server answered with, `None` when the request's
/// goal already held (404 on a delete or a finalizer removal) or a read found nothing.
pub async fn send(client: &kube::Client, req: &Request) -> Result<Option<Value>> {
    let what = format!("{:?} {}", req.method, req.path);
    let body = if req.method == Method::Get {
        Vec::new()
    } else {
        serde_json::to_vec(&req.body).map_err(|e| Error::Serialization {
            what: what.clone(),
            message: e.to_string(),
        })?
    };
    let http_req = http::Request::builder()
        .method(req.method.to_http())
        .uri(&req.path)
        .header(http::header::CONTENT_TYPE, req.content_type)
        .header(http::header::ACCEPT, "application/json")
        .body(body)
        .map_err(|e| Error::Serialization {
            what: what.clone(),
            message: e.to_string(),
        })?;
    match client.request::<Value>(http_req).await {
        Ok(value) => Ok(Some(value)),
        Err(kube::Error::Api(status)) if status.code == 404 && req.not_found_is_done() => Ok(None),
        Err(err) => Err(Error::from_kube(what, err)),
    }
}
