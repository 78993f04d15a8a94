//! The local control loop: the core's decisions driven with the real clock.
//!
//! One turn: observe facts → `reconcile`/`apply` until the plan is empty (bounded) →
//! persist the world → dispatch the IO effects of the turn → wait for a task's facts,
//! the core's next wakeup, or a stop request. The world is persisted before any IO
//! starts, so a crash never loses a decision whose effects already ran; effects are
//! idempotent, so replaying them after a restart is safe.

use std::time::{Duration, Instant};

use cairn_core::drive::io::{effect_name, Io};
use cairn_core::drive::restart::resume_in_process_work;
use cairn_core::drive::settle::{self as drive, Broken, Checks};
use cairn_core::effect::Effect;
use cairn_core::world::{observe, Fact, World};
use chrono::{DateTime, Utc};
use tracing::{debug, error, info, warn};

use crate::clock;
use crate::executor::Executor;
use crate::runtime_once::{waiting_for, Failures};

/// Where the world lives between turns (the state directory, or memory in tests).
pub trait StateStore {
    /// One turn under the store's writer lock: observe what other commands wrote since
    /// the last save (`cairn apply`, `delete`, `trigger`) into `world`, run `step`,
    /// then write the world crash-safely. Returns whether other commands changed it.
    fn turn(
        &mut self,
        world: &mut World,
        now: DateTime<Utc>,
        step: &mut dyn FnMut(&mut World),
    ) -> Result<bool, String>;

    /// Writes the world (crash-safely) outside a turn (on stop).
    fn save(&mut self, world: &World) -> Result<(), String>;
}

/// How the loop ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// `--once`: every session is terminal; the failed ones are listed.
    Done {
        /// Sessions that failed for good.
        failed: Vec<String>,
    },
    /// Stopped on request (SIGTERM/SIGINT).
    Stopped,
    /// `--once` made no progress for the stall limit; what it waited for.
    Stalled {
        /// Objects not yet where `--once` needs them.
        waiting: Vec<String>,
    },
}

/// Why the loop could not continue.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The state could not be written or read.
    #[error("state directory: {0}")]
    Store(String),
}

/// Loop settings.
#[derive(Clone, Debug)]
pub struct LoopOptions {
    /// Exit once every session is terminal.
    pub once: bool,
    /// `--once` gives up after this long without any change while nothing runs.
    pub stall_after: Duration,
}

impl Default for LoopOptions {
    fn default() -> Self {
        Self {
            once: false,
            stall_after: Duration::from_secs(60),
        }
    }
}

/// The control loop over a world.
pub struct Runtime<S: StateStore> {
    /// The world (public for tests and the CLI's final report).
    pub world: World,
    store: S,
    executor: Executor,
    options: LoopOptions,
    failures: Failures,
    /// IO effects of `recover`, for the first turn.
    resumed: Vec<Effect>,
}

impl<S: StateStore> Runtime<S> {
    /// A loop over `world` (as loaded from `store`).
    pub fn new(world: World, store: S, executor: Executor, options: LoopOptions) -> Self {
        Self {
            failures: Failures::since(&world),
            world,
            store,
            executor,
            options,
            resumed: Vec::new(),
        }
    }

    /// After a restart: the jobs and hooks the previous process ran died with it. The core
    /// decides what follows (`drive::restart`): jobs run again once, then count as vanished.
    /// The jobs to run again are dispatched by the first turn, after the world is saved,
    /// so a crash during the rerun cannot grant another one.
    pub fn recover(&mut self, now: DateTime<Utc>) {
        let resumed = resume_in_process_work(&mut self.world, now);
        for job in &resumed.rerun {
            warn!(job = %job.session, kind = ?job.kind, "executor job stopped with the previous run; running it again");
        }
        for job in &resumed.vanished {
            warn!(job = %job.session, kind = ?job.kind, "executor job of a previous run is gone");
        }
        self.resumed = resumed.effects;
    }

    /// Records user facts (manifests applied on start).
    pub fn observe_all(&mut self, facts: impl IntoIterator<Item = Fact>) {
        for fact in facts {
            observe(&mut self.world, fact);
        }
    }

    /// Runs until `--once` is done, a stop is requested, or `--once` stalls.
    pub async fn run(
        &mut self,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<Exit, RuntimeError> {
        tokio::pin!(stop);
        let mut last_change = Instant::now();
        loop {
            while let Some(facts) = self.executor.try_next() {
                self.observe_all(facts);
                last_change = Instant::now();
            }
            let now = clock::now();
            let mut settled = (Vec::new(), None);
            let changed_by_user = self
                .store
                .turn(&mut self.world, now, &mut |world| {
                    settled = settle(world, now)
                })
                .map_err(RuntimeError::Store)?;
            let (mut io, wakeup) = settled;
            if !self.resumed.is_empty() {
                io.splice(0..0, std::mem::take(&mut self.resumed));
            }
            let mut immediate = Vec::new();
            for effect in &io {
                immediate.extend(self.executor.dispatch(&self.world, effect));
            }
            if !io.is_empty() || changed_by_user {
                last_change = Instant::now();
            }
            if !immediate.is_empty() {
                self.observe_all(immediate);
                continue;
            }
            self.failures.record(&self.world);
            if self.options.once && !self.executor.busy() {
                let waiting = waiting_for(&self.world);
                if waiting.is_empty() {
                    return Ok(Exit::Done {
                        failed: self.failures.sessions.iter().cloned().collect(),
                    });
                }
                if last_change.elapsed() >= self.options.stall_after {
                    return Ok(Exit::Stalled { waiting });
                }
            }
            let sleep = clock::until(wakeup, clock::now());
            // A stop request wins over more work: with many schedules another task result
            // or wakeup is nearly always ready too, and a random pick delayed SIGTERM by
            // several slow turns, each creating sessions.
            tokio::select! {
                biased;
                () = &mut stop => {
                    info!("stop requested: stopping running tasks and saving the state");
                    self.executor.shutdown().await;
                    self.store.save(&self.world).map_err(RuntimeError::Store)?;
                    return Ok(Exit::Stopped);
                }
                facts = self.executor.next(), if self.executor.busy() => {
                    if let Some(facts) = facts {
                        self.observe_all(facts);
                    }
                    last_change = Instant::now();
                }
                () = tokio::time::sleep(sleep) => {}
            }
        }
    }
}

/// One turn of the core's driver; returns the IO effects to run and the core's next
/// wakeup. Object effects need no IO here: the world they changed is saved by the turn.
pub fn settle(world: &mut World, now: DateTime<Utc>) -> (Vec<Effect>, Option<DateTime<Utc>>) {
    let turn = drive::settle(world, now, Checks::AtRest);
    for effect in &turn.effects {
        debug!(effect = effect_name(effect), "applied");
    }
    match &turn.broken {
        Some(Broken::Invariant(v)) => {
            error!(violation = %v, "core invariant broken; please report it")
        }
        Some(Broken::Livelock(what)) => warn!("{what}; continuing next turn"),
        None => {}
    }
    let io = turn.needing(LOCAL_IO).cloned().collect();
    (io, turn.next_wakeup)
}

/// The IO the local daemon carries out itself (objects live in the saved world, schedules
/// are its own timer).
const LOCAL_IO: &[Io] = &[Io::Backend, Io::Job, Io::Hook, Io::Event];
