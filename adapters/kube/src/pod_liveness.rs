//! Whether the pod holding a repository lock still runs, asked of the API server: the
//! Kubernetes counterpart of "is that pid alive on this host" (cairn-storage's locks).

use std::sync::Arc;

use cairn_storage::lock_pod::{self, PodIdentity, PodLiveness};
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use tracing::debug;

/// Asks the API server about pods.
struct ApiLiveness(kube::Client);

impl PodLiveness for ApiLiveness {
    fn running<'a>(&'a self, namespace: &'a str, name: &'a str) -> BoxFuture<'a, Option<bool>> {
        Box::pin(async move {
            match Api::<Pod>::namespaced(self.0.clone(), namespace)
                .get_opt(name)
                .await
            {
                Ok(None) => Some(false),
                Ok(Some(pod)) => {
                    let phase = pod.status.and_then(|s| s.phase).unwrap_or_default();
                    Some(!matches!(phase.as_str(), "Succeeded" | "Failed"))
                }
                Err(e) => {
                    debug!(pod = %name, namespace, error = %e, "cannot tell whether a lock holder's pod runs");
                    None
                }
            }
        })
    }
}

/// Registers this process as the pod `POD_NAMESPACE/POD_NAME` (set from the downward
/// API in every pod Cairn runs), so its locks name it and it can break the lock of a
/// holder pod that is gone. Without both variables nothing is registered.
pub fn register_from_env(client: &kube::Client) {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(namespace), Some(name)) = (var("POD_NAMESPACE"), var("POD_NAME")) {
        lock_pod::register(PodIdentity {
            pod: format!("{namespace}/{name}"),
            liveness: Arc::new(ApiLiveness(client.clone())),
        });
    }
}
