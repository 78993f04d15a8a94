//! RBAC escalation prevention: a (Cluster)Role may only grant what its writer holds, and a
//! binding needs `bind` on its role or every permission the role grants.

use serde_json::Value;

use crate::apiserver::auth::rbac::{self, Attributes};
use crate::apiserver::handlers::pipeline::Write;
use crate::apiserver::http::status::ApiError;
use crate::apiserver::state::State;

/// Checks writes of roles and bindings (403 as upstream when they would escalate).
pub fn check(st: &State, w: &Write, new: &Value) -> Result<(), ApiError> {
    if w.user.is_master() || w.res.group != "rbac.authorization.k8s.io" {
        return Ok(());
    }
    let name = new
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let rbac_gr = |p: &str| ("rbac.authorization.k8s.io".to_string(), p.to_string());
    let (rules, role_kind, role_name) = match w.res.plural.as_str() {
        "roles" | "clusterroles" => {
            let rules = new
                .get("rules")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            (rules, String::new(), String::new())
        }
        "rolebindings" | "clusterrolebindings" => {
            let kind = new
                .pointer("/roleRef/kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let rname = new
                .pointer("/roleRef/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let role = match kind.as_str() {
                "ClusterRole" => st.store.get(&rbac_gr("clusterroles"), "", &rname),
                _ => st.store.get(&rbac_gr("roles"), &w.namespace, &rname),
            };
            let rules = role
                .and_then(|r| r.get("rules"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            (rules, kind, rname)
        }
        _ => return Ok(()),
    };
    if !role_kind.is_empty() {
        let bind = Attributes {
            verb: "bind".into(),
            group: "rbac.authorization.k8s.io".into(),
            resource: if role_kind == "ClusterRole" {
                "clusterroles".into()
            } else {
                "roles".into()
            },
            name: role_name.clone(),
            namespace: w.namespace.clone(),
            ..Default::default()
        };
        if rbac::allowed(&st.store, &w.user, &bind) {
            return Ok(());
        }
    } else {
        let escalate = Attributes {
            verb: "escalate".into(),
            group: "rbac.authorization.k8s.io".into(),
            resource: w.res.plural.clone(),
            name: name.clone(),
            namespace: w.namespace.clone(),
            ..Default::default()
        };
        if rbac::allowed(&st.store, &w.user, &escalate) {
            return Ok(());
        }
    }
    if rbac::covers(&st.store, &w.user, &w.namespace, &rules) {
        return Ok(());
    }
    let what = if role_kind.is_empty() {
        format!(
            "user {:?} (groups={:?}) is attempting to grant RBAC permissions not currently held",
            w.user.name, w.user.groups
        )
    } else {
        format!(
            "user {:?} (groups={:?}) is attempting to grant RBAC permissions not currently held (roleRef {role_kind}/{role_name}; no bind permission)",
            w.user.name, w.user.groups
        )
    };
    Err(ApiError::forbidden(&w.subject(&name), &what))
}
