//! `meta/v1 Status` failures, shaped like the real API server's.

use serde_json::{json, Value};

/// An API error answered as a `Status` body with its HTTP code.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `StatusReason` (`NotFound`, `Conflict`, ...).
    pub reason: String,
    /// Human message.
    pub message: String,
    /// `details` (name, group, kind, causes, retryAfterSeconds).
    pub details: Option<Value>,
}

/// What an error is about: used for the `details` and the `<resource>.<group> "name"` prefix.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// API group ("" for core).
    pub group: String,
    /// Resource plural (`details.kind` is the plural for most errors, as upstream).
    pub resource: String,
    /// Object name, if any.
    pub name: String,
}

impl Subject {
    /// A subject for `group`/`resource` and `name`.
    pub fn new(group: &str, resource: &str, name: &str) -> Self {
        Subject {
            group: group.into(),
            resource: resource.into(),
            name: name.into(),
        }
    }

    /// `resource.group` (or `resource` for the core group).
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    fn details(&self) -> Value {
        let mut d = json!({});
        if !self.name.is_empty() {
            d["name"] = json!(self.name);
        }
        if !self.group.is_empty() {
            d["group"] = json!(self.group);
        }
        if !self.resource.is_empty() {
            d["kind"] = json!(self.resource);
        }
        d
    }
}

impl ApiError {
    /// An error with no details.
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason: reason.into(),
            message: message.into(),
            details: None,
        }
    }

    /// 404 `<resource>.<group> "name" not found`.
    pub fn not_found(s: &Subject) -> Self {
        let mut e = Self::new(
            404,
            "NotFound",
            format!("{} \"{}\" not found", s.group_resource(), s.name),
        );
        e.details = Some(s.details());
        e
    }

    /// 409 `<resource>.<group> "name" already exists`.
    pub fn already_exists(s: &Subject) -> Self {
        let mut e = Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{}\" already exists", s.group_resource(), s.name),
        );
        e.details = Some(s.details());
        e
    }

    /// 409 stale resourceVersion (optimistic concurrency).
    pub fn conflict(s: &Subject, why: &str) -> Self {
        let mut e = Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{}\": {why}",
                s.group_resource(),
                s.name
            ),
        );
        e.details = Some(s.details());
        e
    }

    /// 409 for a stale resourceVersion.
    pub fn stale(s: &Subject) -> Self {
        Self::conflict(s, "the object has been modified; please apply your changes to the latest version and try again")
    }

    /// 422 Invalid with field causes; `kind` is e.g. `BackupStorage.storage.kubestash.com`
    /// in the message and `details.kind` is the bare kind.
    pub fn invalid(kind: &str, group: &str, name: &str, causes: Vec<Cause>) -> Self {
        let qualified = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let list: Vec<String> = causes.iter().map(Cause::text).collect();
        let joined = if list.len() == 1 {
            list[0].clone()
        } else {
            format!("[{}]", list.join(", "))
        };
        let mut d = json!({"name": name, "kind": kind});
        if !group.is_empty() {
            d["group"] = json!(group);
        }
        d["causes"] = Value::Array(
            causes
                .iter()
                .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                .collect(),
        );
        let mut e = Self::new(
            422,
            "Invalid",
            format!("{qualified} \"{name}\" is invalid: {joined}"),
        );
        e.details = Some(d);
        e
    }

    /// 403 Forbidden; `what` is the reason after `is forbidden: `.
    pub fn forbidden(s: &Subject, what: &str) -> Self {
        let prefix = if s.name.is_empty() {
            s.group_resource()
        } else {
            format!("{} \"{}\"", s.group_resource(), s.name)
        };
        let mut e = Self::new(403, "Forbidden", format!("{prefix} is forbidden: {what}"));
        e.details = Some(s.details());
        e
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> Self {
        let m = message.into();
        let mut e = Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {m}"),
        );
        e.details = Some(json!({"causes": [{"message": m}]}));
        e
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    /// 415 for an unsupported patch or body type.
    pub fn unsupported_media(ct: &str, accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                if accepted.is_empty() { ct.to_string() } else { accepted.join(", ") }
            ),
        )
    }

    /// 410 Gone/Expired (too old resource version).
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// The `Status` body.
    pub fn body(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            v["details"] = d.clone();
        }
        if self.reason.is_empty() {
            v.as_object_mut().map(|o| o.remove("reason"));
        }
        v
    }
}

/// One field cause of a 422.
#[derive(Debug, Clone)]
pub struct Cause {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, `FieldValueForbidden`...
    pub reason: &'static str,
    /// The message after the field (`Required value`, `Invalid value: ...`).
    pub message: String,
    /// The field path (`spec.schedule`).
    pub field: String,
}

impl Cause {
    /// A cause.
    pub fn new(reason: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Cause {
            reason,
            field: field.into(),
            message: message.into(),
        }
    }

    /// `Required value`.
    pub fn required(field: impl Into<String>) -> Self {
        Self::new("FieldValueRequired", field, "Required value")
    }

    /// `Invalid value: <v>: <why>`.
    pub fn invalid(field: impl Into<String>, value: &Value, why: &str) -> Self {
        Self::new(
            "FieldValueInvalid",
            field,
            format!("Invalid value: {}: {why}", show(value)),
        )
    }

    fn text(&self) -> String {
        format!("{}: {}", self.field, self.message)
    }
}

/// A value as upstream prints it in field errors (strings quoted, numbers bare).
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// A successful `Status` (deletions).
pub fn success(details: Value) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}
