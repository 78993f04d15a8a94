//! A scheduler for the single node: pods created without `spec.nodeName` (plain Pods,
//! `kubectl run`) are bound to [`NODE_NAME`] through the `pods/binding` subresource, as
//! kube-scheduler does (a `spec.nodeName` patch when the server has no binding).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt as _};
use serde_json::json;
use tokio::sync::Notify;

use super::informer::Informer;
use super::NODE_NAME;

const RESYNC: Duration = Duration::from_secs(2);

/// Runs the scheduler until dropped.
pub async fn run(client: Client) {
    let changed = Arc::new(Notify::new());
    let pods = Informer::start(
        Api::<Pod>::all(client.clone()),
        watcher::Config::default(),
        changed.clone(),
    );
    pods.ready().await;
    let mut bound = std::collections::HashSet::new();
    loop {
        for pod in pods.store.state() {
            let spec = pod.spec.clone().unwrap_or_default();
            let ours = spec
                .scheduler_name
                .as_deref()
                .is_none_or(|s| s == "default-scheduler");
            let uid = pod.uid().unwrap_or_default();
            if spec.node_name.is_some()
                || pod.metadata.deletion_timestamp.is_some()
                || !ours
                || bound.contains(&uid)
            {
                continue;
            }
            match bind(&client, &pod).await {
                Ok(()) => {
                    bound.insert(uid);
                }
                Err(e) => tracing::warn!(pod = %pod.name_any(), error = %e, "binding failed"),
            }
        }
        let _ = tokio::time::timeout(RESYNC, changed.notified()).await;
    }
}

async fn bind(client: &Client, pod: &Pod) -> kube::Result<()> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace().unwrap_or_default());
    let name = pod.name_any();
    let binding = json!({
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": { "name": name, "uid": pod.uid() },
        "target": { "apiVersion": "v1", "kind": "Node", "name": NODE_NAME },
    });
    let r: kube::Result<serde_json::Value> = api
        .create_subresource("binding", &name, &PostParams::default(), &binding)
        .await;
    match r {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if matches!(s.code, 404 | 405) => {
            let patch = json!({ "spec": { "nodeName": NODE_NAME } });
            api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    }
}
