//! The API server (see tests/cluster/README.md for what is faithful and what is not).

pub mod admission;
pub mod auth;
pub mod bootstrap;
pub mod discovery;
pub mod faults;
pub mod gc;
pub mod handlers;
pub mod http;
pub mod openapi;
pub mod patch;
pub mod registry;
pub mod router;
pub mod schema;
pub mod state;
pub mod store;
pub mod table;
pub mod tls;

use std::path::{Path, PathBuf};

use state::{Shared, State};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Certificates.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// Files or the listener.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// A running API server.
pub struct ApiServer {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// Admin bearer token.
    pub token: String,
    /// CA PEM.
    pub ca_pem: String,
    /// State directory.
    pub dir: PathBuf,
    /// The listener task (dropping it does not stop the server; abort it).
    pub task: tokio::task::JoinHandle<()>,
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Options {
    /// Port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// The OwnerReferencesPermissionEnforcement admission plugin (on by default here, as on
    /// OpenShift; vanilla kube-apiservers do not enable it).
    pub owner_references_enforcement: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 0,
            owner_references_enforcement: true,
        }
    }
}

/// Starts the server: certificates, listener, state files (`kubeconfig`, `ca.crt`,
/// `admin.token`, `server.url`), garbage collector.
pub async fn start(dir: &Path, options: Options) -> Result<ApiServer, StartError> {
    let port = options.port;
    std::fs::create_dir_all(dir)?;
    tls::generate(dir)?;
    let tls_cfg = tls::server_config(dir)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let url = format!("https://127.0.0.1:{}", listener.local_addr()?.port());
    let ca_pem = std::fs::read_to_string(dir.join("ca.crt"))?;
    let token = format!("cairn-admin-{}", uuid::Uuid::new_v4().simple());
    let now = handlers::now();
    let mut st = State {
        store: store::Store::new(20_000),
        registry: registry::Registry::default(),
        tokens: auth::tokens::Tokens::new(token.clone()),
        faults: faults::Faults::default(),
        ca_pem: ca_pem.clone(),
        dir: dir.to_path_buf(),
        owner_references_enforcement: options.owner_references_enforcement,
    };
    bootstrap::cluster(&mut st, &ca_pem, &now);
    let shared = Shared::new(st, url.clone(), ca_pem.clone(), dir.to_path_buf());
    write_files(dir, &url, &token, &ca_pem)?;
    tokio::spawn(gc::run(shared.clone()));
    let task = tokio::spawn(http::server::serve(listener, tls_cfg, shared));
    Ok(ApiServer {
        url,
        token,
        ca_pem,
        dir: dir.to_path_buf(),
        task,
    })
}

fn write_files(dir: &Path, url: &str, token: &str, ca_pem: &str) -> std::io::Result<()> {
    use base64::Engine as _;
    let ca_b64 = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: cairn-test\n  cluster:\n    server: {url}\n    certificate-authority-data: {ca_b64}\n\
         users:\n- name: admin\n  user:\n    token: {token}\ncontexts:\n- name: cairn-test\n  context:\n    cluster: cairn-test\n    user: admin\n    namespace: default\n\
         current-context: cairn-test\npreferences: {{}}\n"
    );
    // Written last-but-one: server.url appears only when everything else is in place.
    std::fs::write(dir.join("admin.token"), token)?;
    std::fs::write(dir.join("kubeconfig"), kubeconfig)?;
    std::fs::write(dir.join("server.url"), url)?;
    Ok(())
}
