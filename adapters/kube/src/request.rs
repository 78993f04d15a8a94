//! HTTP requests against the API server, as plain data: what [`crate::translate`]
//! produces, what [`crate::execute`] sends, what tests snapshot and what the RBAC test
//! checks against `deploy/rbac`.

use serde::Serialize;
use serde_json::Value;

use crate::resource::Resource;

/// Field manager of the operator's writes (objects it owns and their status).
pub const FIELD_MANAGER: &str = "cairn";
/// Field manager of the executor's writes: the `status.components` it reports. A manager
/// of its own, so the operator's status writes never take those fields away or race them.
pub const EXECUTOR_FIELD_MANAGER: &str = "cairn-executor";
/// Field manager of `cairn trigger` (the BackupSession of a schedule slot).
pub const TRIGGER_FIELD_MANAGER: &str = "cairn-trigger";
/// Content type of a server-side apply.
pub const APPLY_PATCH: &str = "application/apply-patch+yaml";
/// Content type of a JSON merge patch.
pub const MERGE_PATCH: &str = "application/merge-patch+json";
/// Content type of a JSON patch.
pub const JSON_PATCH: &str = "application/json-patch+json";
/// Content type of a plain JSON body.
pub const JSON: &str = "application/json";

/// HTTP method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Method {
    /// POST (create).
    #[serde(rename = "POST")]
    Post,
    /// PATCH (apply, merge or JSON patch).
    #[serde(rename = "PATCH")]
    Patch,
    /// DELETE.
    #[serde(rename = "DELETE")]
    Delete,
    /// GET (the executor's reads).
    #[serde(rename = "GET")]
    Get,
}

impl Method {
    /// The `http` crate's method.
    pub fn to_http(self) -> http::Method {
        match self {
            Method::Post => http::Method::POST,
            Method::Patch => http::Method::PATCH,
            Method::Delete => http::Method::DELETE,
            Method::Get => http::Method::GET,
        }
    }
}

/// An RBAC permission a request needs: verb on `group`/`resource[/subresource]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Access {
    /// API group ("" for core).
    pub group: String,
    /// Resource, with `/subresource` when there is one.
    pub resource: String,
    /// RBAC verb.
    pub verb: String,
}

impl Access {
    /// `verb` on `resource` (optionally a subresource).
    pub fn new(res: &Resource, subresource: Option<&str>, verb: &str) -> Self {
        Self {
            group: res.group.to_owned(),
            resource: match subresource {
                Some(sub) => format!("{}/{sub}", res.plural),
                None => res.plural.to_owned(),
            },
            verb: verb.to_owned(),
        }
    }
}

/// One request to the API server.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Path and query.
    pub path: String,
    /// Content type of the body.
    #[serde(rename = "contentType")]
    pub content_type: &'static str,
    /// Body.
    pub body: Value,
    /// What RBAC must grant for this request.
    #[serde(skip)]
    pub access: Vec<Access>,
}

impl Request {
    /// Server-side apply of `body` (field manager `cairn`, forced: the operator owns
    /// the fields it writes). Creates the object if absent, hence `create` and `patch`.
    pub fn apply(res: &Resource, namespace: &str, name: &str, body: Value) -> Self {
        Self {
            method: Method::Patch,
            path: format!(
                "{}?fieldManager={FIELD_MANAGER}&force=true",
                res.object_path(namespace, name)
            ),
            content_type: APPLY_PATCH,
            body,
            access: vec![
                Access::new(res, None, "create"),
                Access::new(res, None, "patch"),
            ],
        }
    }

    /// Server-side apply of `status` on the status subresource, as `manager`. The status
    /// sent is the whole of what `manager` wants to own: a field it owned and no longer
    /// sends is removed (RFC 7386 merge patches cannot clear fields of structs that skip
    /// empty values), and fields other managers own are left alone. Forced: the fields
    /// are the writer's own.
    pub fn apply_status(
        res: &Resource,
        namespace: &str,
        name: &str,
        status: Value,
        manager: &str,
    ) -> Self {
        let api_version = if res.group.is_empty() {
            res.version.to_owned()
        } else {
            format!("{}/{}", res.group, res.version)
        };
        let mut metadata = serde_json::json!({ "name": name });
        if res.namespaced {
            metadata["namespace"] = Value::from(namespace);
        }
        Self {
            method: Method::Patch,
            path: format!(
                "{}/status?fieldManager={manager}&force=true",
                res.object_path(namespace, name)
            ),
            content_type: APPLY_PATCH,
            body: serde_json::json!({
                "apiVersion": api_version,
                "kind": res.kind,
                "metadata": metadata,
                "status": status,
            }),
            access: vec![Access::new(res, Some("status"), "patch")],
        }
    }

    /// JSON patch of the object (finalizers), guarded by `test` operations.
    pub fn json_patch(res: &Resource, namespace: &str, name: &str, ops: Value) -> Self {
        Self {
            method: Method::Patch,
            path: res.object_path(namespace, name),
            content_type: JSON_PATCH,
            body: ops,
            access: vec![Access::new(res, None, "patch")],
        }
    }

    /// Deletion with background propagation of dependents.
    pub fn delete(res: &Resource, namespace: &str, name: &str) -> Self {
        Self {
            method: Method::Delete,
            path: res.object_path(namespace, name),
            content_type: JSON,
            body: serde_json::json!({
                "apiVersion": "v1",
                "kind": "DeleteOptions",
                "propagationPolicy": "Background",
            }),
            access: vec![Access::new(res, None, "delete")],
        }
    }

    /// Creation of `body` in `namespace`.
    pub fn create(res: &Resource, namespace: &str, body: Value) -> Self {
        Self {
            method: Method::Post,
            path: res.collection_path(namespace),
            content_type: JSON,
            body,
            access: vec![Access::new(res, None, "create")],
        }
    }

    /// Read of the object `name` in `namespace`.
    pub fn get(res: &Resource, namespace: &str, name: &str) -> Self {
        Self {
            method: Method::Get,
            path: res.object_path(namespace, name),
            content_type: JSON,
            body: Value::Null,
            access: vec![Access::new(res, None, "get")],
        }
    }

    /// Whether a 404 answer means the request's goal holds already (delete, finalizer
    /// removal on an object that is gone) or, for a read, that the object is absent.
    pub fn not_found_is_done(&self) -> bool {
        self.method == Method::Delete
            || self.method == Method::Get
            || (self.content_type == JSON_PATCH && self.body.to_string().contains("\"remove\""))
    }
}
