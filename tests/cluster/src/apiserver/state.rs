//! The server's shared state: storage, served types, tokens, fault rules.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{watch, Notify};

use super::auth::tokens::Tokens;
use super::faults::Faults;
use super::registry::Registry;
use super::store::Store;

/// Everything behind the one lock (writes are serialised, as etcd's revision is).
pub struct State {
    /// Objects and the event log.
    pub store: Store,
    /// Resource types served.
    pub registry: Registry,
    /// Bearer tokens (admin, ServiceAccounts).
    pub tokens: Tokens,
    /// Injected faults.
    pub faults: Faults,
    /// PEM of the cluster CA (`kube-root-ca.crt`).
    pub ca_pem: String,
    /// Where pod logs are read from (`<dir>/logs/<ns>/<pod>/<container>.log`).
    pub dir: PathBuf,
    /// OwnerReferencesPermissionEnforcement on?
    pub owner_references_enforcement: bool,
}

/// Shared by every connection.
pub struct Shared {
    state: Mutex<State>,
    /// Wakes the garbage collector / namespace finaliser after deletions.
    pub gc: Notify,
    /// Bumped to close every open watch (`POST /_test/watches/drop`).
    pub drop_watches: watch::Sender<u64>,
    /// The server's `https://127.0.0.1:PORT`.
    pub url: String,
    /// PEM of the CA (for the `kube-root-ca.crt` ConfigMaps).
    pub ca_pem: String,
    /// State directory.
    pub dir: PathBuf,
    /// Seconds between watch BOOKMARKs.
    pub bookmark_secs: u64,
    /// TLS client configurations for webhooks, by caBundle.
    pub webhook_tls: Mutex<HashMap<String, Arc<rustls::ClientConfig>>>,
}

impl Shared {
    /// A new shared state.
    pub fn new(state: State, url: String, ca_pem: String, dir: PathBuf) -> Arc<Self> {
        let (tx, _) = watch::channel(0);
        Arc::new(Shared {
            state: Mutex::new(state),
            gc: Notify::new(),
            drop_watches: tx,
            url,
            ca_pem,
            dir,
            bookmark_secs: 1,
            webhook_tls: Mutex::new(HashMap::new()),
        })
    }

    /// Locks the state (never held across an await).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}
