//! Objects a fresh cluster has: system namespaces, the bootstrap RBAC roles/bindings, and per
//! namespace the `default` ServiceAccount and `kube-root-ca.crt` ConfigMap (which upstream's
//! controllers create).

use serde_json::{json, Value};

use super::state::State;

fn rbac(st: &mut State, plural: &str, obj: Value) {
    let gr = ("rbac.authorization.k8s.io".to_string(), plural.to_string());
    st.store.put(&gr, obj);
}

fn meta(name: &str, now: &str) -> Value {
    json!({
        "name": name,
        "uid": uuid::Uuid::new_v4().to_string(),
        "creationTimestamp": now,
        "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}
    })
}

/// Creates the system namespaces and the bootstrap RBAC policy.
pub fn cluster(st: &mut State, ca_pem: &str, now: &str) {
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let obj = json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": ns,
                "uid": uuid::Uuid::new_v4().to_string(),
                "creationTimestamp": now,
                "labels": {"kubernetes.io/metadata.name": ns}
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}
        });
        let stored = st.store.put(&(String::new(), "namespaces".into()), obj);
        namespace_contents_with(st, &stored, ca_pem, now);
    }
    let role = |name: &str, rules: Value| json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta(name, now), "rules": rules});
    let binding = |name: &str, group: &str| {
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": meta(name, now),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]
        })
    };
    rbac(
        st,
        "clusterroles",
        role(
            "cluster-admin",
            json!([
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]}
            ]),
        ),
    );
    rbac(
        st,
        "clusterroles",
        role(
            "system:discovery",
            json!([
                {"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], "verbs": ["get"]}
            ]),
        ),
    );
    rbac(
        st,
        "clusterroles",
        role(
            "system:basic-user",
            json!([
                {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]},
                {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]}
            ]),
        ),
    );
    rbac(
        st,
        "clusterroles",
        role(
            "system:public-info-viewer",
            json!([
                {"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"], "verbs": ["get"]}
            ]),
        ),
    );
    rbac(
        st,
        "clusterrolebindings",
        binding("cluster-admin", "system:masters"),
    );
    rbac(
        st,
        "clusterrolebindings",
        binding("system:discovery", "system:authenticated"),
    );
    rbac(
        st,
        "clusterrolebindings",
        binding("system:basic-user", "system:authenticated"),
    );
    rbac(
        st,
        "clusterrolebindings",
        binding("system:public-info-viewer", "system:authenticated"),
    );
}

/// The `default` ServiceAccount and `kube-root-ca.crt` of a new namespace.
pub fn namespace_contents(st: &mut State, ns: &Value, now: &str) {
    let ca = st.ca_pem.clone();
    namespace_contents_with(st, ns, &ca, now);
}

fn namespace_contents_with(st: &mut State, ns: &Value, ca_pem: &str, now: &str) {
    let name = ns
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let sa_gr = (String::new(), "serviceaccounts".to_string());
    if st.store.get(&sa_gr, &name, "default").is_none() {
        st.store.put(&sa_gr, json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": name, "uid": uuid::Uuid::new_v4().to_string(), "creationTimestamp": now}
        }));
    }
    let cm_gr = (String::new(), "configmaps".to_string());
    if st.store.get(&cm_gr, &name, "kube-root-ca.crt").is_none() {
        st.store.put(&cm_gr, json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "kube-root-ca.crt",
                "namespace": name,
                "uid": uuid::Uuid::new_v4().to_string(),
                "creationTimestamp": now,
                "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}
            },
            "data": {"ca.crt": ca_pem}
        }));
    }
}
