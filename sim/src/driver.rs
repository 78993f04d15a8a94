//! The deterministic simulator: one seed → one run. Picks the next due thing (a storage
//! answer, a job's progress, a user edit, the controller's own wakeup, a crash), turns it
//! into a fact for the core, then lets the core settle. A safety phase injects faults; a
//! liveness phase without faults then demands that everything finishes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hash::Hasher;

use cairn_core::job::{JobKey, JobPhase};
use cairn_core::world::{observe, Fact, HookKey, HookOutcome, World};
use chrono::{DateTime, Duration, Utc};

use crate::clock::{epoch, Clock};
use crate::executor::{self, JobEnd};
use crate::faults::FaultRates;
use crate::fingerprint::{hash_json, Fnv64};
use crate::liveness::Liveness;
use crate::manifests;
use crate::prng::Prng;
use crate::request::Request;
use crate::scenario::Scenario;
use cairn_core::drive::settle::{settle, Checks};

/// Steps a session may stay unfinished in the liveness phase.
pub const LIVENESS_WINDOW: u64 = 400;

/// Lines of recent history printed with a failure.
const HISTORY: usize = 40;

/// Something the environment will do at a given time.
#[derive(Clone, Debug)]
enum Due {
    /// Deliver a fact (storage answer, job report, user edit); boxed because a fact can
    /// carry a whole object and the queue holds many small entries.
    Fact(Box<Fact>),
    /// A pending job's pod starts; its end is drawn then.
    StartJob(JobKey),
    /// A running job ends this way (ignored if the job already ended).
    EndJob(JobKey, JobEnd),
    /// A user step of the plan.
    User(UserStep),
}

/// User steps during a run.
#[derive(Clone, Debug)]
enum UserStep {
    /// Apply the BackupConfiguration with this index.
    Configure(usize),
    /// Flip `paused` on it.
    TogglePause(usize),
    /// Restore its first repository's latest snapshot.
    Restore(usize),
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Steps taken.
    pub steps: u64,
    /// Simulated time covered.
    pub simulated: Duration,
    /// Digest of everything that happened; equal for equal seeds and steps.
    pub hash: u64,
    /// Finished BackupSessions by phase.
    pub backups: BTreeMap<String, u64>,
    /// Finished RestoreSessions by phase.
    pub restores: BTreeMap<String, u64>,
    /// Faults injected, by kind.
    pub faults: BTreeMap<&'static str, u64>,
    /// The failure, with the recent history, if the run failed.
    pub failure: Option<String>,
}

/// One simulation run.
pub struct Simulation {
    seed: u64,
    prng: Prng,
    rates: FaultRates,
    clock: Clock,
    world: World,
    scenario: Scenario,
    queue: BTreeMap<(DateTime<Utc>, u64), Due>,
    seq: u64,
    wakeup: Option<DateTime<Utc>>,
    scheduled_jobs: BTreeSet<JobKey>,
    scheduled_hooks: BTreeSet<HookKey>,
    paused: BTreeMap<usize, bool>,
    restores: u64,
    trace: Fnv64,
    history: VecDeque<String>,
    liveness: Liveness,
    faults: BTreeMap<&'static str, u64>,
}

impl Simulation {
    /// A run for `seed`: scenario and fault rates are drawn from it.
    pub fn new(seed: u64) -> Self {
        let mut prng = Prng::new(seed);
        let rates = FaultRates::draw(&mut prng);
        let scenario = Scenario::draw(&mut prng);
        let mut sim = Self {
            seed,
            prng,
            rates,
            clock: Clock::new(epoch()),
            world: World::new(),
            scenario,
            queue: BTreeMap::new(),
            seq: 0,
            wakeup: None,
            scheduled_jobs: BTreeSet::new(),
            scheduled_hooks: BTreeSet::new(),
            paused: BTreeMap::new(),
            restores: 0,
            trace: Fnv64::default(),
            history: VecDeque::new(),
            liveness: Liveness::default(),
            faults: BTreeMap::new(),
        };
        sim.set_up();
        sim
    }

    /// The fault rates this seed drew.
    pub fn rates(&self) -> &FaultRates {
        &self.rates
    }

    /// The scenario this seed drew.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Static objects first (secrets, databases, storages, policies), configurations at
    /// random moments of the first hour, and a plan of user edits.
    fn set_up(&mut self) {
        let now = self.clock.true_now();
        for ns in self.scenario.namespaces.clone() {
            for secret in manifests::secrets(&ns) {
                observe(&mut self.world, Fact::SecretApplied(secret));
            }
            observe(&mut self.world, Fact::Applied(manifests::app_binding(&ns)));
            let storage_at = now + Duration::seconds(self.prng.between(0, 600) as i64);
            self.at(
                storage_at,
                Due::Fact(Box::new(Fact::Applied(manifests::storage(&ns, storage_at)))),
            );
            let retention_at = now + Duration::seconds(self.prng.between(0, 600) as i64);
            self.at(
                retention_at,
                Due::Fact(Box::new(Fact::Applied(manifests::retention(
                    &ns,
                    retention_at,
                )))),
            );
        }
        for i in 0..self.scenario.configurations.len() {
            let at = now + Duration::seconds(self.prng.between(0, 3600) as i64);
            self.at(at, Due::User(UserStep::Configure(i)));
        }
    }

    fn at(&mut self, t: DateTime<Utc>, due: Due) {
        self.seq += 1;
        self.queue.insert((t, self.seq), due);
    }

    fn after(&mut self, seconds: u64, due: Due) {
        let t = self.clock.true_now() + Duration::seconds(seconds as i64);
        self.at(t, due);
    }

    fn count_fault(&mut self, kind: &'static str) {
        *self.faults.entry(kind).or_default() += 1;
    }

    /// Runs `steps` steps: three quarters with faults, the rest without.
    pub fn run(mut self, steps: u64) -> Report {
        let safety = steps - steps / 4;
        let mut failure = None;
        let mut taken = 0;
        for step in 0..steps {
            taken = step + 1;
            if step == safety {
                self.rates = FaultRates::none();
                self.clock.set_skew(Duration::zero());
                self.liveness.start(step);
            }
            if let Err(why) = self.step(step) {
                failure = Some(why);
                break;
            }
            if let Err(why) = self.liveness.check(&self.world, step, LIVENESS_WINDOW) {
                failure = Some(why);
                break;
            }
        }
        let failure = failure.map(|why| {
            let history: Vec<String> = self.history.iter().cloned().collect();
            format!("{why}\nlast steps:\n  {}", history.join("\n  "))
        });
        let (backups, restores) = self.liveness.finished_counts();
        Report {
            seed: self.seed,
            steps: taken,
            simulated: self.clock.true_now() - epoch(),
            hash: self.trace.finish(),
            backups,
            restores,
            faults: self.faults,
            failure,
        }
    }

    /// One step: maybe a crash or a clock jump, then the next due thing, then a turn.
    fn step(&mut self, step: u64) -> Result<(), String> {
        let what = if self.prng.chance(self.rates.controller_restart) {
            self.restart()
        } else {
            self.next_due()
        };
        self.note(step, &what);
        let now = self.clock.controller_now();
        let turn = settle(&mut self.world, now, Checks::EveryRound);
        if let Some(broken) = &turn.broken {
            return Err(format!("step {step}: {broken}"));
        }
        hash_json(&turn.effects, &mut self.trace);
        hash_json(&self.world.events, &mut self.trace);
        // Events are shipped to the API server by a real adapter; the world keeps none.
        self.world.events.clear();
        self.wakeup = turn.next_wakeup.map(|t| self.clock.to_true(t));
        for request in turn.effects.iter().filter_map(Request::of) {
            self.schedule_answer(request);
        }
        self.schedule_jobs_and_hooks();
        Ok(())
    }

    fn note(&mut self, step: u64, what: &str) {
        self.trace.write(what.as_bytes());
        let line = format!(
            "#{step} {} {what}",
            self.clock.true_now().format("%m-%d %H:%M:%S")
        );
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(line);
    }

    /// The controller restarts: volatile state is lost, and its clock may come back skewed.
    fn restart(&mut self) -> String {
        self.count_fault("controller restart");
        self.world = cairn_core::drive::restart::operator_restart(&self.world);
        if self.prng.chance(self.rates.clock_skew) {
            self.count_fault("clock skew");
            let skew = self.prng.between(0, 240) as i64 - 120;
            self.clock.set_skew(Duration::seconds(skew));
            return format!("controller restarts with its clock {skew:+}s off");
        }
        "controller restarts".to_owned()
    }

    /// Takes the earliest of the queue and the controller's wakeup.
    fn next_due(&mut self) -> String {
        let queued = self.queue.keys().next().map(|(t, _)| *t);
        let wake = self.wakeup.filter(|w| queued.is_none_or(|q| *w < q));
        if let Some(w) = wake {
            self.jump_or_advance(w);
            return "controller wakes up".to_owned();
        }
        let Some(((t, _), due)) = self.queue.pop_first() else {
            // Nothing at all is due: time passes by an hour (cron will have something).
            let t = self.clock.true_now() + Duration::hours(1);
            self.clock.advance_to(t);
            return "an idle hour passes".to_owned();
        };
        self.jump_or_advance(t);
        self.deliver(due)
    }

    /// Advances true time to `t`, sometimes overshooting (a suspended VM, an NTP step).
    fn jump_or_advance(&mut self, t: DateTime<Utc>) {
        if self.prng.chance(self.rates.clock_skew / 20.0) {
            self.count_fault("clock jump");
            let jump = Duration::seconds(self.prng.between(60, 3 * 3600) as i64);
            self.clock.advance_to(t + jump);
        } else {
            self.clock.advance_to(t);
        }
    }

    fn deliver(&mut self, due: Due) -> String {
        let now = self.clock.true_now();
        match due {
            Due::Fact(fact) => {
                let line = describe(&fact);
                observe(&mut self.world, *fact);
                line
            }
            Due::StartJob(key) => {
                if self
                    .world
                    .jobs
                    .get(&key)
                    .is_none_or(|j| j.phase != JobPhase::Pending)
                {
                    return format!("job {}/{} no longer pending", key.namespace, key.session);
                }
                observe(&mut self.world, executor::started(&key, now));
                let end = self.draw_job_end();
                let duration = self.prng.between(30, 40 * 60);
                self.after(duration, Due::EndJob(key.clone(), end));
                format!("job {}/{} starts", key.namespace, key.session)
            }
            Due::EndJob(key, end) => {
                let Some(job) = self.world.jobs.get(&key).filter(|j| !j.is_finished()) else {
                    return format!("job {}/{} already ended", key.namespace, key.session);
                };
                let fact = executor::ended(job, end, now);
                self.deliver_maybe_twice(fact.clone());
                observe(&mut self.world, fact);
                format!("job {}/{} {end:?}", key.namespace, key.session)
            }
            Due::User(step) => self.user(step),
        }
    }

    fn draw_job_end(&mut self) -> JobEnd {
        if self.prng.chance(self.rates.job_killed) {
            self.count_fault("job killed");
            JobEnd::Killed
        } else if self.prng.chance(self.rates.db_disconnect) {
            self.count_fault("db disconnect");
            JobEnd::DbDisconnect
        } else {
            JobEnd::Succeeded
        }
    }

    /// Sometimes the same fact arrives again later (a duplicated watch event).
    fn deliver_maybe_twice(&mut self, fact: Fact) {
        if self.prng.chance(self.rates.duplicate_fact) {
            self.count_fault("duplicated fact");
            let delay = self.prng.between(1, 600);
            self.after(delay, Due::Fact(Box::new(fact)));
        }
    }

    fn user(&mut self, step: UserStep) -> String {
        let now = self.clock.true_now();
        match step {
            UserStep::Configure(i) => {
                let params = self.scenario.configurations[i].clone();
                observe(
                    &mut self.world,
                    Fact::Applied(manifests::configuration(&params, now)),
                );
                self.plan_next_edit(i);
                format!(
                    "user applies BackupConfiguration {}/{}",
                    params.namespace, params.name
                )
            }
            UserStep::TogglePause(i) => {
                let paused = !self.paused.get(&i).copied().unwrap_or(false);
                self.paused.insert(i, paused);
                let mut params = self.scenario.configurations[i].clone();
                params.paused = paused;
                observe(
                    &mut self.world,
                    Fact::Applied(manifests::configuration(&params, now)),
                );
                self.plan_next_edit(i);
                format!(
                    "user sets paused={paused} on {}/{}",
                    params.namespace, params.name
                )
            }
            UserStep::Restore(i) => {
                let params = &self.scenario.configurations[i];
                self.restores += 1;
                let name = format!("restore-{}", self.restores);
                let (ns, repo) = (params.namespace.clone(), params.repositories[0].clone());
                observe(
                    &mut self.world,
                    Fact::Applied(manifests::restore(&ns, &name, &repo, now)),
                );
                self.plan_next_edit(i);
                format!("user applies RestoreSession {ns}/{name} from {repo}")
            }
        }
    }

    /// Every few simulated hours a user touches the configuration again.
    fn plan_next_edit(&mut self, i: usize) {
        let wait = self.prng.between(2 * 3600, 30 * 3600);
        let step = match self.prng.below(3) {
            0 => UserStep::TogglePause(i),
            _ => UserStep::Restore(i),
        };
        self.after(wait, Due::User(step));
    }

    fn schedule_answer(&mut self, request: Request) {
        let ok = !self.prng.chance(self.rates.storage_unavailable);
        if !ok {
            self.count_fault("storage unavailable");
        }
        let delay = self.prng.between(1, 20) + self.prng.below(self.rates.reorder_delay_s_max + 1);
        let fact = request.answer(ok, self.clock.true_now() + Duration::seconds(delay as i64));
        if self.prng.chance(self.rates.duplicate_fact) {
            self.count_fault("duplicated fact");
            let late = delay + self.prng.between(1, 600);
            self.after(late, Due::Fact(Box::new(fact.clone())));
        }
        self.after(delay, Due::Fact(Box::new(fact)));
    }

    /// New jobs get a start time (a pod may also be killed before it ever runs); new
    /// hooks an outcome.
    fn schedule_jobs_and_hooks(&mut self) {
        let new_jobs: Vec<JobKey> = self
            .world
            .jobs
            .keys()
            .filter(|k| !self.scheduled_jobs.contains(*k))
            .cloned()
            .collect();
        for key in new_jobs {
            self.scheduled_jobs.insert(key.clone());
            let delay = self.prng.between(1, 120);
            if self.prng.chance(self.rates.job_killed / 4.0) {
                self.count_fault("job killed");
                self.after(delay, Due::EndJob(key, JobEnd::Killed));
            } else {
                self.after(delay, Due::StartJob(key));
            }
        }
        let new_hooks: Vec<HookKey> = self
            .world
            .hooks
            .iter()
            .filter(|(k, h)| {
                h.outcome == HookOutcome::Pending && !self.scheduled_hooks.contains(*k)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in new_hooks {
            self.scheduled_hooks.insert(key.clone());
            let outcome = HookOutcome::Succeeded;
            self.after(
                5,
                Due::Fact(Box::new(Fact::HookFinished {
                    hook: key,
                    outcome,
                    message: String::new(),
                })),
            );
        }
    }
}

/// A one-line description of a delivered fact for the history.
fn describe(fact: &Fact) -> String {
    match fact {
        Fact::Applied(o) => format!("applied {}", o.object_ref()),
        Fact::Deleted { object, .. } => format!("deleted {object}"),
        Fact::BackendInitialized {
            storage, outcome, ..
        } => format!("metadata.yaml of {storage}: {outcome:?}"),
        Fact::RepositoryInitialized { path, outcome, .. } => format!("{path}: {outcome:?}"),
        Fact::SnapshotMetadataUploaded {
            snapshot, outcome, ..
        } => format!("YAML of Snapshot {snapshot}: {outcome:?}"),
        Fact::SnapshotsForgotten {
            snapshot, outcome, ..
        } => format!("forget of {snapshot}: {outcome:?}"),
        Fact::DataWiped { path, outcome, .. } => format!("wipe of {path}: {outcome:?}"),
        Fact::JobSucceeded { job, .. } => {
            format!("job {}/{} succeeded (again)", job.namespace, job.session)
        }
        Fact::JobFailed { job, .. } => {
            format!("job {}/{} failed (again)", job.namespace, job.session)
        }
        Fact::JobVanished { job, .. } => {
            format!("job {}/{} vanished (again)", job.namespace, job.session)
        }
        Fact::HookFinished { hook, outcome, .. } => format!("hook {} {outcome:?}", hook.name),
        other => format!("{other:?}"),
    }
}
