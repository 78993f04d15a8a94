//! The stateright model: the environment's choices around the core, explored
//! exhaustively within small bounds. Every transition runs the same `settle` (reconcile
//! → apply until quiescent) that the simulator and the real drivers run.

use cairn_core::api::{BackupSessionPhase, Kind, RestorePhase};
use cairn_core::invariants::Violation;
use cairn_core::job::JobPhase;
use cairn_core::world::{observe, Fact, HookOutcome, ObjectRef, World};
use chrono::{DateTime, Duration, Utc};
use stateright::{Model, Property};

use crate::action::Action;
use crate::clock::epoch;
use crate::executor::{self, JobEnd};
use crate::fingerprint::WorldDigest;
use crate::manifests::{self, ConfigurationParams};
use crate::model_state::{Budgets, Failure, ModelState, UserSteps};
use cairn_core::drive::settle::{settle, Broken, Checks};

/// Namespace of the model's objects.
pub const NAMESPACE: &str = "demo";
/// Name of the model's BackupConfiguration.
pub const CONFIGURATION: &str = "db-backup";
/// Name of the model's RestoreSession.
pub const RESTORE: &str = "db-restore";

/// Bounds of the explored space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelConfig {
    /// Repositories of the session (1 or 2).
    pub repositories: usize,
    /// `retryConfig.maxRetry` of the session.
    pub max_retry: u32,
    /// Whether the user may apply a RestoreSession.
    pub restore: bool,
    /// Whether the user may pause/unpause and delete the configuration.
    pub edits: bool,
    /// Virtual time after which the clock stops. Chosen just before a cron slot, so that
    /// every wakeup up to it (retries, deadlines) is taken and a path that ends with an
    /// unfinished session is a real liveness failure, not an artefact of the bound.
    pub horizon: Duration,
    /// Budgets every path starts with.
    pub budgets: Budgets,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            repositories: 1,
            max_retry: 1,
            restore: true,
            edits: false,
            horizon: Duration::hours(2) - Duration::seconds(1),
            budgets: Budgets {
                faults: 1,
                restarts: 1,
                redeliveries: 1,
            },
        }
    }
}

/// The model.
#[derive(Clone, Debug, Default)]
pub struct CairnModel {
    /// Its bounds.
    pub config: ModelConfig,
}

impl CairnModel {
    /// A model with these bounds.
    pub fn new(config: ModelConfig) -> Self {
        Self { config }
    }

    fn configuration_params(&self, paused: bool) -> ConfigurationParams {
        ConfigurationParams {
            namespace: NAMESPACE.to_owned(),
            name: CONFIGURATION.to_owned(),
            schedule: "@every 1h".to_owned(),
            repositories: (0..self.config.repositories)
                .map(|i| format!("repo-{}", char::from(b'a' + i as u8)))
                .collect(),
            max_retry: self.config.max_retry,
            backup_timeout: "30m".to_owned(),
            paused,
        }
    }

    fn horizon(&self) -> DateTime<Utc> {
        epoch() + self.config.horizon
    }

    /// The user's next possible steps.
    fn user_actions(&self, s: &ModelState, out: &mut Vec<Action>) {
        let u = s.user;
        if !u.storage {
            out.push(Action::CreateStorage);
        }
        if !u.retention {
            out.push(Action::CreateRetention);
        }
        if !u.configuration {
            out.push(Action::CreateConfiguration);
        }
        if self.config.edits && u.configuration && !u.deleted {
            if !u.toggled {
                out.push(Action::TogglePause);
            }
            out.push(Action::DeleteConfiguration);
        }
        if self.config.restore && !u.restore && u.configuration {
            out.push(Action::CreateRestore);
        }
    }

    /// What jobs, hooks and storage can do next.
    fn environment_actions(&self, s: &ModelState, out: &mut Vec<Action>) {
        let can_fail = s.budgets.faults > 0;
        for request in &s.pending {
            out.push(Action::Answer(request.clone(), true));
            if can_fail {
                out.push(Action::Answer(request.clone(), false));
            }
        }
        for (key, job) in &s.world.jobs {
            match job.phase {
                JobPhase::Pending => {
                    out.push(Action::StartJob(key.clone()));
                    if can_fail {
                        out.push(Action::EndJob(key.clone(), JobEnd::Killed));
                    }
                }
                JobPhase::Running => {
                    out.push(Action::EndJob(key.clone(), JobEnd::Succeeded));
                    if can_fail {
                        out.push(Action::EndJob(key.clone(), JobEnd::DbDisconnect));
                        out.push(Action::EndJob(key.clone(), JobEnd::Killed));
                    }
                }
                JobPhase::Succeeded | JobPhase::Failed => {}
            }
        }
        for (key, hook) in &s.world.hooks {
            if hook.outcome == HookOutcome::Pending {
                out.push(Action::FinishHook(key.clone(), true));
                if can_fail {
                    out.push(Action::FinishHook(key.clone(), false));
                }
            }
        }
    }

    /// Clock ticks, restarts and redeliveries.
    fn fault_and_time_actions(&self, s: &ModelState, out: &mut Vec<Action>) {
        if let Some(at) = s.wakeup.filter(|at| *at > s.now) {
            if at <= self.horizon() {
                out.push(Action::Tick(at));
            }
        }
        if s.budgets.restarts > 0 && s.user.configuration {
            out.push(Action::Restart);
        }
        if s.budgets.redeliveries > 0 && s.last_fact.is_some() {
            out.push(Action::Redeliver);
        }
    }

    /// Applies the environment's part of an action; returns the fact to remember for a
    /// redelivery, if the action delivered one.
    fn perform(&self, s: &mut ModelState, action: Action) -> Option<Fact> {
        let now = s.now;
        let fact = match action {
            Action::CreateStorage => {
                s.user.storage = true;
                Fact::Applied(manifests::storage(NAMESPACE, now))
            }
            Action::CreateRetention => {
                s.user.retention = true;
                Fact::Applied(manifests::retention(NAMESPACE, now))
            }
            Action::CreateConfiguration => {
                s.user.configuration = true;
                Fact::Applied(manifests::configuration(
                    &self.configuration_params(false),
                    now,
                ))
            }
            Action::TogglePause => {
                s.user.toggled = true;
                Fact::Applied(manifests::configuration(
                    &self.configuration_params(true),
                    now,
                ))
            }
            Action::DeleteConfiguration => {
                s.user.deleted = true;
                let object = ObjectRef::new(Kind::BackupConfiguration, NAMESPACE, CONFIGURATION);
                Fact::Deleted { object, at: now }
            }
            Action::CreateRestore => {
                s.user.restore = true;
                Fact::Applied(manifests::restore(NAMESPACE, RESTORE, "repo-a", now))
            }
            Action::Answer(request, ok) => {
                s.pending.remove(&request);
                spend_fault(s, !ok);
                request.answer(ok, now)
            }
            Action::StartJob(key) => executor::started(&key, now),
            Action::EndJob(key, end) => {
                spend_fault(s, end != JobEnd::Succeeded);
                let job = s.world.jobs.get(&key)?;
                executor::ended(job, end, now)
            }
            Action::FinishHook(hook, ok) => {
                spend_fault(s, !ok);
                let outcome = if ok {
                    HookOutcome::Succeeded
                } else {
                    HookOutcome::Failed
                };
                Fact::HookFinished {
                    hook,
                    outcome,
                    message: if ok {
                        String::new()
                    } else {
                        "hook exited 1".to_owned()
                    },
                }
            }
            Action::Tick(at) => {
                s.now = at;
                return None;
            }
            Action::Restart => {
                s.budgets.restarts -= 1;
                s.world = s.world.persisted();
                return None;
            }
            Action::Redeliver => {
                s.budgets.redeliveries -= 1;
                let fact = s.last_fact.take()?;
                observe(&mut s.world, fact);
                return None;
            }
        };
        observe(&mut s.world, fact.clone());
        Some(fact)
    }
}

fn spend_fault(s: &mut ModelState, fault: bool) {
    if fault {
        s.budgets.faults = s.budgets.faults.saturating_sub(1);
    }
}

/// Whether some BackupSession or RestoreSession has not reached a terminal phase.
pub fn unfinished_sessions(world: &World) -> bool {
    let backup = world.backup_sessions.values().any(|b| !b.is_completed());
    let restore = world
        .restore_sessions
        .values()
        .any(|r| !restore_terminal(r.status.as_ref().and_then(|s| s.phase)));
    backup || restore
}

/// One line per session: name and phase, for counterexample stories.
pub fn session_summary(world: &World) -> Vec<String> {
    let backups = world.backup_sessions.iter().map(|(k, b)| {
        format!(
            "BackupSession {k}: {:?}",
            b.status.as_ref().and_then(|s| s.phase)
        )
    });
    let snapshots = world.snapshots.iter().map(|(k, b)| {
        let deleting = if b.metadata.deletion_timestamp.is_some() {
            " (deleting)"
        } else {
            ""
        };
        format!(
            "Snapshot {k}: {:?}{deleting}",
            b.status.as_ref().and_then(|s| s.phase)
        )
    });
    let restores = world.restore_sessions.iter().map(|(k, r)| {
        format!(
            "RestoreSession {k}: {:?}",
            r.status.as_ref().and_then(|s| s.phase)
        )
    });
    backups.chain(snapshots).chain(restores).collect()
}

fn restore_terminal(phase: Option<RestorePhase>) -> bool {
    matches!(
        phase,
        Some(
            RestorePhase::Succeeded
                | RestorePhase::Failed
                | RestorePhase::Invalid
                | RestorePhase::Unknown
        )
    )
}

/// The property a broken turn violates.
fn property_of(broken: &Broken) -> &'static str {
    match broken {
        Broken::Invariant(v) => match v {
            Violation::ConcurrentBackups { .. } => P_ONE_RUNNING,
            Violation::BackupDuringRestore { .. } => P_NO_BACKUP_DURING_RESTORE,
            Violation::OrphanSnapshot { .. } => P_SNAPSHOT_HAS_SESSION,
            Violation::TerminalPhaseChanged { .. } => P_TERMINAL_STAYS,
            Violation::SucceededWithBadSnapshot { .. } => P_SUCCEEDED_ALL_SNAPSHOTS,
            Violation::NewestSucceededDeleted { .. } => P_RETENTION_KEEPS_NEWEST,
            Violation::SecretLeak { .. } => P_NO_SECRET,
        },
        Broken::Livelock(_) => P_SETTLES,
    }
}

const P_ONE_RUNNING: &str = "at most one running backup per configuration session";
const P_NO_BACKUP_DURING_RESTORE: &str = "no backup and restore of one target at once";
const P_SNAPSHOT_HAS_SESSION: &str =
    "every unfinished Snapshot belongs to an existing BackupSession";
const P_TERMINAL_STAYS: &str = "terminal phases never change";
const P_SUCCEEDED_ALL_SNAPSHOTS: &str = "a Succeeded BackupSession has every Snapshot Succeeded";
const P_RETENTION_KEEPS_NEWEST: &str = "retention never deletes the newest Succeeded snapshot";
const P_NO_SECRET: &str = "no secret value in any status, event or message";
const P_SETTLES: &str = "every turn settles (no livelock)";
/// The liveness property's name.
pub const P_TERMINAL: &str = "every BackupSession and RestoreSession reaches a terminal phase";
/// Witness: a backup succeeded.
pub const P_BACKUP_SUCCEEDED: &str = "backup succeeded";
/// Witness: a restore succeeded.
pub const P_RESTORE_SUCCEEDED: &str = "restore succeeded";
/// Witness: a failed backup was retried.
pub const P_RETRIED: &str = "failed backup retried";

/// An `always` property that fails when a transition recorded it as broken (a macro:
/// stateright takes plain `fn` pointers, so the name cannot be captured).
macro_rules! never_broken {
    ($name:expr) => {
        Property::always($name, |_, s: &ModelState| {
            s.broken.as_ref().is_none_or(|b| b.property != $name)
        })
    };
}

impl Model for CairnModel {
    type State = ModelState;
    type Action = Action;

    fn init_states(&self) -> Vec<ModelState> {
        let mut world = World::new();
        for secret in manifests::secrets(NAMESPACE) {
            observe(&mut world, Fact::SecretApplied(secret));
        }
        observe(&mut world, Fact::Applied(manifests::app_binding(NAMESPACE)));
        let mut state = ModelState {
            world,
            now: epoch(),
            wakeup: None,
            pending: Default::default(),
            user: UserSteps::default(),
            budgets: self.config.budgets,
            last_fact: None,
            broken: None,
            digest: Default::default(),
        };
        turn(&mut state, None);
        vec![state]
    }

    fn actions(&self, s: &ModelState, out: &mut Vec<Action>) {
        if s.broken.is_some() {
            return; // the counterexample ends here
        }
        self.user_actions(s, out);
        self.environment_actions(s, out);
        self.fault_and_time_actions(s, out);
    }

    fn next_state(&self, last: &ModelState, action: Action) -> Option<ModelState> {
        let mut s = last.clone();
        let fact = self.perform(&mut s, action);
        s.last_fact = if s.budgets.redeliveries > 0 {
            fact
        } else {
            None
        };
        // The environment's own step (a fact, a restart) must not break a transition
        // invariant either; the controller's rounds are checked inside `settle`.
        if let Err(v) = cairn_core::invariants::check_transition(&last.world, &s.world) {
            let broken = Broken::Invariant(v);
            s.broken = Some(Failure {
                property: property_of(&broken),
                detail: broken.to_string(),
            });
        }
        turn(&mut s, Some(last));
        Some(s)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            never_broken!(P_ONE_RUNNING),
            never_broken!(P_NO_BACKUP_DURING_RESTORE),
            never_broken!(P_SNAPSHOT_HAS_SESSION),
            never_broken!(P_TERMINAL_STAYS),
            never_broken!(P_SUCCEEDED_ALL_SNAPSHOTS),
            never_broken!(P_RETENTION_KEEPS_NEWEST),
            never_broken!(P_NO_SECRET),
            never_broken!(P_SETTLES),
            Property::eventually(P_TERMINAL, |m: &CairnModel, s: &ModelState| {
                // True only where the path ends: then nothing may be left unfinished. A
                // state that still has moves is never the witness, so a session that
                // starts after an earlier all-done moment is still checked.
                let mut next = Vec::new();
                m.actions(s, &mut next);
                next.is_empty() && !unfinished_sessions(&s.world)
            }),
            Property::sometimes(P_BACKUP_SUCCEEDED, |_, s: &ModelState| {
                s.world.backup_sessions.values().any(|b| {
                    b.status.as_ref().and_then(|st| st.phase) == Some(BackupSessionPhase::Succeeded)
                })
            }),
            Property::sometimes(P_RESTORE_SUCCEEDED, |_, s: &ModelState| {
                s.world.restore_sessions.values().any(|r| {
                    r.status.as_ref().and_then(|st| st.phase) == Some(RestorePhase::Succeeded)
                })
            }),
            Property::sometimes(P_RETRIED, |_, s: &ModelState| {
                s.world
                    .backup_sessions
                    .values()
                    .any(|b| b.status.as_ref().and_then(|st| st.retried) == Some(true))
            }),
        ]
    }
}

/// Runs the controller after an environment step and records what broke, if anything.
fn turn(s: &mut ModelState, before: Option<&ModelState>) {
    let turn = settle(&mut s.world, s.now, Checks::AtRest);
    match turn.broken {
        None => {
            s.wakeup = turn.next_wakeup;
            s.pending
                .extend(turn.effects.iter().filter_map(crate::request::Request::of));
        }
        Some(broken) if s.broken.is_none() => {
            s.broken = Some(Failure {
                property: property_of(&broken),
                detail: broken.to_string(),
            })
        }
        Some(_) => {}
    }
    // Events are output: checked by `settle` (no secret in them), then dropped so that
    // the order in which the same outcome was reached does not multiply states.
    s.world.events.clear();
    s.digest = WorldDigest::of(&s.world, before.map(|b| (&b.world, &b.digest)));
}
