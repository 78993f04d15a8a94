//! Fault injection (`/_test/faults`): injected error codes reach clients with Status bodies,
//! 429 is retried by client-go, rules expire after `count`, `DELETE` clears them; test endpoints are admin-only.

mod support;

use serde_json::json;
use support::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_errors_and_clearing() {
    let c = Cluster::start();
    c.kubectl_ok(&["create", "namespace", "ft"]);
    let rule = json!({"method": "GET", "pathRegex": "/api/v1/namespaces/ft/configmaps", "status": 500, "count": 2, "message": "boom"});
    let (code, _) = c.raw("POST", "/_test/faults", Some(rule)).await;
    assert_eq!(code, 201);
    let (code, body) = c.raw("GET", "/api/v1/namespaces/ft/configmaps", None).await;
    assert_eq!(
        (code, body["reason"].as_str(), body["message"].as_str()),
        (500, Some("InternalError"), Some("boom"))
    );
    let err = c.kubectl_err(&["get", "configmaps", "-n", "ft"], None);
    assert!(err.contains("boom"), "{err}");
    // count exhausted.
    c.kubectl_ok(&["get", "configmaps", "-n", "ft"]);

    // 429 carries Retry-After: client-go (kubectl) retries and succeeds.
    let rule = json!({"pathRegex": "/api/v1/namespaces/ft/secrets", "status": 429, "count": 1});
    c.raw("POST", "/_test/faults", Some(rule)).await;
    c.kubectl_ok(&["get", "secrets", "-n", "ft"]);

    // Time-bounded rules stay until cleared.
    let rule =
        json!({"pathRegex": "/api/v1/namespaces/ft/secrets", "status": 500, "untilSeconds": 60});
    c.raw("POST", "/_test/faults", Some(rule)).await;
    let (code, _) = c.raw("GET", "/api/v1/namespaces/ft/secrets", None).await;
    assert_eq!(code, 500);
    let (code, _) = c.raw("DELETE", "/_test/faults", None).await;
    assert_eq!(code, 200);
    let (code, _) = c.raw("GET", "/api/v1/namespaces/ft/secrets", None).await;
    assert_eq!(code, 200);

    // Lists can be made to answer 410 Expired.
    c.raw(
        "POST",
        "/_test/faults",
        Some(json!({"method": "GET", "pathRegex": "/configmaps$", "gone410": true, "count": 1})),
    )
    .await;
    let (code, body) = c.raw("GET", "/api/v1/namespaces/ft/configmaps", None).await;
    assert_eq!((code, body["reason"].as_str()), (410, Some("Expired")));

    // Non-admins may not touch the test endpoints.
    c.kubectl_ok(&["create", "serviceaccount", "x"]);
    let token = c.kubectl_ok(&["create", "token", "x"]).trim().to_string();
    let (code, _) = c
        .raw_as(&token, "DELETE", "/_test/faults", None, "application/json")
        .await;
    assert_eq!(code, 403);
}
