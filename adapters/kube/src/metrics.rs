//! Prometheus metrics (prometheus-client) and the `/metrics`, `/healthz`, `/readyz`
//! endpoints.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use cairn_core::job::JobKey;
use cairn_core::plan::size::parse_size;
use cairn_core::world::World;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of per-repository gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RepoLabels {
    /// Namespace.
    pub namespace: String,
    /// Repository name.
    pub repository: String,
}

/// Label of the reconcile-error counter: the error's category.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// [`crate::Error::category`].
    pub category: String,
}

/// Label of the session-duration histogram: `backup` or `restore`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SessionLabels {
    /// Job kind.
    pub kind: String,
}

/// Every metric the operator exports.
pub struct Metrics {
    registry: Registry,
    reconciles: Counter,
    errors: Family<ErrorLabels, Counter>,
    session_duration: Family<SessionLabels, Histogram>,
    last_success: Family<RepoLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    size: Family<RepoLabels, Gauge>,
    snapshots: Family<RepoLabels, Gauge>,
    timed: Mutex<BTreeSet<JobKey>>,
    /// Set once the reflector stores are synced.
    pub ready: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("cairn");
        let reconciles = Counter::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let session_duration = Family::<SessionLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(1.0, 2.0, 16))
        });
        let last_success = Family::default();
        let size = Family::default();
        let snapshots = Family::default();
        registry.register("reconciles", "Reconciles run", reconciles.clone());
        registry.register(
            "reconcile_errors",
            "Reconcile errors by category",
            errors.clone(),
        );
        registry.register(
            "session_duration_seconds",
            "Duration of finished executor jobs",
            session_duration.clone(),
        );
        registry.register(
            "last_successful_backup_timestamp_seconds",
            "Time of the last successful backup per repository",
            last_success.clone(),
        );
        registry.register("repository_size_bytes", "Repository size", size.clone());
        registry.register(
            "repository_snapshots",
            "Snapshots per repository",
            snapshots.clone(),
        );
        Self {
            registry,
            reconciles,
            errors,
            session_duration,
            last_success,
            size,
            snapshots,
            timed: Mutex::default(),
            ready: AtomicBool::new(false),
        }
    }
}

impl Metrics {
    /// Counts a reconcile.
    pub fn reconciled(&self) {
        self.reconciles.inc();
    }

    /// Counts a reconcile error of `category`.
    pub fn error(&self, category: &str) {
        self.errors
            .get_or_create(&ErrorLabels {
                category: category.to_owned(),
            })
            .inc();
    }

    /// Updates the gauges from the world, and observes each job's duration once.
    pub fn observe_world(&self, world: &World) {
        for repo in world.repositories.values() {
            let labels = RepoLabels {
                namespace: repo.metadata.namespace.clone().unwrap_or_default(),
                repository: repo.metadata.name.clone().unwrap_or_default(),
            };
            let Some(status) = &repo.status else { continue };
            if let Some(t) = status.last_backup_time {
                self.last_success
                    .get_or_create(&labels)
                    .set(t.timestamp() as f64);
            }
            if let Ok(bytes) = parse_size(&status.size) {
                self.size
                    .get_or_create(&labels)
                    .set(i64::try_from(bytes).unwrap_or(i64::MAX));
            }
            if let Some(count) = status.snapshot_count {
                self.snapshots.get_or_create(&labels).set(i64::from(count));
            }
        }
        let mut timed = self.timed.lock().unwrap_or_else(|e| e.into_inner());
        for (key, job) in &world.jobs {
            let (Some(start), Some(end)) = (job.started_at, job.finished_at) else {
                continue;
            };
            if timed.insert(key.clone()) {
                let kind = crate::objects::job_kind_label(key.kind).to_owned();
                let seconds = (end - start).num_milliseconds() as f64 / 1000.0;
                self.session_duration
                    .get_or_create(&SessionLabels { kind })
                    .observe(seconds);
            }
        }
        timed.retain(|k| world.jobs.contains_key(k));
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The HTTP endpoints: `/metrics`, `/healthz` (alive), `/readyz` (stores synced).
pub fn router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(m): State<Arc<Metrics>>| async move { m.render() }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|State(m): State<Arc<Metrics>>| async move {
                if m.ready.load(Ordering::SeqCst) {
                    (StatusCode::OK, "ready")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "stores not synced")
                }
            }),
        )
        .with_state(metrics)
}
