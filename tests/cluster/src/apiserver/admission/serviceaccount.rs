//! The ServiceAccount admission plugin's check: a pod's ServiceAccount must exist.

use serde_json::Value;

use crate::apiserver::handlers::pipeline::Write;
use crate::apiserver::http::status::ApiError;
use crate::apiserver::state::State;

/// Refuses a new pod whose ServiceAccount is missing (403, as upstream).
pub fn check(st: &State, w: &Write, old: Option<&Value>, new: &Value) -> Result<(), ApiError> {
    if old.is_some() || !w.res.group.is_empty() || w.res.kind != "Pod" {
        return Ok(());
    }
    let sa = new
        .pointer("/spec/serviceAccountName")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let gr = (String::new(), "serviceaccounts".to_string());
    if st.store.get(&gr, &w.namespace, sa).is_some() {
        return Ok(());
    }
    let name = new
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    Err(ApiError::forbidden(
        &w.subject(name),
        &format!(
            "error looking up service account {}/{sa}: serviceaccount \"{sa}\" not found",
            w.namespace
        ),
    ))
}
