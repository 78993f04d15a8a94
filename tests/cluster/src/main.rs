//! `cairn-test-cluster`: runs the test cluster in the foreground (scripts/test-cluster.sh
//! starts it in the background).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio::sync::watch;

use cairn_test_cluster::kubelet::KubeletConfig;
use cairn_test_cluster::{apiserver, controllers, kubelet, ClusterAccess};

#[derive(Parser)]
#[command(
    name = "cairn-test-cluster",
    about = "A Kubernetes test cluster (test-only, never shipped)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the API server, controllers and kubelet until SIGTERM/SIGINT.
    Serve {
        /// State directory (kubeconfig, ca.crt, admin.token, server.url, logs/).
        #[arg(long)]
        dir: PathBuf,
        /// Port on 127.0.0.1 (0: any free port; see DIR/server.url).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The binary run for the image `ghcr.io/cairn-backup/cairn`.
        #[arg(long)]
        cairn_bin: Option<PathBuf>,
        /// Turn off the OwnerReferencesPermissionEnforcement admission plugin (on by default,
        /// as on OpenShift; vanilla Kubernetes does not enable it).
        #[arg(long)]
        no_owner_references_enforcement: bool,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve {
            dir,
            port,
            cairn_bin,
            no_owner_references_enforcement,
        } => {
            let options = apiserver::Options {
                port,
                owner_references_enforcement: !no_owner_references_enforcement,
            };
            rt.block_on(serve(dir, options, cairn_bin))
        }
    }
}

async fn serve(
    dir: PathBuf,
    options: apiserver::Options,
    cairn_bin: Option<PathBuf>,
) -> anyhow::Result<()> {
    let server = apiserver::start(&dir, options)
        .await
        .context("starting the API server")?;
    tracing::info!(url = %server.url, dir = %dir.display(), "API server listening");
    let access = ClusterAccess {
        server: server.url.clone(),
        ca_pem: server.ca_pem.clone().into_bytes(),
        token: server.token.clone(),
        dir: dir.clone(),
    };
    let cairn_bin = cairn_bin.unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(|p| p.join("cairn")))
            .unwrap_or_else(|| PathBuf::from("cairn"))
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let controllers = tokio::spawn(controllers::run(access.clone(), stopped(stop_rx.clone())));
    let kubelet_cfg = KubeletConfig {
        access,
        node_name: "node-1".into(),
        images: vec![("ghcr.io/cairn-backup/cairn".into(), cairn_bin)],
    };
    let kubelet = tokio::spawn(kubelet::run(kubelet_cfg, stopped(stop_rx)));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT"),
    }
    let _ = stop_tx.send(true);
    for (name, task) in [("controllers", controllers), ("kubelet", kubelet)] {
        match tokio::time::timeout(std::time::Duration::from_secs(10), task).await {
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "{name} ended with an error"),
            Ok(Err(e)) => tracing::warn!(error = %e, "{name} panicked"),
            Err(_) => tracing::warn!("{name} did not stop within 10s"),
            Ok(Ok(Ok(()))) => {}
        }
    }
    server.task.abort();
    Ok(())
}
