//! RBAC authorization against the Roles, ClusterRoles and bindings actually stored.

use serde_json::Value;

use super::User;
use crate::apiserver::http::status::{ApiError, Subject};
use crate::apiserver::store::Store;

/// What a request does, as the authorizer sees it.
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, `bind`...
    pub verb: String,
    /// API group.
    pub group: String,
    /// Resource plural.
    pub resource: String,
    /// Subresource ("" for none).
    pub subresource: String,
    /// Object name ("" for lists and creates).
    pub name: String,
    /// Namespace ("" for cluster scope).
    pub namespace: String,
    /// A non-resource request's path (`/version`); None for resource requests.
    pub path: Option<String>,
}

impl Attributes {
    fn full_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
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

fn rule_allows(rule: &Value, a: &Attributes) -> bool {
    let verbs = strs(rule, "verbs");
    if !verbs.iter().any(|v| v == "*" || *v == a.verb) {
        return false;
    }
    if let Some(path) = &a.path {
        return strs(rule, "nonResourceURLs").iter().any(|u| {
            u == "*"
                || u == path
                || u.strip_suffix('*')
                    .is_some_and(|prefix| path.starts_with(prefix))
        });
    }
    if !strs(rule, "apiGroups")
        .iter()
        .any(|g| g == "*" || *g == a.group)
    {
        return false;
    }
    let full = a.full_resource();
    let resources = strs(rule, "resources");
    let res_ok = resources.iter().any(|r| {
        r == "*"
            || *r == full
            || (!a.subresource.is_empty() && *r == format!("*/{}", a.subresource))
            || (!a.subresource.is_empty() && *r == format!("{}/*", a.resource))
    });
    if !res_ok {
        return false;
    }
    let names = strs(rule, "resourceNames");
    names.is_empty() || (!a.name.is_empty() && names.contains(&a.name))
}

fn subject_matches(s: &Value, user: &User, binding_ns: &str) -> bool {
    let name = s.get("name").and_then(Value::as_str).unwrap_or("");
    match s.get("kind").and_then(Value::as_str) {
        Some("User") => name == user.name,
        Some("Group") => user.groups.iter().any(|g| g == name),
        Some("ServiceAccount") => {
            let ns = s
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or(binding_ns);
            user.name == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

/// The rules of a binding's roleRef.
fn role_rules<'a>(store: &'a Store, role_ref: &Value, binding_ns: &str) -> Vec<&'a Value> {
    let gr = |p: &str| ("rbac.authorization.k8s.io".to_string(), p.to_string());
    let name = role_ref.get("name").and_then(Value::as_str).unwrap_or("");
    let role = match role_ref.get("kind").and_then(Value::as_str) {
        Some("ClusterRole") => store.get(&gr("clusterroles"), "", name),
        Some("Role") => store.get(&gr("roles"), binding_ns, name),
        _ => None,
    };
    role.and_then(|r| r.get("rules"))
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// Every rule that applies to `user` in `namespace` ("" = cluster-wide rules only).
pub fn rules_for<'a>(store: &'a Store, user: &User, namespace: &str) -> Vec<&'a Value> {
    let gr = |p: &str| ("rbac.authorization.k8s.io".to_string(), p.to_string());
    let mut out = Vec::new();
    for b in store.list(&gr("clusterrolebindings"), None) {
        if b["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| subject_matches(s, user, ""))
        {
            out.extend(role_rules(store, &b["roleRef"], ""));
        }
    }
    if !namespace.is_empty() {
        for b in store.list(&gr("rolebindings"), Some(namespace)) {
            if b["subjects"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| subject_matches(s, user, namespace))
            {
                out.extend(role_rules(store, &b["roleRef"], namespace));
            }
        }
    }
    out
}

/// Is the request allowed?
pub fn allowed(store: &Store, user: &User, a: &Attributes) -> bool {
    user.is_master()
        || rules_for(store, user, &a.namespace)
            .iter()
            .any(|r| rule_allows(r, a))
}

/// The 403 upstream answers, e.g. `secrets "x" is forbidden: User "u" cannot get resource
/// "secrets" in API group "" in the namespace "ns"`.
pub fn forbidden(user: &User, a: &Attributes) -> ApiError {
    if let Some(path) = &a.path {
        return ApiError::new(
            403,
            "Forbidden",
            format!(
                "forbidden: User \"{}\" cannot {} path \"{path}\"",
                user.name, a.verb
            ),
        );
    }
    ApiError::forbidden(
        &Subject::new(&a.group, &a.resource, &a.name),
        &reason(user, a),
    )
}

/// `User "u" cannot get resource "secrets" in API group "" in the namespace "ns"`.
pub fn reason(user: &User, a: &Attributes) -> String {
    let scope = if a.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{}\"", a.namespace)
    };
    format!(
        "User \"{}\" cannot {} resource \"{}\" in API group \"{}\" {scope}",
        user.name,
        a.verb,
        a.full_resource(),
        a.group
    )
}

/// Does `user` hold every permission of `rules` in `namespace` (escalation check)?
pub fn covers(store: &Store, user: &User, namespace: &str, rules: &[Value]) -> bool {
    if user.is_master() {
        return true;
    }
    for rule in rules {
        let names = strs(rule, "resourceNames");
        let names = if names.is_empty() {
            vec![String::new()]
        } else {
            names
        };
        if !strs(rule, "nonResourceURLs").is_empty() {
            for verb in strs(rule, "verbs") {
                for url in strs(rule, "nonResourceURLs") {
                    let a = Attributes {
                        verb: verb.clone(),
                        path: Some(url),
                        ..Default::default()
                    };
                    if !allowed(store, user, &a) {
                        return false;
                    }
                }
            }
            continue;
        }
        for verb in strs(rule, "verbs") {
            for group in strs(rule, "apiGroups") {
                for res in strs(rule, "resources") {
                    let (resource, sub) = res.split_once('/').unwrap_or((&res, ""));
                    for name in &names {
                        let a = Attributes {
                            verb: verb.clone(),
                            group: group.clone(),
                            resource: resource.into(),
                            subresource: sub.into(),
                            name: name.clone(),
                            namespace: namespace.into(),
                            path: None,
                        };
                        if !allowed(store, user, &a) {
                            return false;
                        }
                    }
                }
            }
        }
    }
    true
}
