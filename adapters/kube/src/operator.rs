//! The running operator: a reflector per kind, one coalesced loop that runs
//! [`Driver::reconcile`] over the whole world whenever anything changed (any number of
//! changes since the last turn make one turn, not one per object), leader election,
//! metrics and graceful shutdown.

use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cairn_core::api::{
    Addon, AppBinding, BackupConfiguration, BackupSession, BackupStorage, Function, HookTemplate,
    Repository, RestoreSession, RetentionPolicy, Snapshot,
};
use chrono::Utc;
use futures::stream::{self, BoxStream};
use futures::{Future, StreamExt};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::{Mutex, Notify};
use tracing::{debug, info, warn};

use crate::backend::BackendIo;
use crate::driver::{Driver, Refusal};
use crate::metrics::Metrics;
use crate::objects::{Config, JOB_KIND_LABEL, MANAGED_BY_CAIRN};
use crate::observe::Observed;
use crate::request::Request;
use crate::resource::EVENTS;
use crate::secrets::SecretReader;
use crate::tasks::Tasks;

/// Requeue when the core names no wake-up.
const IDLE_REQUEUE: Duration = Duration::from_secs(300);
/// Requeue while the reflector stores have not listed everything yet.
const SYNC_REQUEUE: Duration = Duration::from_millis(500);
/// Requeue after an error, or while not the leader.
const RETRY_REQUEUE: Duration = Duration::from_secs(5);

/// Reflector stores of every kind the world holds.
#[derive(Clone)]
pub struct Stores {
    backup_storages: Store<BackupStorage>,
    repositories: Store<Repository>,
    snapshots: Store<Snapshot>,
    retention_policies: Store<RetentionPolicy>,
    backup_configurations: Store<BackupConfiguration>,
    backup_sessions: Store<BackupSession>,
    restore_sessions: Store<RestoreSession>,
    hook_templates: Store<HookTemplate>,
    addons: Store<Addon>,
    functions: Store<Function>,
    app_bindings: Store<AppBinding>,
    /// Metadata only: the referenced ones are read by name ([`SecretReader`]).
    secrets: Store<PartialObjectMeta<Secret>>,
    namespaces: Store<Namespace>,
    jobs: Store<Job>,
    cron_jobs: Store<CronJob>,
}

fn all<K>(s: &Store<K>) -> Vec<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    s.state().iter().map(|o| (**o).clone()).collect()
}

impl Stores {
    /// A consistent-enough copy of every store.
    pub fn observed(&self) -> Observed {
        Observed {
            backup_storages: all(&self.backup_storages),
            repositories: all(&self.repositories),
            snapshots: all(&self.snapshots),
            retention_policies: all(&self.retention_policies),
            backup_configurations: all(&self.backup_configurations),
            backup_sessions: all(&self.backup_sessions),
            restore_sessions: all(&self.restore_sessions),
            hook_templates: all(&self.hook_templates),
            addons: all(&self.addons),
            functions: all(&self.functions),
            app_bindings: all(&self.app_bindings),
            // Filled by name for each turn (see `reconcile_world`).
            secrets: Vec::new(),
            namespaces: all(&self.namespaces),
            jobs: all(&self.jobs),
            cron_jobs: all(&self.cron_jobs),
        }
    }

    /// Waits until every store has its first complete list, logging each one as it gets it
    /// and, every 15 s, the ones still waiting (a store that never syncs keeps the operator
    /// idle: its reconciles wait for all of them).
    async fn wait_until_ready(&self) {
        use futures::future::FutureExt as _;
        let named: Vec<(&'static str, futures::future::BoxFuture<'static, ()>)> = vec![
            ready("backupstorages", &self.backup_storages),
            ready("repositories", &self.repositories),
            ready("snapshots", &self.snapshots),
            ready("retentionpolicies", &self.retention_policies),
            ready("backupconfigurations", &self.backup_configurations),
            ready("backupsessions", &self.backup_sessions),
            ready("restoresessions", &self.restore_sessions),
            ready("hooktemplates", &self.hook_templates),
            ready("addons", &self.addons),
            ready("functions", &self.functions),
            ready("appbindings", &self.app_bindings),
            ready("secrets", &self.secrets),
            ready("namespaces", &self.namespaces),
            ready("jobs", &self.jobs),
            ready("cronjobs", &self.cron_jobs),
        ];
        let pending = Arc::new(std::sync::Mutex::new(
            named
                .iter()
                .map(|(n, _)| *n)
                .collect::<std::collections::BTreeSet<_>>(),
        ));
        let waits = named.into_iter().map(|(name, wait)| {
            let pending = pending.clone();
            wait.map(move |()| {
                if let Ok(mut p) = pending.lock() {
                    p.remove(name);
                }
                debug!(store = name, "store synced");
            })
        });
        let all = futures::future::join_all(waits);
        tokio::pin!(all);
        loop {
            tokio::select! {
                _ = &mut all => return,
                () = tokio::time::sleep(Duration::from_secs(15)) => {
                    let waiting: Vec<&str> = pending.lock().map(|p| p.iter().copied().collect()).unwrap_or_default();
                    warn!(stores = ?waiting, "still waiting for the first list of these stores");
                }
            }
        }
    }
}

fn ready<K>(
    name: &'static str,
    store: &Store<K>,
) -> (&'static str, futures::future::BoxFuture<'static, ()>)
where
    K: Resource + Clone + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Send + Sync,
{
    use futures::future::FutureExt as _;
    let store = store.clone();
    (
        name,
        async move {
            let _ = store.wait_until_ready().await;
        }
        .boxed(),
    )
}

/// Shared state of the reconcile loop.
pub struct Context {
    /// API client.
    pub client: Client,
    /// The world and its driver; one reconcile at a time.
    pub driver: Mutex<Driver>,
    /// Reflector stores.
    pub stores: Stores,
    /// Backend IO.
    pub backend: Arc<dyn BackendIo>,
    /// Whether this replica holds the lease.
    pub leader: Arc<AtomicBool>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// This replica's name in Events (the API server requires one).
    pub reporting_instance: String,
    /// The Secrets the control plane reads, by name.
    pub secret_reader: SecretReader,
}

/// A reflector on `api`, and a stream of `()` each time it changes.
fn reflect<K>(api: Api<K>, cfg: watcher::Config) -> (Store<K>, BoxStream<'static, ()>)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    let changes = reflector::reflector(writer, lean_watcher(api, cfg))
        .default_backoff()
        .touched_objects()
        .filter_map(|r| async move {
            match r {
                Ok(_) => Some(()),
                Err(e) => {
                    // A kind whose list keeps failing (an object that does not parse, a
                    // missing permission) never syncs: say which and why.
                    warn!(kind = %K::kind(&()), error = %e, "watch failed; retrying with backoff");
                    None
                }
            }
        })
        .boxed();
    (reader, changes)
}

/// A watcher whose objects carry no `managedFields` (server-side apply bookkeeping,
/// often larger than the object; nothing here reads it).
fn lean_watcher<K>(
    api: Api<K>,
    cfg: watcher::Config,
) -> impl futures::Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    watcher(api, cfg).modify(|o| o.meta_mut().managed_fields = None)
}

/// One turn over the whole world; how long until the next one at the latest.
async fn reconcile_world(ctx: &Context) -> Duration {
    if !ctx.leader.load(Ordering::SeqCst) {
        return RETRY_REQUEUE;
    }
    // A world built from half-synced stores would miss objects that exist (and plan to
    // create them again, or see a Job as gone): wait for every store's first list.
    if !ctx.metrics.ready.load(Ordering::SeqCst) {
        return SYNC_REQUEUE;
    }
    let mut observed = ctx.stores.observed();
    observed.secrets = ctx
        .secret_reader
        .referenced(
            &ctx.client,
            &ctx.stores.secrets,
            &observed.backup_storages,
            &observed.repositories,
        )
        .await;
    let now = Utc::now();
    let mut driver = ctx.driver.lock().await;
    ctx.metrics.reconciled();
    let result = driver
        .reconcile(
            &ctx.client,
            ctx.backend.as_ref(),
            &observed,
            now,
            &ctx.leader,
        )
        .await;
    ctx.metrics.observe_world(&driver.world);
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            // Refusals of single objects are in the report; what ends up here ends
            // the whole turn (the lease lost, a request that could not be built).
            warn!(error = %e, category = e.category(), "reconcile failed");
            ctx.metrics.error(e.category());
            return RETRY_REQUEUE;
        }
    };
    report_refusals(ctx, &driver.world, &report.refused);
    if !report.effects.is_empty() {
        info!(effects = ?report.effects, "applied");
    }
    match report.next_wakeup {
        _ if report.unsettled => RETRY_REQUEUE,
        Some(at) => (at - now)
            .to_std()
            .unwrap_or(Duration::from_secs(1))
            .max(Duration::from_secs(1)),
        None => IDLE_REQUEUE,
    }
}

/// Records a Warning Event about `regarding` (best effort, in the background).
fn warning_event(ctx: &Context, regarding: serde_json::Value, reason: &str, note: &str) {
    let namespace = regarding["namespace"]
        .as_str()
        .filter(|n| !n.is_empty())
        .unwrap_or("default")
        .to_owned();
    let name = regarding["name"].as_str().unwrap_or("cairn").to_owned();
    // events.k8s.io/v1 refuses a note over 1 kB.
    let note: String = note.chars().take(1024).collect();
    let body = serde_json::json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": { "generateName": format!("{name}."), "namespace": namespace },
        "eventTime": Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "type": "Warning",
        "reason": reason,
        "action": "Reconcile",
        "note": note,
        "regarding": regarding,
        "reportingController": "cairn.kubestash.com/operator",
        "reportingInstance": ctx.reporting_instance,
    });
    let client = ctx.client.clone();
    tokio::spawn(async move {
        let request = Request::create(&EVENTS, &namespace, body);
        if let Err(e) = crate::execute::send(&client, &request).await {
            warn!(error = %e, "could not record the error event");
        }
    });
}

/// Counts each refused request and tells the user on the object it held back: on the
/// first refusal and then every tenth, so a long outage does not flood the Events.
fn report_refusals(ctx: &Context, world: &cairn_core::world::World, refused: &[Refusal]) {
    for r in refused {
        ctx.metrics.error(r.category);
        if r.count != 1 && r.count % 10 != 0 {
            continue;
        }
        let uid = world.meta_of(&r.object).and_then(|m| m.uid.clone());
        let regarding = serde_json::json!({
            "apiVersion": r.object.kind.api_version(), "kind": r.object.kind.name(),
            "name": r.object.key.name, "namespace": r.object.key.namespace, "uid": uid,
        });
        let note = format!(
            "{} (attempt {}; this object is retried with backoff, other objects are not affected)",
            r.message, r.count
        );
        warning_event(ctx, regarding, r.category, &note);
    }
}

/// Runs the controllers until `shutdown` resolves.
pub async fn run_controllers(
    client: Client,
    cfg: Config,
    backend: Arc<dyn BackendIo>,
    leader: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + Sync + Clone + 'static,
) {
    let wc = watcher::Config::default;
    let (backup_storages, t0) = reflect(Api::<BackupStorage>::all(client.clone()), wc());
    let (repositories, t1) = reflect(Api::<Repository>::all(client.clone()), wc());
    let (backup_configurations, t2) =
        reflect(Api::<BackupConfiguration>::all(client.clone()), wc());
    let (backup_sessions, t3) = reflect(Api::<BackupSession>::all(client.clone()), wc());
    let (snapshots, t4) = reflect(Api::<Snapshot>::all(client.clone()), wc());
    let (restore_sessions, t5) = reflect(Api::<RestoreSession>::all(client.clone()), wc());
    let (retention_policies, t6) = reflect(Api::<RetentionPolicy>::all(client.clone()), wc());
    let (hook_templates, t7) = reflect(Api::<HookTemplate>::all(client.clone()), wc());
    let (addons, t8) = reflect(Api::<Addon>::all(client.clone()), wc());
    let (functions, t9) = reflect(Api::<Function>::all(client.clone()), wc());
    let (app_bindings, t10) = reflect(Api::<AppBinding>::all(client.clone()), wc());
    // Metadata-only lists and watches (`as=PartialObjectMetadataList`): no Secret data.
    let (secrets, t11) = reflect(Api::<PartialObjectMeta<Secret>>::all(client.clone()), wc());
    let (namespaces, t12) = reflect(Api::<Namespace>::all(client.clone()), wc());
    let (jobs, t13) = reflect(Api::<Job>::all(client.clone()), wc().labels(JOB_KIND_LABEL));
    let managed = format!("{}={MANAGED_BY_CAIRN}", cairn_core::api::label::MANAGED_BY);
    let (cron_jobs, t14) = reflect(Api::<CronJob>::all(client.clone()), wc().labels(&managed));
    let stores = Stores {
        backup_storages,
        repositories,
        snapshots,
        retention_policies,
        backup_configurations,
        backup_sessions,
        restore_sessions,
        hook_templates,
        addons,
        functions,
        app_bindings,
        secrets,
        namespaces,
        jobs,
        cron_jobs,
    };
    let (tasks, finished) = Tasks::with_wake_ups();
    let ctx = Arc::new(Context {
        reporting_instance: cfg.reporting_instance.clone(),
        client,
        driver: Mutex::new(Driver::new(cfg).with_tasks(tasks)),
        stores: stores.clone(),
        backend,
        leader,
        metrics: metrics.clone(),
        secret_reader: SecretReader::default(),
    });
    // Every reflector's changes and every finished background task: the streams are
    // polled on their own task, so stores stay current while a turn runs, and the one
    // stored permit of `changed` folds any number of changes into the next turn.
    let changes = stream::select_all([
        t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, finished,
    ]);
    let changed = Arc::new(Notify::new());
    let poller = {
        let changed = changed.clone();
        tokio::spawn(changes.for_each(move |()| {
            changed.notify_one();
            futures::future::ready(())
        }))
    };
    tokio::spawn(async move {
        stores.wait_until_ready().await;
        metrics.ready.store(true, Ordering::SeqCst);
        info!("reflector stores synced");
    });
    tokio::pin!(shutdown);
    let mut wait = SYNC_REQUEUE;
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            () = changed.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
        // A turn runs to its end before shutdown is looked at again (the executor Jobs
        // it started are recorded; a turn cut in the middle would not be).
        wait = reconcile_world(&ctx).await;
    }
    poller.abort();
}
