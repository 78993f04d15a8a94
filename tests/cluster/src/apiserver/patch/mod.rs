//! Patches: JSON merge (RFC 7386), JSON patch (RFC 6902), strategic merge, server-side apply.

pub mod apply;
pub mod fieldset;
pub mod listtypes;
pub mod managed;
pub mod strategic;

use serde_json::Value;

use super::http::status::ApiError;

/// The patch types, by Content-Type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PatchType {
    /// `application/merge-patch+json`.
    Merge,
    /// `application/json-patch+json`.
    Json,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (or `+cbor` would be refused).
    Apply,
}

impl PatchType {
    /// The patch type of a Content-Type header.
    pub fn of(content_type: &str) -> Option<Self> {
        let ct = content_type.split(';').next().unwrap_or("").trim();
        match ct {
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/json-patch+json" => Some(PatchType::Json),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" => Some(PatchType::Apply),
            _ => None,
        }
    }
}

/// RFC 7386 merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// RFC 6902 JSON patch with upstream's (evanphx/json-patch) semantics: a `test` of a missing
/// path against `null` passes (kube-runtime's finalizer patches rely on it). A failure is
/// upstream's 422 (a generic server response whose cause carries the patch library's
/// message).
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), ApiError> {
    let ops: json_patch::Patch = serde_json::from_value(patch.clone())
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    for (i, op) in ops.0.iter().enumerate() {
        if let json_patch::PatchOperation::Test(t) = op {
            if t.value.is_null() && target.pointer(t.path.as_str()).is_none() {
                continue;
            }
        }
        json_patch::patch(target, std::slice::from_ref(op)).map_err(|e| {
            let cause = match e.kind {
                json_patch::PatchErrorKind::TestFailed => {
                    format!("testing value {} failed: test failed", e.path)
                }
                _ => format!(
                    "{} operation does not apply: doc is missing path: {}: missing value",
                    op_name(&ops, i),
                    e.path
                ),
            };
            let mut err = ApiError::new(
                422,
                "Invalid",
                "the server rejected our request due to an error in our request",
            );
            err.details = Some(serde_json::json!({"causes": [{"reason": "UnexpectedServerResponse", "message": cause}]}));
            err
        })?;
    }
    Ok(())
}

fn op_name(ops: &json_patch::Patch, i: usize) -> &'static str {
    match ops.0.get(i) {
        Some(json_patch::PatchOperation::Add(_)) => "add",
        Some(json_patch::PatchOperation::Remove(_)) => "remove",
        Some(json_patch::PatchOperation::Replace(_)) => "replace",
        Some(json_patch::PatchOperation::Move(_)) => "move",
        Some(json_patch::PatchOperation::Copy(_)) => "copy",
        Some(json_patch::PatchOperation::Test(_)) => "test",
        None => "patch",
    }
}
