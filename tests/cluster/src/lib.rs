//! A Kubernetes test cluster for Cairn's operator tests (never shipped).
//!
//! - [`apiserver`]: HTTPS API server on 127.0.0.1 (discovery, CRDs, built-in kinds, patches,
//!   server-side apply, status subresource, watches, RBAC, admission, fault injection).
//! - [`controllers`]: Deployment/ReplicaSet, Job, CronJob, garbage collection; plain API
//!   clients of the server, as in a real cluster.
//! - [`kubelet`]: runs the pods bound to it as local processes.

pub mod apiserver;
pub mod controllers;
pub mod kubelet;

use std::path::PathBuf;

/// How a controller or the kubelet reaches the API server (as a client, like in a real cluster).
#[derive(Clone, Debug)]
pub struct ClusterAccess {
    /// `https://127.0.0.1:PORT`.
    pub server: String,
    /// PEM of the CA that signed the server's certificate.
    pub ca_pem: Vec<u8>,
    /// Bearer token of a cluster-admin identity (group `system:masters`).
    pub token: String,
    /// The cluster's state directory (`scripts/test-cluster.sh up DIR`).
    pub dir: PathBuf,
}

impl ClusterAccess {
    /// A kube-rs client for this cluster.
    pub fn client(&self) -> anyhow::Result<kube::Client> {
        let mut config = kube::Config::new(self.server.parse()?);
        config.root_cert = Some(vec![pem_der(&self.ca_pem)?]);
        config.auth_info.token = Some(self.token.clone().into());
        Ok(kube::Client::try_from(config)?)
    }
}

/// The DER bytes of the first certificate of a PEM text.
fn pem_der(pem: &[u8]) -> anyhow::Result<Vec<u8>> {
    use base64::Engine as _;
    let text = std::str::from_utf8(pem)?;
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    Ok(base64::engine::general_purpose::STANDARD.decode(body)?)
}
