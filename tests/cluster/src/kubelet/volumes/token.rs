//! Service-account tokens through TokenRequest (what the kubelet's token manager does).

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::api::PostParams;
use kube::{Api, Client, ResourceExt as _};

/// A token of the pod's ServiceAccount bound to the pod.
pub async fn request(
    client: &Client,
    pod: &Pod,
    audience: Option<&str>,
    expiration_seconds: Option<i64>,
) -> Result<String, String> {
    let ns = pod.namespace().unwrap_or_default();
    let sa = pod
        .spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .unwrap_or_else(|| "default".into());
    let req = serde_json::json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {
            "audiences": audience.map(|a| vec![a.to_owned()]),
            "expirationSeconds": expiration_seconds.unwrap_or(3607),
            "boundObjectRef": { "apiVersion": "v1", "kind": "Pod", "name": pod.name_any(), "uid": pod.uid() },
        },
    });
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    let out: serde_json::Value = api
        .create_subresource("token", &sa, &PostParams::default(), &req)
        .await
        .map_err(|e| format!("failed to fetch token for serviceaccount {ns}/{sa}: {e}"))?;
    out["status"]["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no token returned for serviceaccount {ns}/{sa}"))
}
