//! Arguments and entry points of `cairn operator` and `cairn trigger`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use futures::FutureExt;
use kube_lease_manager::LeaseManagerBuilder;
use tracing::{info, warn};

use crate::backend::StorageBackend;
use crate::metrics::{router, Metrics};
use crate::objects::Config;

/// Arguments of `cairn operator`.
#[derive(Debug, Args)]
pub struct OperatorArgs {
    /// Address of the metrics and health endpoints.
    #[arg(long, default_value = "0.0.0.0:8080")]
    pub listen: String,
    /// Name of the Lease used for leader election.
    #[arg(long, default_value = "cairn-operator")]
    pub lease_name: String,
    /// Namespace of the Lease (the operator's own namespace).
    #[arg(long, env = "POD_NAMESPACE", default_value = "cairn-system")]
    pub lease_namespace: String,
    /// Identity in the Lease and `reportingInstance` of Events (the pod name).
    #[arg(long, env = "POD_NAME", default_value = "cairn-operator")]
    pub identity: String,
    /// Image of Cairn, run by trigger CronJobs.
    #[arg(long, env = "CAIRN_IMAGE", default_value = cairn_core::catalog::EXECUTOR_IMAGE)]
    pub image: String,
    /// Secrets pulling Cairn's image, given to executor and trigger pods (comma-separated).
    #[arg(long, env = "CAIRN_IMAGE_PULL_SECRETS", value_delimiter = ',')]
    pub image_pull_secrets: Vec<String>,
}

/// Runs `cairn trigger` in a trigger CronJob's pod: creates the BackupSession of the
/// schedule slot that just fired, for each session named (the CronJob names one).
pub async fn run_trigger(
    namespace: &str,
    configuration: &str,
    sessions: &[String],
) -> anyhow::Result<()> {
    if sessions.is_empty() {
        anyhow::bail!(
            "cairn trigger in a cluster needs --session: the trigger CronJob of each session passes it"
        );
    }
    let client = kube::Client::try_default()
        .await
        .context("connecting to the API server")?;
    for session in sessions {
        let name = crate::trigger::trigger(
            &client,
            namespace,
            configuration,
            session,
            chrono::Utc::now(),
        )
        .await?;
        info!(backupsession = %name, "triggered");
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {},
                _ = tokio::signal::ctrl_c() => {},
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs the operator until SIGTERM: metrics and health endpoints, leader election,
/// controllers; on shutdown the controllers drain and the lease is released.
pub async fn run(args: OperatorArgs) -> anyhow::Result<()> {
    let client = kube::Client::try_default()
        .await
        .context("connecting to the API server")?;
    crate::pod_liveness::register_from_env(&client);
    let metrics = Arc::new(Metrics::default());
    let addr: SocketAddr = args.listen.parse().context("--listen")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .context("binding --listen")?;
    let app = router(metrics.clone());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            warn!(error = %e, "metrics server stopped");
        }
    });

    let manager = LeaseManagerBuilder::new(client.clone(), &args.lease_name)
        .with_namespace(&args.lease_namespace)
        .with_identity(&args.identity)
        .with_field_manager(format!(
            "{}-{}",
            crate::request::FIELD_MANAGER,
            args.identity
        ))
        .build()
        .await
        .context("creating the leader lease")?;
    let (mut is_leader, lease_task) = manager.watch().await;
    let leader = Arc::new(AtomicBool::new(*is_leader.borrow()));
    let flag = leader.clone();
    let follower = tokio::spawn(async move {
        while is_leader.changed().await.is_ok() {
            let now = *is_leader.borrow_and_update();
            flag.store(now, Ordering::SeqCst);
            info!(leader = now, "leadership changed");
        }
        flag.store(false, Ordering::SeqCst);
    });

    let cfg = Config {
        image: args.image,
        image_pull_secrets: args
            .image_pull_secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect(),
        reporting_instance: args.identity,
        ..Config::default()
    };
    // Backend IO in-process through cairn-storage; `local` backends are volumes
    // mounted in this pod at their mountPath (see the chart's `extraVolumes`).
    let backend = Arc::new(StorageBackend::default());
    let shutdown = shutdown_signal().boxed().shared();
    info!(listen = %addr, "cairn operator started");
    crate::operator::run_controllers(client, cfg, backend, leader.clone(), metrics, shutdown).await;
    leader.store(false, Ordering::SeqCst);
    // Dropping the last receiver makes the lease manager release the Lease, so a standby
    // replica takes over at once instead of after the lease duration.
    follower.abort();
    let _ = follower.await;
    match tokio::time::timeout(std::time::Duration::from_secs(10), lease_task).await {
        Ok(Ok(Ok(_))) => info!("leader lease released"),
        Ok(Ok(Err(e))) => warn!(error = %e, "could not release the leader lease"),
        Ok(Err(e)) => warn!(error = %e, "the lease task ended abnormally"),
        Err(_) => warn!("releasing the leader lease timed out"),
    }
    info!("cairn operator stopped");
    Ok(())
}
