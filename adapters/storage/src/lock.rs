//! Cairn's exclusive repository lock, so backup, forget/prune and check never race.
//!
//! The lock is the object `cairn.lock` at the repository root (restic would try to decrypt
//! anything under `locks/`). It is created with create-if-absent, refreshed by a background task
//! every `stale_after / 3` while held, and deleted on release. A lock not refreshed for
//! `stale_after`, or held by a dead process on this host, is broken with a warning.
//! Inside a cluster a holder is a pod ([`pod`]): a lock whose pod is gone is stale too.
//! [`crate::repo::Repo`] takes it itself around backup, forget and check: callers must not hold it
//! around those calls (the lock is not re-entrant).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;
use tracing::{debug, error, warn};

use crate::clock::{Clock, SystemClock};
pub use pod::{PodIdentity, PodLiveness};

pub mod pod;
use crate::error::{Error, Result};

/// Object name of the lock, relative to the repository root.
pub const LOCK_PATH: &str = "cairn.lock";

/// Contents of `cairn.lock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Unique id of this holder.
    pub holder: String,
    /// Host of the holder.
    pub hostname: String,
    /// Process id of the holder.
    pub pid: u32,
    /// What the holder does (backup, forget, check, ...).
    pub purpose: String,
    /// When the lock was taken.
    pub created: DateTime<Utc>,
    /// When the holder last proved it is alive.
    pub refreshed: DateTime<Utc>,
    /// `namespace/name` of the holder's pod, when it runs in Kubernetes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
}

/// How locks are taken, refreshed and judged stale.
#[derive(Debug, Clone)]
pub struct LockOptions {
    /// A lock not refreshed for this long is stale and may be broken.
    pub stale_after: Duration,
    /// Refresh in the background every `stale_after / 3` while held.
    pub auto_refresh: bool,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Our hostname, as written into the lock.
    pub hostname: String,
    /// Our pid, as written into the lock.
    pub pid: u32,
    /// Our pod, and how to tell whether another holder's pod still runs.
    pub pod: Option<PodIdentity>,
}

impl Default for LockOptions {
    fn default() -> Self {
        Self {
            stale_after: Duration::from_secs(300),
            auto_refresh: true,
            clock: Arc::new(SystemClock),
            hostname: gethostname::gethostname().to_string_lossy().into_owned(),
            pid: std::process::id(),
            pod: pod::registered(),
        }
    }
}

impl LockOptions {
    async fn is_stale(&self, info: &LockInfo) -> Option<&'static str> {
        if let Some(reason) = self.is_stale_here(info) {
            return Some(reason);
        }
        let (ours, held) = (self.pod.as_ref()?, info.pod.as_deref()?);
        if held == ours.pod {
            return None;
        }
        let (namespace, name) = pod::split(held)?;
        match ours.liveness.running(namespace, name).await {
            Some(false) => Some("its pod is gone"),
            _ => None,
        }
    }

    fn is_stale_here(&self, info: &LockInfo) -> Option<&'static str> {
        let age = self.clock.now() - info.refreshed;
        let stale = chrono::Duration::from_std(self.stale_after).unwrap_or(chrono::Duration::MAX);
        if age > stale {
            return Some("not refreshed within the stale timeout");
        }
        if info.hostname == self.hostname && info.pid != self.pid && !pid_alive(info.pid) {
            return Some("its process is gone");
        }
        None
    }
}

/// A held lock; released by [`LockGuard::release`] or (best effort) on drop.
#[derive(Debug)]
pub struct LockGuard {
    store: Arc<dyn ObjectStore>,
    label: String,
    info: LockInfo,
    clock: Arc<dyn Clock>,
    rt: Handle,
    lost: Arc<AtomicBool>,
    refresher: Option<JoinHandle<()>>,
    released: bool,
}

impl LockGuard {
    /// Takes the lock on the repository in `store` (blocking; `label` names it in messages).
    pub fn acquire(
        store: Arc<dyn ObjectStore>,
        label: &str,
        purpose: &str,
        opts: &LockOptions,
        rt: Handle,
    ) -> Result<LockGuard> {
        let info = rt.block_on(acquire_async(store.as_ref(), label, purpose, opts))?;
        let lost = Arc::new(AtomicBool::new(false));
        let refresher = opts.auto_refresh.then(|| {
            let every = (opts.stale_after / 3).max(Duration::from_millis(10));
            rt.spawn(refresh_loop(
                store.clone(),
                label.to_owned(),
                info.clone(),
                opts.clock.clone(),
                lost.clone(),
                every,
            ))
        });
        Ok(LockGuard {
            store,
            label: label.to_owned(),
            info,
            clock: opts.clock.clone(),
            rt,
            lost,
            refresher,
            released: false,
        })
    }

    /// What we wrote into the lock.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// Refreshes now (blocking); fails with `LockLost` if the lock is no longer ours.
    pub fn refresh(&self) -> Result<()> {
        let ours = self.rt.block_on(refresh_once(
            self.store.as_ref(),
            &self.label,
            &self.info,
            self.clock.as_ref(),
        ))?;
        if !ours {
            self.lost.store(true, Ordering::SeqCst);
        }
        self.ensure_held()
    }

    /// Fails with `LockLost` if a refresh found the lock removed or taken over.
    pub fn ensure_held(&self) -> Result<()> {
        if self.lost.load(Ordering::SeqCst) {
            return Err(Error::LockLost {
                repo: self.label.clone(),
            });
        }
        Ok(())
    }

    /// Releases the lock (blocking), deleting it if it is still ours.
    pub fn release(mut self) -> Result<()> {
        self.released = true;
        if let Some(task) = self.refresher.take() {
            task.abort();
        }
        self.rt.block_on(delete_if_ours(
            self.store.as_ref(),
            &self.label,
            &self.info.holder,
        ))
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(task) = self.refresher.take() {
            task.abort();
        }
        if !self.released {
            // Drop may run inside an async context where blocking is forbidden: fire and forget.
            let (store, label, holder) = (
                self.store.clone(),
                self.label.clone(),
                self.info.holder.clone(),
            );
            self.rt.spawn(async move {
                if let Err(e) = delete_if_ours(store.as_ref(), &label, &holder).await {
                    warn!(repo = %label, error = %e, "could not release repository lock");
                }
            });
        }
    }
}

/// Removes the lock whoever holds it; returns what was removed (`None` if there was no lock).
pub async fn unlock(store: &dyn ObjectStore, label: &str) -> Result<Option<LockInfo>> {
    let existing = read_lock(store, label).await?;
    match store.delete(&Path::from(LOCK_PATH)).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(source) => return Err(store_err("delete", label, source)),
    }
    if let Some(Some(info)) = &existing {
        warn!(repo = %label, holder = %info.holder, host = %info.hostname, pid = info.pid,
              purpose = %info.purpose, "removed repository lock");
    }
    Ok(existing.flatten())
}

/// Blocking [`unlock`], for callers outside async code.
pub fn unlock_blocking(
    store: &Arc<dyn ObjectStore>,
    label: &str,
    rt: &Handle,
) -> Result<Option<LockInfo>> {
    rt.block_on(unlock(store.as_ref(), label))
}

/// Reads the current lock: `None` if absent, `Some(None)` if unreadable.
pub async fn read_lock(store: &dyn ObjectStore, label: &str) -> Result<Option<Option<LockInfo>>> {
    let path = Path::from(LOCK_PATH);
    let bytes = match store.get(&path).await {
        Ok(r) => r.bytes().await.map_err(|e| store_err("get", label, e))?,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(store_err("get", label, e)),
    };
    Ok(Some(serde_json::from_slice(&bytes).ok()))
}

async fn acquire_async(
    store: &dyn ObjectStore,
    label: &str,
    purpose: &str,
    opts: &LockOptions,
) -> Result<LockInfo> {
    let now = opts.clock.now();
    let info = LockInfo {
        holder: holder_id(&opts.hostname, opts.pid),
        hostname: opts.hostname.clone(),
        pid: opts.pid,
        purpose: purpose.to_owned(),
        created: now,
        refreshed: now,
        pod: opts.pod.as_ref().map(|p| p.pod.clone()),
    };
    let body = serde_json::to_vec_pretty(&info).expect("LockInfo serialises");
    let path = Path::from(LOCK_PATH);
    // Bounded: each round either takes the lock, reports the holder, or removes a stale lock.
    for _ in 0..5 {
        let put = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match store
            .put_opts(&path, PutPayload::from(body.clone()), put)
            .await
        {
            Ok(_) => {
                debug!(repo = %label, purpose, holder = %info.holder, "repository lock taken");
                return Ok(info);
            }
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => {}
            Err(e) => return Err(store_err("put", label, e)),
        }
        let Some(existing) = read_lock(store, label).await? else {
            continue; // released meanwhile
        };
        let reason = match &existing {
            None => Some("its content is unreadable"),
            Some(held) => opts.is_stale(held).await,
        };
        match (existing, reason) {
            (Some(held), None) => {
                return Err(Error::Locked {
                    repo: label.to_owned(),
                    hostname: held.hostname,
                    pid: held.pid,
                    purpose: held.purpose,
                    since: held.created.to_rfc3339(),
                })
            }
            (held, reason) => {
                let reason = reason.unwrap_or("its content is unreadable");
                warn!(repo = %label, reason, holder = ?held.as_ref().map(|h| (&h.hostname, h.pid, &h.purpose, h.refreshed)),
                      "breaking stale repository lock");
                // Delete only what we judged stale: a fresh lock from a racing breaker survives.
                let holder = held.map(|h| h.holder).unwrap_or_default();
                delete_if_holder(store, label, &holder).await?;
            }
        }
    }
    Err(Error::Locked {
        repo: label.to_owned(),
        hostname: "another process".into(),
        pid: 0,
        purpose: "a contended operation".into(),
        since: opts.clock.now().to_rfc3339(),
    })
}

async fn refresh_loop(
    store: Arc<dyn ObjectStore>,
    label: String,
    info: LockInfo,
    clock: Arc<dyn Clock>,
    lost: Arc<AtomicBool>,
    every: Duration,
) {
    loop {
        tokio::time::sleep(every).await;
        match refresh_once(store.as_ref(), &label, &info, clock.as_ref()).await {
            Ok(true) => debug!(repo = %label, "repository lock refreshed"),
            Ok(false) => {
                error!(repo = %label, "repository lock was removed or taken over while held");
                lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(e) => {
                warn!(repo = %label, error = %e, "could not refresh repository lock; will retry")
            }
        }
    }
}

/// Rewrites `refreshed` if the lock is still ours; `false` if it is not.
async fn refresh_once(
    store: &dyn ObjectStore,
    label: &str,
    info: &LockInfo,
    clock: &dyn Clock,
) -> Result<bool> {
    match read_lock(store, label).await? {
        Some(Some(cur)) if cur.holder == info.holder => {}
        _ => return Ok(false),
    }
    let mut fresh = info.clone();
    fresh.refreshed = clock.now();
    let body = serde_json::to_vec_pretty(&fresh).expect("LockInfo serialises");
    store
        .put(&Path::from(LOCK_PATH), PutPayload::from(body))
        .await
        .map_err(|e| store_err("put", label, e))?;
    Ok(true)
}

async fn delete_if_ours(store: &dyn ObjectStore, label: &str, holder: &str) -> Result<()> {
    match read_lock(store, label).await? {
        Some(Some(cur)) if cur.holder == holder => delete_if_holder(store, label, holder).await,
        _ => Ok(()),
    }
}

async fn delete_if_holder(store: &dyn ObjectStore, label: &str, holder: &str) -> Result<()> {
    let current = read_lock(store, label).await?;
    let matches = match &current {
        None => return Ok(()),
        Some(None) => holder.is_empty(),
        Some(Some(cur)) => cur.holder == holder,
    };
    if !matches {
        return Ok(());
    }
    match store.delete(&Path::from(LOCK_PATH)).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(store_err("delete", label, e)),
    }
}

fn store_err(op: &'static str, label: &str, source: object_store::Error) -> Error {
    Error::Store {
        op,
        path: LOCK_PATH.to_owned(),
        repo: label.to_owned(),
        source: Box::new(source),
    }
}

fn holder_id(hostname: &str, pid: u32) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{hostname}-{pid}-{nanos:x}-{n}")
}

/// Whether a local process exists (Linux `/proc`); assumed alive where that cannot be told.
fn pid_alive(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use object_store::memory::InMemory;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    fn opts(clock: &ManualClock, host: &str, pid: u32) -> LockOptions {
        LockOptions {
            stale_after: Duration::from_secs(300),
            auto_refresh: false,
            clock: Arc::new(clock.clone()),
            hostname: host.into(),
            pid,
            pod: None,
        }
    }

    /// Pods the test says are running; any other pod is gone.
    struct Running(Vec<&'static str>);

    impl PodLiveness for Running {
        fn running<'a>(
            &'a self,
            ns: &'a str,
            name: &'a str,
        ) -> futures::future::BoxFuture<'a, Option<bool>> {
            let alive = self.0.contains(&format!("{ns}/{name}").as_str());
            Box::pin(async move { Some(alive) })
        }
    }

    fn in_pod(clock: &ManualClock, pod: &str, running: Vec<&'static str>) -> LockOptions {
        let name = pod.split('/').nth(1).unwrap_or(pod);
        LockOptions {
            pod: Some(PodIdentity {
                pod: pod.into(),
                liveness: Arc::new(Running(running)),
            }),
            ..opts(clock, name, 1)
        }
    }

    #[test]
    fn a_lock_whose_pod_is_gone_is_broken_and_a_running_pods_lock_is_not() {
        let rt = rt();
        let clock = ManualClock::new(Utc::now());
        // An executor pod killed mid-backup: its lock is fresh, its pod has terminated.
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let killed = LockGuard::acquire(
            store.clone(),
            "R",
            "backup",
            &in_pod(&clock, "ns/exec-1-abc", vec![]),
            rt.handle().clone(),
        )
        .unwrap();
        assert_eq!(killed.info().pod.as_deref(), Some("ns/exec-1-abc"));
        std::mem::forget(killed);
        let retry = LockGuard::acquire(
            store.clone(),
            "R",
            "backup",
            &in_pod(&clock, "ns/exec-2-def", vec!["ns/exec-2-def"]),
            rt.handle().clone(),
        )
        .expect("the retry breaks the lock of a pod that is gone");
        // The holder's pod still runs: refused, with the holder named.
        let err = LockGuard::acquire(
            store.clone(),
            "R",
            "prune",
            &in_pod(&clock, "ns/op-0", vec!["ns/exec-2-def"]),
            rt.handle().clone(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("exec-2-def"), "{err}");
        retry.release().unwrap();
        // A holder outside any pod is judged by the stale timeout only.
        let host = LockGuard::acquire(
            store.clone(),
            "R",
            "check",
            &opts(&clock, "laptop", 7),
            rt.handle().clone(),
        )
        .unwrap();
        assert!(LockGuard::acquire(
            store,
            "R",
            "backup",
            &in_pod(&clock, "ns/exec-3", vec![]),
            rt.handle().clone()
        )
        .is_err());
        host.release().unwrap();
    }

    #[test]
    fn second_holder_is_refused_with_a_helpful_message() {
        let rt = rt();
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let clock = ManualClock::new(Utc::now());
        let a = LockGuard::acquire(
            store.clone(),
            "R",
            "backup",
            &opts(&clock, "h1", 1),
            rt.handle().clone(),
        )
        .unwrap();
        clock.advance(chrono::Duration::seconds(60));
        let err = LockGuard::acquire(
            store.clone(),
            "R",
            "check",
            &opts(&clock, "h2", 2),
            rt.handle().clone(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("locked by h1 pid 1 for backup since"), "{err}");
        assert!(err.contains("cairn unlock --repo R"), "{err}");
        a.release().unwrap();
        let b = LockGuard::acquire(
            store.clone(),
            "R",
            "check",
            &opts(&clock, "h2", 2),
            rt.handle().clone(),
        )
        .unwrap();
        assert_eq!(b.info().purpose, "check");
        b.release().unwrap();
        assert!(rt
            .block_on(read_lock(store.as_ref(), "R"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn stale_lock_is_broken_and_old_holder_notices() {
        let rt = rt();
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let clock = ManualClock::new(Utc::now());
        let a = LockGuard::acquire(
            store.clone(),
            "R",
            "backup",
            &opts(&clock, "h1", 1),
            rt.handle().clone(),
        )
        .unwrap();
        clock.advance(chrono::Duration::seconds(200));
        a.refresh().unwrap(); // refreshed in time: still held
        clock.advance(chrono::Duration::seconds(200));
        assert!(LockGuard::acquire(
            store.clone(),
            "R",
            "x",
            &opts(&clock, "h2", 2),
            rt.handle().clone()
        )
        .is_err());
        clock.advance(chrono::Duration::seconds(301));
        let b = LockGuard::acquire(
            store.clone(),
            "R",
            "forget",
            &opts(&clock, "h2", 2),
            rt.handle().clone(),
        )
        .unwrap();
        assert!(matches!(a.refresh(), Err(Error::LockLost { .. })));
        a.release().unwrap(); // must not delete b's lock
        let held = rt
            .block_on(read_lock(store.as_ref(), "R"))
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(held.holder, b.info().holder);
        drop(b);
    }

    #[test]
    fn lock_of_a_dead_local_process_is_broken() {
        let rt = rt();
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let clock = ManualClock::new(Utc::now());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let _a = LockGuard::acquire(
            store.clone(),
            "R",
            "backup",
            &opts(&clock, "h", dead),
            rt.handle().clone(),
        )
        .unwrap();
        std::mem::forget(_a); // simulate a crash: the lock object stays
        let b = LockGuard::acquire(
            store.clone(),
            "R",
            "backup",
            &opts(&clock, "h", std::process::id()),
            rt.handle().clone(),
        );
        assert!(b.is_ok(), "{:?}", b.err());
    }

    #[test]
    fn unlock_removes_and_reports_the_holder() {
        let rt = rt();
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let clock = ManualClock::new(Utc::now());
        let a = LockGuard::acquire(
            store.clone(),
            "R",
            "check",
            &opts(&clock, "h1", 7),
            rt.handle().clone(),
        )
        .unwrap();
        let removed = rt.block_on(unlock(store.as_ref(), "R")).unwrap().unwrap();
        assert_eq!((removed.hostname.as_str(), removed.pid), ("h1", 7));
        assert!(rt.block_on(unlock(store.as_ref(), "R")).unwrap().is_none());
        assert!(matches!(a.refresh(), Err(Error::LockLost { .. })));
    }

    #[test]
    fn local_filesystem_supports_create_if_absent() {
        let rt = rt();
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn ObjectStore> =
            Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap());
        let clock = ManualClock::new(Utc::now());
        let a = LockGuard::acquire(
            store.clone(),
            "R",
            "backup",
            &opts(&clock, "h1", 1),
            rt.handle().clone(),
        )
        .unwrap();
        assert!(LockGuard::acquire(
            store.clone(),
            "R",
            "x",
            &opts(&clock, "h2", 2),
            rt.handle().clone()
        )
        .is_err());
        a.release().unwrap();
        assert!(!dir.path().join(LOCK_PATH).exists());
    }
}
