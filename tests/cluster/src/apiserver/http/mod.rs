//! The HTTP layer: TLS listener, request parsing, responses.

pub mod protobuf;
pub mod request;
pub mod server;
pub mod status;

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::Response;
use serde_json::Value;

use status::ApiError;

/// Response body type (full or streamed).
pub type Body = BoxBody<Bytes, Infallible>;

/// A JSON response.
pub fn json(code: u16, v: &Value) -> Response<Body> {
    json_with(code, v, &[])
}

/// A JSON response with `Warning` headers.
pub fn json_with(code: u16, v: &Value, warnings: &[String]) -> Response<Body> {
    let mut b = Response::builder()
        .status(code)
        .header("Content-Type", "application/json");
    for w in warnings {
        b = b.header("Warning", format!("299 - {:?}", w));
    }
    b.body(Full::new(Bytes::from(v.to_string())).boxed())
        .unwrap_or_else(|_| Response::new(empty()))
}

/// A text response.
pub fn text(code: u16, t: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(Full::new(t.into()).boxed())
        .unwrap_or_else(|_| Response::new(empty()))
}

/// The `Status` response of an error.
pub fn error(e: &ApiError) -> Response<Body> {
    let mut r = json(e.code, &e.body());
    if e.code == 429 || e.code == 503 {
        if let Ok(v) = "1".parse() {
            r.headers_mut().insert("Retry-After", v);
        }
    }
    r
}

/// An empty body.
pub fn empty() -> Body {
    Full::new(Bytes::new()).boxed()
}
