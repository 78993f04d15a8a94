//! The OwnerReferencesPermissionEnforcement admission plugin: changing ownerReferences needs
//! `delete` on the object; a new `blockOwnerDeletion: true` needs `update` on
//! `<owner resource>/finalizers`.

use serde_json::Value;

use crate::apiserver::auth::rbac::{self, Attributes};
use crate::apiserver::handlers::pipeline::Write;
use crate::apiserver::http::status::ApiError;
use crate::apiserver::state::State;

fn refs(v: Option<&Value>) -> Vec<Value> {
    v.and_then(|o| o.pointer("/metadata/ownerReferences"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Checks the write; Err(403) as upstream when refused.
pub fn check(st: &State, w: &Write, old: Option<&Value>, new: &Value) -> Result<(), ApiError> {
    if !st.owner_references_enforcement || w.user.is_master() || w.subresource == "status" {
        return Ok(());
    }
    let before = refs(old);
    let after = refs(Some(new));
    if before == after {
        return Ok(());
    }
    let name = new
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let subject = w.subject(&name);
    if old.is_some() {
        let a = Attributes {
            verb: "delete".into(),
            group: w.res.group.clone(),
            resource: w.res.plural.clone(),
            name: name.clone(),
            namespace: w.namespace.clone(),
            ..Default::default()
        };
        if !rbac::allowed(&st.store, &w.user, &a) {
            return Err(ApiError::forbidden(
                &subject,
                &format!(
                    "cannot set an ownerRef on a resource you can't delete: {}, <nil>",
                    rbac::reason(&w.user, &a)
                ),
            ));
        }
    }
    let blocking = |r: &Value| r.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true);
    for r in after.iter().filter(|r| blocking(r)) {
        let uid = r.get("uid");
        if before.iter().any(|b| b.get("uid") == uid && blocking(b)) {
            continue;
        }
        let api_version = r.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = r.get("kind").and_then(Value::as_str).unwrap_or("");
        let Some(owner) = st.registry.by_kind(api_version, kind) else {
            return Err(ApiError::forbidden(&subject, &format!(
                "cannot set blockOwnerDeletion in this case because cannot find RESTMapping for APIVersion {api_version} Kind {kind}: no matches for kind \"{kind}\" in version \"{api_version}\""
            )));
        };
        let a = Attributes {
            verb: "update".into(),
            group: owner.group.clone(),
            resource: owner.plural.clone(),
            subresource: "finalizers".into(),
            name: r
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            namespace: if owner.namespaced {
                w.namespace.clone()
            } else {
                String::new()
            },
            path: None,
        };
        if !rbac::allowed(&st.store, &w.user, &a) {
            return Err(ApiError::forbidden(&subject, &format!(
                "cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on: {}, <nil>",
                rbac::reason(&w.user, &a)
            )));
        }
    }
    Ok(())
}
