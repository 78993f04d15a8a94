//! The Node object of this kubelet (registered Ready, as kubelets self-register).

use k8s_openapi::api::core::v1::Node;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

/// Registers node `name` (best effort: a server without Nodes only logs a warning).
pub async fn register(client: &Client, name: &str) {
    let api: Api<Node> = Api::all(client.clone());
    let node: Node = match serde_json::from_value(json!({
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": std::env::consts::ARCH,
            },
        },
    })) {
        Ok(n) => n,
        Err(_) => return,
    };
    let created = api.create(&PostParams::default(), &node).await;
    if let Err(e) = created.as_ref().map(|_| ()).or_else(|e| match e {
        kube::Error::Api(s) if s.code == 409 => Ok(()),
        _ => Err(e),
    }) {
        tracing::warn!(error = %e, "registering the node failed");
        return;
    }
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let status = json!({ "status": {
        "conditions": [{
            "type": "Ready", "status": "True", "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": now, "lastTransitionTime": now,
        }],
        "addresses": [{ "type": "InternalIP", "address": "127.0.0.1" }, { "type": "Hostname", "address": name }],
        "capacity": { "cpu": "2", "memory": "4Gi", "pods": "110" },
        "allocatable": { "cpu": "2", "memory": "4Gi", "pods": "110" },
        "nodeInfo": {
            "kubeletVersion": "v1.34.0", "kubeProxyVersion": "v1.34.0", "containerRuntimeVersion": "cairn-test://1",
            "operatingSystem": "linux", "architecture": std::env::consts::ARCH,
            "osImage": "cairn test cluster", "kernelVersion": "", "machineID": "", "systemUUID": "", "bootID": "",
        },
    }});
    if let Err(e) = api
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
    {
        tracing::warn!(error = %e, "reporting node status failed");
    }
}
