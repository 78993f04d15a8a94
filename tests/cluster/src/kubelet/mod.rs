//! The kubelet: runs the pods bound to its node as local processes (see docs/testing.md,
//! "The Kubernetes test cluster"), reporting their status through the API like a real one.

pub mod env;
pub mod hosts;
pub mod images;
pub mod layout;
mod node;
mod pod;
pub mod probe;
pub mod process;
pub mod security;
pub mod volumes;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, Service};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt as _};
use nix::sys::signal::Signal;
use tokio::sync::{watch, Notify};

use crate::controllers::informer::Informer;
use crate::ClusterAccess;
use env::ServiceEnv;
use hosts::ServiceAddress;
use layout::Layout;
use process::groups::Groups;

pub use images::HOST_IMAGE;
pub use pod::container::OOM_KILL_AFTER;

/// Settings of the kubelet.
#[derive(Clone, Debug)]
pub struct KubeletConfig {
    /// How to reach the API server.
    pub access: ClusterAccess,
    /// The node's name (pods are bound to it).
    pub node_name: String,
    /// Image (repository, without tag) -> local binary run for it; any other image fails to pull.
    pub images: Vec<(String, PathBuf)>,
}

/// What every pod worker shares.
pub(crate) struct Context {
    client: Client,
    layout: Layout,
    images: Vec<(String, PathBuf)>,
    groups: Groups,
    ca_pem: Vec<u8>,
    api_port: u16,
    services: Informer<Service>,
}

impl Context {
    fn cluster_ip(s: &Service) -> String {
        s.spec
            .as_ref()
            .and_then(|s| s.cluster_ip.clone())
            .filter(|ip| !ip.is_empty() && ip != "None")
            .unwrap_or_else(|| "127.0.0.1".into())
    }

    /// Service variables for a pod in `namespace` (the API server's `kubernetes` Service
    /// always, pointing at the real API port since there is no Service proxy).
    fn service_env(&self, namespace: &str) -> Vec<ServiceEnv> {
        let mut out: Vec<ServiceEnv> = self
            .services
            .store
            .state()
            .iter()
            .filter(|s| {
                s.namespace().as_deref() == Some(namespace)
                    && !(namespace == "default" && s.name_any() == "kubernetes")
            })
            .map(|s| ServiceEnv {
                name: s.name_any(),
                ip: Self::cluster_ip(s),
                ports: s
                    .spec
                    .iter()
                    .flat_map(|sp| sp.ports.iter().flatten())
                    .map(|p| {
                        (
                            p.name.clone(),
                            p.port,
                            p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                        )
                    })
                    .collect(),
            })
            .collect();
        out.push(ServiceEnv {
            name: "kubernetes".into(),
            ip: "127.0.0.1".into(),
            ports: vec![(Some("https".into()), i32::from(self.api_port), "TCP".into())],
        });
        out
    }

    /// Every Service, for /etc/hosts.
    fn service_addresses(&self) -> Vec<ServiceAddress> {
        let mut out: Vec<ServiceAddress> = self
            .services
            .store
            .state()
            .iter()
            .filter(|s| {
                !(s.namespace().as_deref() == Some("default") && s.name_any() == "kubernetes")
            })
            .map(|s| ServiceAddress {
                name: s.name_any(),
                namespace: s.namespace().unwrap_or_default(),
                ip: Self::cluster_ip(s),
            })
            .collect();
        out.push(ServiceAddress {
            name: "kubernetes".into(),
            namespace: "default".into(),
            ip: "127.0.0.1".into(),
        });
        out
    }
}

/// A pod worker: where its pod's updates go, and its task.
type Worker = (watch::Sender<Option<Arc<Pod>>>, tokio::task::JoinHandle<()>);

/// Runs the kubelet until `shutdown` resolves, then kills every container it started.
pub async fn run(
    config: KubeletConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Both rustls providers are linked (the server's aws-lc-rs, kube's ring): pick one.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = config.access.client()?;
    let api_port = config
        .access
        .server
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or(443);
    let changed = Arc::new(Notify::new());
    let services = Informer::start(
        Api::<Service>::all(client.clone()),
        watcher::Config::default(),
        changed.clone(),
    );
    let pods = Informer::start(
        Api::<Pod>::all(client.clone()),
        watcher::Config::default(),
        changed.clone(),
    );
    let ctx = Arc::new(Context {
        client: client.clone(),
        layout: Layout::new(&config.access.dir),
        images: config.images.clone(),
        groups: Groups::default(),
        ca_pem: config.access.ca_pem.clone(),
        api_port,
        services,
    });
    let node_name = config.node_name.clone();
    let dispatch = {
        let ctx = ctx.clone();
        async move {
            node::register(&client, &node_name).await;
            pods.ready().await;
            let mut workers: HashMap<String, Worker> = HashMap::new();
            loop {
                let mine: HashMap<String, Arc<Pod>> = pods
                    .store
                    .state()
                    .into_iter()
                    .filter(|p| {
                        p.spec.as_ref().and_then(|s| s.node_name.as_deref())
                            == Some(node_name.as_str())
                    })
                    .map(|p| (p.uid().unwrap_or_default(), p))
                    .collect();
                for (uid, pod) in &mine {
                    match workers.get(uid) {
                        Some((tx, _)) => {
                            tx.send_if_modified(|old| {
                                let same = old.as_ref().map(|o| o.resource_version())
                                    == Some(pod.resource_version());
                                if !same {
                                    *old = Some(pod.clone());
                                }
                                !same
                            });
                        }
                        None => {
                            let (tx, rx) = watch::channel(Some(pod.clone()));
                            let task = tokio::spawn(pod::worker::run(ctx.clone(), rx));
                            workers.insert(uid.clone(), (tx, task));
                        }
                    }
                }
                for (uid, (tx, _)) in &workers {
                    if !mine.contains_key(uid) && tx.borrow().is_some() {
                        let _ = tx.send(None);
                    }
                }
                workers.retain(|uid, (_, task)| !task.is_finished() || mine.contains_key(uid));
                let _ = tokio::time::timeout(Duration::from_secs(1), changed.notified()).await;
            }
        }
    };
    tokio::select! {
        () = dispatch => {}
        () = shutdown => {}
    }
    kill_everything(&ctx.groups).await;
    Ok(())
}

/// SIGKILLs every container's process group and waits (bounded) until they are gone.
async fn kill_everything(groups: &Groups) {
    groups.signal_all(Signal::SIGKILL);
    for _ in 0..50 {
        if groups.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        groups.signal_all(Signal::SIGKILL);
    }
    tracing::info!(left = groups.len(), "kubelet stopped");
}
