//! Controllers: plain API clients of the test API server, as in a real cluster
//! (kube-controller-manager's Job, CronJob, Deployment, ReplicaSet, Namespace,
//! ServiceAccount and root-CA publisher controllers, reduced to what Cairn relies on).

mod api_errors;
pub mod clock;
mod cronjob;
mod deployment;
mod expectations;
pub(crate) mod informer;
mod job;
mod namespaces;
mod naming;
mod ownership;
mod pod_template;
mod replicaset;
mod scheduler;
mod status_update;

use crate::ClusterAccess;

/// The only node: controller-made pods are bound to it directly, others by [`scheduler`].
pub const NODE_NAME: &str = "node-1";

pub use job::{BACKOFF_BASE as JOB_BACKOFF_BASE, BACKOFF_MAX as JOB_BACKOFF_MAX};

/// Runs every controller until `shutdown` resolves.
pub async fn run(
    access: ClusterAccess,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Both rustls providers are linked (the server's aws-lc-rs, kube's ring): pick one.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = access.client()?;
    let controllers = async move {
        futures::join!(
            namespaces::run(client.clone(), access.ca_pem.clone()),
            job::run(client.clone()),
            cronjob::run(client.clone()),
            deployment::run(client.clone()),
            replicaset::run(client.clone()),
            scheduler::run(client.clone()),
        );
    };
    tokio::select! {
        () = controllers => {}
        () = shutdown => {}
    }
    Ok(())
}
