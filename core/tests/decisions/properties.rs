//! Properties over random sequences of facts and user actions on a small catalogue
//! (one storage, one configuration, its backups, a restore), driven the way every
//! driver runs the core:
//! - convergence: every settle reaches an empty plan;
//! - idempotence: applying any planned effect twice equals applying it once;
//! - restart safety: the persisted world of a settled world plans no object or job,
//!   only the IO whose answer the crash lost; a crash in the middle of a plan never
//!   leads to a second BackupSession, Snapshot or job;
//! - `invariants::check` / `check_transition` hold throughout.

use cairn_core::api::Kind;
use cairn_core::effect::Effect;
use cairn_core::invariants;
use cairn_core::job::{JobKey, JobKind};
use cairn_core::reconcile::reconcile;
use cairn_core::world::{apply, observe, Fact, ObjectRef, Outcome, World};
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

use super::common::*;
use super::harness::*;

/// One thing the environment or the user does.
#[derive(Clone, Debug)]
enum Action {
    /// The clock moves on by this many minutes.
    Tick(i64),
    /// The i-th unfinished job starts / succeeds / fails / vanishes.
    Job(usize, u8),
    /// The i-th outstanding backend request is answered, Ok or failed.
    Answer(usize, bool),
    /// The user (re-)applies the configuration, paused or not.
    ApplyConfig(bool),
    /// The user deletes the configuration.
    DeleteConfig,
    /// The user deletes the i-th Snapshot.
    DeleteSnapshot(usize),
    /// The user restores `latest`.
    Restore,
    /// The operator restarts after applying the first k effects of the next plan.
    Crash(usize),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (1i64..12).prop_map(Action::Tick),
        (0usize..3, 0u8..4).prop_map(|(i, k)| Action::Job(i, k)),
        (0usize..4, prop::bool::weighted(0.8)).prop_map(|(i, ok)| Action::Answer(i, ok)),
        prop::bool::weighted(0.2).prop_map(Action::ApplyConfig),
        Just(Action::DeleteConfig),
        (0usize..3).prop_map(Action::DeleteSnapshot),
        Just(Action::Restore),
        (0usize..8).prop_map(Action::Crash),
    ]
}

const RESTORE: &str = r#"
apiVersion: core.kubestash.com/v1alpha1
kind: RestoreSession
metadata: {name: restore-sdb, namespace: demo}
spec:
  target: {apiGroup: kubedb.com, kind: Singlestore, namespace: demo, name: sdb-sample}
  dataSource: {repository: gcs-sdb-repo, snapshot: latest}
  addon: {name: singlestore-addon, tasks: [{name: logical-backup-restore}]}
"#;

/// The simulated environment: the world, the clock, and IO requests not yet answered.
struct Env {
    world: World,
    now: DateTime<Utc>,
    outstanding: Vec<Effect>,
}

impl Env {
    /// Loops reconcile → apply to the fixpoint, checking every property on the way.
    fn settle(&mut self) -> Result<(), TestCaseError> {
        for _ in 0..40 {
            let plan = reconcile(&self.world, self.now);
            if plan.is_empty() {
                invariants::check(&self.world).map_err(fail)?;
                return self.check_restart();
            }
            let before = self.world.clone();
            for effect in &plan.effects {
                let mut once = self.world.clone();
                apply(&mut once, effect);
                let mut twice = once.clone();
                apply(&mut twice, effect);
                prop_assert_eq!(&once, &twice, "applying {:?} twice", effect);
                self.world = once;
                if effect.inflight().is_some() {
                    self.outstanding.push(effect.clone());
                }
            }
            invariants::check_transition(&before, &self.world).map_err(fail)?;
        }
        Err(TestCaseError::fail(format!(
            "no fixpoint: {:#?}",
            reconcile(&self.world, self.now).effects
        )))
    }

    /// A restart of a settled world re-requests lost IO and nothing else.
    fn check_restart(&self) -> Result<(), TestCaseError> {
        let plan = reconcile(&self.world.persisted(), self.now);
        for effect in &plan.effects {
            prop_assert!(
                effect.inflight().is_some() || matches!(effect, Effect::Emit(_)),
                "a restart planned {:?}",
                effect
            );
        }
        Ok(())
    }

    fn act(&mut self, action: &Action) {
        match action {
            Action::Tick(minutes) => self.now += Duration::minutes(*minutes),
            Action::Job(i, kind) => self.job(*i, *kind),
            Action::Answer(i, ok) => {
                if !self.outstanding.is_empty() {
                    let effect = self.outstanding.remove(i % self.outstanding.len());
                    if let Some(fact) = answer(&effect, *ok, self.now) {
                        observe(&mut self.world, fact);
                    }
                }
            }
            Action::ApplyConfig(paused) => {
                let mut bc = sample_config();
                bc.spec.paused = *paused;
                observe(
                    &mut self.world,
                    Fact::Applied(cairn_core::world::Object::BackupConfiguration(bc)),
                );
            }
            Action::DeleteConfig => self.delete(Kind::BackupConfiguration, "sample-sdb-backup"),
            Action::DeleteSnapshot(i) => {
                let names: Vec<String> = self
                    .world
                    .snapshots
                    .keys()
                    .map(|k| k.name.clone())
                    .collect();
                if !names.is_empty() {
                    self.delete(Kind::Snapshot, &names[i % names.len()].clone());
                }
            }
            Action::Restore => observe(
                &mut self.world,
                Fact::Applied(object("RestoreSession", RESTORE)),
            ),
            Action::Crash(k) => {
                for effect in reconcile(&self.world, self.now).effects.iter().take(*k) {
                    apply(&mut self.world, effect);
                }
                self.world = self.world.persisted();
            }
        }
    }

    fn delete(&mut self, kind: Kind, name: &str) {
        let object = ObjectRef::new(kind, "demo", name);
        observe(
            &mut self.world,
            Fact::Deleted {
                object,
                at: self.now,
            },
        );
    }

    fn job(&mut self, i: usize, kind: u8) {
        let open: Vec<JobKey> = self
            .world
            .jobs
            .iter()
            .filter(|(_, j)| !j.is_finished())
            .map(|(k, _)| k.clone())
            .collect();
        if open.is_empty() {
            return;
        }
        let job = open[i % open.len()].clone();
        let at = self.now;
        let fact = match kind {
            0 => Fact::JobStarted { job, at },
            1 => Fact::JobSucceeded {
                result: result_of(&self.world, &job),
                job,
                at,
            },
            2 => Fact::JobFailed {
                job,
                message: "exit code 1".to_owned(),
                result: None,
                at,
            },
            _ => Fact::JobVanished { job, at },
        };
        observe(&mut self.world, fact);
    }
}

/// What a well-behaved executor reports for `job`.
fn result_of(world: &World, job: &JobKey) -> cairn_core::job::JobResult {
    use cairn_core::job::{JobResult, RestoreComponentResult};
    let spec = &world.jobs[job].spec;
    match job.kind {
        JobKind::Backup => JobResult::Backup(
            spec.snapshots
                .iter()
                .map(|t| {
                    let id = format!("{:0>64}", t.snapshot.len());
                    (t.snapshot.clone(), [("dump".to_owned(), dump(&id))].into())
                })
                .collect(),
        ),
        JobKind::Restore => JobResult::Restore(
            [(
                "dump".to_owned(),
                RestoreComponentResult {
                    phase: cairn_core::api::ComponentPhase::Succeeded,
                    duration: "1s".to_owned(),
                    error: String::new(),
                },
            )]
            .into(),
        ),
    }
}

/// The storage adapter's answer to one IO effect.
fn answer(effect: &Effect, ok: bool, now: DateTime<Utc>) -> Option<Fact> {
    let fact = backend_answers(std::slice::from_ref(effect), now).pop()?;
    if ok {
        return Some(fact);
    }
    let failed = Outcome::Failed("503 Service Unavailable".to_owned());
    Some(match fact {
        Fact::BackendInitialized {
            storage,
            at,
            repositories,
            snapshots,
            ..
        } => Fact::BackendInitialized {
            storage,
            outcome: failed,
            at,
            repositories,
            snapshots,
        },
        Fact::RepositoryInitialized {
            storage, path, at, ..
        } => Fact::RepositoryInitialized {
            storage,
            path,
            outcome: failed,
            at,
        },
        Fact::SnapshotMetadataUploaded {
            storage,
            snapshot,
            path,
            at,
            ..
        } => Fact::SnapshotMetadataUploaded {
            storage,
            snapshot,
            path,
            outcome: failed,
            at,
        },
        Fact::SnapshotsForgotten {
            storage,
            snapshot,
            metadata_path,
            at,
            ..
        } => Fact::SnapshotsForgotten {
            storage,
            snapshot,
            metadata_path,
            outcome: failed,
            at,
        },
        Fact::DataWiped {
            storage, path, at, ..
        } => Fact::DataWiped {
            storage,
            path,
            outcome: failed,
            at,
        },
        other => other,
    })
}

fn fail(v: invariants::Violation) -> TestCaseError {
    TestCaseError::fail(v.to_string())
}

/// Counts that may never exceed one per identity: sessions per schedule slot are
/// unique by name, so a duplicate backup shows as two sessions created in one minute.
fn sessions_per_minute(world: &World) -> usize {
    let mut minutes: Vec<i64> = world
        .backup_sessions
        .values()
        .filter_map(|s| cairn_core::world::object::created_at(&s.metadata))
        .map(|t| t.timestamp() / 60)
        .collect();
    let total = minutes.len();
    minutes.sort_unstable();
    minutes.dedup();
    total - minutes.len()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn random_histories_converge_and_stay_safe(actions in prop::collection::vec(action(), 1..14)) {
        let mut env = Env { world: seeded_world(), now: t0(), outstanding: Vec::new() };
        env.settle()?;
        observe(&mut env.world, Fact::Applied(object("BackupConfiguration", CONFIG)));
        env.settle()?;
        for action in &actions {
            env.act(action);
            env.settle()?;
            prop_assert_eq!(sessions_per_minute(&env.world), 0, "duplicate backup after {:?}", action);
        }
    }
}
