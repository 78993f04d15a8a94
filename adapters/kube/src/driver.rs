//! The reconcile loop every controller runs: observe → `reconcile` → translate →
//! execute → apply, until the plan is empty (bounded), then the next wake-up.

use std::sync::atomic::{AtomicBool, Ordering};

use cairn_core::api::Kind;
use cairn_core::drive::backoff::{subject, Backoff};
use cairn_core::drive::io::effect_name;
use cairn_core::drive::settle::{Broken, Checks, Rounds};
use cairn_core::effect::Effect;
use cairn_core::reconcile::hook_support::{resolve, HookRunner};
use cairn_core::world::{observe, Fact, ObjectKey, Outcome, Stored, World};
use cairn_job::hook::hook_finished;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tracing::{debug, error, info, warn};

use crate::backend::{fact_for, BackendIo};

use crate::error::{Error, Result};
use crate::execute;
use crate::objects::Config;
use crate::observe::{adopted_jobs, job_facts, refresh, Observed, Written};
use crate::tasks::Tasks;
use crate::translate::{translate, Action};

/// Longest one backend request (a `metadata.yaml` write, a forget and prune) may take.
const BACKEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// What a reconcile did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Effects carried out, in order (their `Debug` names, for logs and tests).
    pub effects: Vec<String>,
    /// When to reconcile again at the latest.
    pub next_wakeup: Option<DateTime<Utc>>,
    /// Whether the plan was still not empty after the core's most rounds.
    pub unsettled: bool,
    /// Requests refused or unanswered, each holding back its own object only.
    pub refused: Vec<Refusal>,
}

/// A write the API server refused or could not answer, and the object it held back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The object whose effects wait (kind, namespace, name).
    pub object: cairn_core::world::ObjectRef,
    /// The error's category (metric label, Event reason).
    pub category: &'static str,
    /// What failed, for the log and the Event.
    pub message: String,
    /// Refusals of this object in a row.
    pub count: u32,
}

/// The operator's memory: the world (objects refreshed from the stores each time, plus
/// facts that live nowhere else) and its own recent writes.
#[derive(Debug, Default)]
pub struct Driver {
    /// The core's world.
    pub world: World,
    /// Writes not yet seen by the stores.
    pub written: Written,
    /// Object settings.
    pub cfg: Config,
    /// Objects whose last write was refused, waiting out their backoff.
    pub backoff: Backoff,
    /// Hooks running off the reconcile, and their facts once finished.
    pub tasks: Tasks,
}

fn fact_name(fact: &Fact) -> String {
    match fact {
        Fact::ExecutorJobSeen { spec } => format!("{}/{}", spec.key.namespace, spec.key.session),
        other => format!("{other:?}").chars().take(80).collect(),
    }
}

impl Driver {
    /// A driver with `cfg` and an empty world.
    pub fn new(cfg: Config) -> Self {
        let mut driver = Self {
            cfg,
            ..Self::default()
        };
        driver.world.hook_runner = HookRunner::Operator;
        driver
    }

    /// The same driver, announcing each finished task's end on the stream `tasks` came
    /// with (the operator reconciles on it).
    pub fn with_tasks(mut self, tasks: Tasks) -> Self {
        self.tasks = tasks;
        self
    }

    /// One reconcile of the whole world at `now`. Stops with [`Error::NotLeader`] as soon
    /// as `leader` turns false, before the next request.
    pub async fn reconcile(
        &mut self,
        client: &kube::Client,
        backend: &dyn BackendIo,
        observed: &Observed,
        now: DateTime<Utc>,
        leader: &AtomicBool,
    ) -> Result<Report> {
        self.written.expire(now);
        refresh(&mut self.world, &self.written, observed);
        for fact in adopted_jobs(&self.world, &observed.jobs) {
            info!(fact = ?fact_name(&fact), "adopting an executor Job started before this operator");
            observe(&mut self.world, fact);
        }
        let jobs = job_facts(&self.world, &observed.jobs, now);
        for fact in jobs.facts.into_iter().chain(self.tasks.take()) {
            observe(&mut self.world, fact);
        }
        let mut report = Report::default();
        // The core's turn, one effect at a time: each is carried out before it counts. A
        // refused request holds back its own object (with backoff), never the others.
        let mut rounds = Rounds::holding(Checks::AtRest, self.backoff.waiting(now));
        while let Some(effect) = rounds.next(&self.world, now) {
            if !leader.load(Ordering::SeqCst) {
                return Err(Error::NotLeader("lease lost during a reconcile".to_owned()));
            }
            report.effects.push(effect_name(&effect).to_owned());
            let object = subject(&effect);
            match self
                .carry_out(client, backend, &mut rounds, effect.clone(), now)
                .await
            {
                Ok(()) => self.backoff.accepted(&object),
                Err(e @ Error::NotLeader(_)) => return Err(e),
                Err(e) => {
                    rounds.refused(&effect);
                    let retry_at = self.backoff.refused(object.clone(), now);
                    let count = self.backoff.refusals(&object);
                    warn!(kind = ?object.kind, namespace = %object.key.namespace, name = %object.key.name,
                          error = %e, refusals = count, retry_in_ms = (retry_at - now).num_milliseconds(),
                          "request refused; this object waits, the others go on");
                    report.refused.push(Refusal {
                        object,
                        category: e.category(),
                        message: e.to_string(),
                        count,
                    });
                }
            }
        }
        let turn = rounds.finish();
        report.next_wakeup = [
            turn.next_wakeup,
            jobs.recheck_at,
            self.backoff.next_retry(now),
        ]
        .into_iter()
        .flatten()
        .min();
        match turn.broken {
            Some(Broken::Livelock(what)) => {
                warn!("{what}; requeueing soon");
                report.unsettled = true;
            }
            Some(Broken::Invariant(v)) => {
                error!(violation = %v, "core invariant broken; please report it")
            }
            None => {}
        }
        Ok(report)
    }

    /// Carries out `effect` and reports it to `rounds` (which applies it to the world);
    /// an `Err` leaves the world as it was, and the next reconcile plans it again.
    async fn carry_out(
        &mut self,
        client: &kube::Client,
        backend: &dyn BackendIo,
        rounds: &mut Rounds,
        effect: Effect,
        now: DateTime<Utc>,
    ) -> Result<()> {
        match translate(&effect, &self.world, &self.cfg, now)? {
            // Events are best-effort, as upstream's event recorder: a refused or failed
            // Event must never stop the reconcile that reports progress through it.
            Action::Api(requests) if matches!(effect, Effect::Emit(_)) => {
                for request in &requests {
                    if let Err(e) = execute::send(client, request).await {
                        warn!(error = %e, path = %request.path, "could not record an event");
                    }
                }
                rounds.carried_out(&mut self.world, effect);
            }
            Action::Api(requests) => {
                for request in &requests {
                    debug!(method = ?request.method, path = %request.path, "request");
                    if let Some(answer) = execute::send(client, request).await? {
                        self.record(&answer, now);
                    }
                }
                rounds.carried_out(&mut self.world, effect);
            }
            Action::Backend(effect) => {
                // Off the reconcile, bounded: the core knows it is in flight and waits
                // for its fact; a backend that hangs answers Failed after the bound.
                let work = backend.prepare(&self.world, &effect, now);
                rounds.carried_out(&mut self.world, (*effect).clone());
                if let Some(work) = work {
                    let name = effect_name(&effect);
                    self.tasks.spawn(async move {
                        match tokio::time::timeout(BACKEND_TIMEOUT, work).await {
                            Ok(fact) => {
                                info!(effect = %name, "backend IO done");
                                fact
                            }
                            Err(_) => {
                                warn!(effect = %name, timeout = ?BACKEND_TIMEOUT, "backend IO timed out");
                                fact_for(
                                    &effect,
                                    Outcome::Failed(format!(
                                        "{name} did not finish within {} minutes: is the storage reachable from the operator's pod?",
                                        BACKEND_TIMEOUT.as_secs() / 60
                                    )),
                                    now,
                                )
                            }
                        }
                    });
                }
            }
            Action::Hook(spec) => {
                // Executor type Operator: the exec command runs in this pod, off the
                // reconcile (validation refused every other kind before the session).
                let action = resolve(&self.world, &spec);
                rounds.carried_out(&mut self.world, effect);
                info!(hook = %spec.key.name, session = %spec.key.session.key, "running hook in the operator");
                self.tasks
                    .spawn(async move { Some(hook_finished(spec, action).await) });
            }
            Action::Memory => rounds.carried_out(&mut self.world, effect),
        }
        Ok(())
    }

    /// Keeps an object the server answered with (newer than the stores, for a while).
    fn record(&mut self, answer: &Value, now: DateTime<Utc>) {
        let api_version = answer["apiVersion"].as_str().unwrap_or_default();
        let kind = answer["kind"].as_str().unwrap_or_default();
        let Some(kind) = Kind::from_type_meta(api_version, kind) else {
            return;
        };
        fn put<T: Stored>(d: &mut Driver, answer: &Value, now: DateTime<Utc>) {
            let Ok(object) = serde_json::from_value::<T>(answer.clone()) else {
                return;
            };
            let meta = kube::Resource::meta(&object);
            let key = ObjectKey::of(meta);
            if let Some(rv) = meta
                .resource_version
                .as_deref()
                .and_then(|v| v.parse().ok())
            {
                d.written.record(T::KIND, key.clone(), rv, now);
            }
            T::map_mut(&mut d.world).insert(key, object);
        }
        use cairn_core::api as a;
        match kind {
            Kind::BackupStorage => put::<a::BackupStorage>(self, answer, now),
            Kind::Repository => put::<a::Repository>(self, answer, now),
            Kind::Snapshot => put::<a::Snapshot>(self, answer, now),
            Kind::RetentionPolicy => put::<a::RetentionPolicy>(self, answer, now),
            Kind::BackupConfiguration => put::<a::BackupConfiguration>(self, answer, now),
            Kind::BackupSession => put::<a::BackupSession>(self, answer, now),
            Kind::RestoreSession => put::<a::RestoreSession>(self, answer, now),
            Kind::HookTemplate => put::<a::HookTemplate>(self, answer, now),
            Kind::Addon => put::<a::Addon>(self, answer, now),
            Kind::Function => put::<a::Function>(self, answer, now),
            Kind::AppBinding => put::<a::AppBinding>(self, answer, now),
        }
    }
}
