//! Lock holders that are Kubernetes pods. A pod is a host of its own, so "its process is
//! gone" cannot be read from `/proc`: an executor pod killed mid-backup would hold its
//! lock until the stale timeout and make a `retryConfig` retry fail as "locked". Inside
//! a cluster the process registers who it is and how to ask the API server whether a
//! pod still runs; a lock whose holder pod is gone (deleted or terminated) is stale.

use std::fmt;
use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;

/// Whether pods still run, as the API server tells.
pub trait PodLiveness: Send + Sync {
    /// `Some(false)` when pod `name` in `namespace` is gone or has terminated,
    /// `Some(true)` while it may still run, `None` when it cannot be told (no access, API
    /// down): only a definite answer breaks a lock.
    fn running<'a>(&'a self, namespace: &'a str, name: &'a str) -> BoxFuture<'a, Option<bool>>;
}

/// This process as a pod: what it writes into its locks and how it judges others'.
#[derive(Clone)]
pub struct PodIdentity {
    /// `namespace/name` of the pod this process runs in.
    pub pod: String,
    /// How to ask whether another holder's pod still runs.
    pub liveness: Arc<dyn PodLiveness>,
}

impl fmt::Debug for PodIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PodIdentity")
            .field("pod", &self.pod)
            .finish_non_exhaustive()
    }
}

static IDENTITY: OnceLock<PodIdentity> = OnceLock::new();

/// Registers this process's pod (once, at start, like its hostname and pid: the lock
/// identity is the process's); later calls are ignored.
pub fn register(identity: PodIdentity) {
    let _ = IDENTITY.set(identity);
}

/// The registered identity, if this process runs in a pod.
pub fn registered() -> Option<PodIdentity> {
    IDENTITY.get().cloned()
}

/// Splits `namespace/name`.
pub(crate) fn split(pod: &str) -> Option<(&str, &str)> {
    pod.split_once('/')
        .filter(|(ns, name)| !ns.is_empty() && !name.is_empty())
}
