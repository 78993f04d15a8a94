//! Authentication and RBAC: ServiceAccount tokens from `kubectl create token`, the real 403
//! Status body, 401, `kubectl auth can-i`, OwnerReferencesPermissionEnforcement, escalation.

mod support;

use serde_json::json;
use support::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_account_tokens_and_rbac() {
    let c = Cluster::start();
    c.kubectl_ok(&["create", "namespace", "r"]);
    c.kubectl_ok(&["create", "serviceaccount", "bot", "-n", "r"]);
    c.kubectl_ok(&[
        "create",
        "secret",
        "generic",
        "s",
        "-n",
        "r",
        "--from-literal=k=v",
    ]);
    let token = c
        .kubectl_ok(&["create", "token", "bot", "-n", "r"])
        .trim()
        .to_string();
    let tok = format!("--token={token}");

    let err = c.kubectl_err(&[&tok, "get", "secrets", "-n", "r"], None);
    assert!(err.contains(r#"secrets is forbidden: User "system:serviceaccount:r:bot" cannot list resource "secrets" in API group "" in the namespace "r""#), "{err}");
    let (code, body) = c
        .raw_as(
            &token,
            "GET",
            "/api/v1/namespaces/r/secrets/s",
            None,
            "application/json",
        )
        .await;
    assert_eq!(code, 403);
    assert_eq!(
        body,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": r#"secrets "s" is forbidden: User "system:serviceaccount:r:bot" cannot get resource "secrets" in API group "" in the namespace "r""#,
            "reason": "Forbidden", "details": {"name": "s", "kind": "secrets"}, "code": 403
        })
    );
    let (code, body) = c
        .raw_as(
            "not-a-token",
            "GET",
            "/api/v1/namespaces",
            None,
            "application/json",
        )
        .await;
    assert_eq!((code, body["reason"].as_str()), (401, Some("Unauthorized")));

    assert_eq!(
        c.kubectl(&[&tok, "auth", "can-i", "get", "secrets", "-n", "r"])
            .stdout,
        b"no\n"
    );
    c.kubectl_ok(&[
        "create",
        "role",
        "reader",
        "-n",
        "r",
        "--verb=get,list",
        "--resource=secrets,configmaps",
        "--verb=create",
    ]);
    c.kubectl_ok(&[
        "create",
        "rolebinding",
        "reader",
        "-n",
        "r",
        "--role=reader",
        "--serviceaccount=r:bot",
    ]);
    assert_eq!(
        c.kubectl_ok(&[&tok, "auth", "can-i", "get", "secrets", "-n", "r"]),
        "yes\n"
    );
    assert!(c
        .kubectl_ok(&[&tok, "get", "secrets", "-n", "r"])
        .contains("Opaque"));
    let who = c.kubectl_ok(&[&tok, "auth", "whoami"]);
    assert!(
        who.contains("system:serviceaccount:r:bot") && who.contains("system:serviceaccounts:r"),
        "{who}"
    );

    // blockOwnerDeletion needs update on the owner's finalizers.
    let owner_uid = c.kubectl_ok(&[
        "get",
        "secret",
        "s",
        "-n",
        "r",
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owned", "ownerReferences": [
        {"apiVersion": "v1", "kind": "Secret", "name": "s", "uid": owner_uid, "blockOwnerDeletion": true}
    ]}});
    let (code, body) = c
        .raw_as(
            &token,
            "POST",
            "/api/v1/namespaces/r/configmaps",
            Some(cm.clone()),
            "application/json",
        )
        .await;
    assert_eq!(code, 403, "{body}");
    let msg = body["message"].as_str().unwrap_or("");
    assert!(msg.contains("cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on"), "{msg}");
    assert!(
        msg.contains(r#"cannot update resource "secrets/finalizers""#),
        "{msg}"
    );
    let mut plain = cm.clone();
    plain["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] = json!(false);
    let (code, body) = c
        .raw_as(
            &token,
            "POST",
            "/api/v1/namespaces/r/configmaps",
            Some(plain),
            "application/json",
        )
        .await;
    assert_eq!(code, 201, "{body}");

    // RBAC escalation: binding cluster-admin needs `bind` or cluster-admin's permissions.
    c.kubectl_ok(&[
        "create",
        "role",
        "binder",
        "-n",
        "r",
        "--verb=create",
        "--resource=rolebindings.rbac.authorization.k8s.io",
    ]);
    c.kubectl_ok(&[
        "create",
        "rolebinding",
        "binder",
        "-n",
        "r",
        "--role=binder",
        "--serviceaccount=r:bot",
    ]);
    let err = c.kubectl_err(
        &[
            &tok,
            "create",
            "rolebinding",
            "esc",
            "-n",
            "r",
            "--clusterrole=cluster-admin",
            "--serviceaccount=r:bot",
        ],
        None,
    );
    assert!(
        err.contains("is attempting to grant RBAC permissions not currently held"),
        "{err}"
    );
}
