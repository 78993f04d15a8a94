//! Namespaces: the built-in ones exist (as the API server's bootstrap creates them), and
//! each namespace gets what upstream controllers put there: ServiceAccount `default`
//! (serviceaccount controller) and ConfigMap `kube-root-ca.crt` (root-CA publisher).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::PostParams;
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt as _};
use tokio::sync::Notify;

use super::informer::Informer;

/// Namespaces every cluster has.
pub const BUILT_IN: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];
/// The ConfigMap with the cluster CA in every namespace.
pub const ROOT_CA: &str = "kube-root-ca.crt";
const RESYNC: Duration = Duration::from_secs(5);

async fn create_absent<K>(api: &Api<K>, obj: &K) -> kube::Result<()>
where
    K: kube::Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.create(&PostParams::default(), obj).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates the built-in namespaces, then keeps `default` ServiceAccounts and root-CA
/// ConfigMaps present in every active namespace.
pub async fn run(client: Client, ca_pem: Vec<u8>) {
    let ns_api: Api<Namespace> = Api::all(client.clone());
    for name in BUILT_IN {
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        if let Err(e) = create_absent(&ns_api, &ns).await {
            tracing::warn!(namespace = name, error = %e, "creating a built-in namespace failed");
        }
    }
    let changed = Arc::new(Notify::new());
    let namespaces = Informer::start(ns_api, watcher::Config::default(), changed.clone());
    let accounts = Informer::start(
        Api::<ServiceAccount>::all(client.clone()),
        watcher::Config::default(),
        changed.clone(),
    );
    let config_maps = Informer::start(
        Api::<ConfigMap>::all(client.clone()),
        watcher::Config::default().fields(&format!("metadata.name={ROOT_CA}")),
        changed.clone(),
    );
    namespaces.ready().await;
    accounts.ready().await;
    config_maps.ready().await;
    let ca = String::from_utf8_lossy(&ca_pem).into_owned();
    loop {
        for ns in namespaces.store.state() {
            let name = ns.name_any();
            let terminating = ns.metadata.deletion_timestamp.is_some()
                || ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating");
            if terminating {
                continue;
            }
            if accounts
                .store
                .find(|sa| sa.name_any() == "default" && sa.namespace().as_deref() == Some(&name))
                .is_none()
            {
                let sa = ServiceAccount {
                    metadata: ObjectMeta {
                        name: Some("default".into()),
                        namespace: Some(name.clone()),
                        ..ObjectMeta::default()
                    },
                    ..ServiceAccount::default()
                };
                if let Err(e) = create_absent(&Api::namespaced(client.clone(), &name), &sa).await {
                    tracing::debug!(namespace = %name, error = %e, "creating the default serviceaccount failed");
                }
            }
            let has_ca = config_maps
                .store
                .find(|c| c.name_any() == ROOT_CA && c.namespace().as_deref() == Some(&name))
                .is_some_and(|c| c.data.as_ref().and_then(|d| d.get("ca.crt")) == Some(&ca));
            if !has_ca {
                let cm = ConfigMap {
                    metadata: ObjectMeta {
                        name: Some(ROOT_CA.into()),
                        namespace: Some(name.clone()),
                        annotations: Some(BTreeMap::from([(
                            "kubernetes.io/description".to_owned(),
                            "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.".to_owned(),
                        )])),
                        ..ObjectMeta::default()
                    },
                    data: Some(BTreeMap::from([("ca.crt".to_owned(), ca.clone())])),
                    ..ConfigMap::default()
                };
                if let Err(e) = create_absent(&Api::namespaced(client.clone(), &name), &cm).await {
                    tracing::debug!(namespace = %name, error = %e, "publishing the root CA failed");
                }
            }
        }
        let _ = tokio::time::timeout(RESYNC, changed.notified()).await;
    }
}
