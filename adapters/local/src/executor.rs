//! Executes the core's IO effects: backend files, executor jobs and hooks, each as a
//! tokio task whose facts come back through [`Executor::next`]. Object effects need
//! no IO here: they were applied to the world, which the driver persists.
//!
//! Everything a task needs is resolved from the world when it is dispatched, so tasks
//! own their data and the world stays with the driver.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cairn_core::effect::Effect;
use cairn_core::job::{JobKey, JobSpec};
use cairn_core::world::{Fact, HookSpec, ObjectRef, Outcome, World};
use cairn_job::backend_files::snapshot_password;
use cairn_job::inputs::storage_of;
use cairn_job::StorageAccess;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::{AbortHandle, Id, JoinSet};
use tracing::{info, warn};

use crate::clock;
use crate::executor_job::{prepare, run_prepared, run_subprocess, JobMode};
use crate::executor_storage::{forget, init_backend, wipe, write_file, ForgetTarget, Listing};
use cairn_core::reconcile::hook_support::resolve;
use cairn_job::hook::hook_finished;

/// Runs IO effects as tasks and hands back their facts.
pub struct Executor {
    base: PathBuf,
    mode: JobMode,
    job_slots: Arc<Semaphore>,
    tasks: JoinSet<Vec<Fact>>,
    jobs: BTreeMap<JobKey, AbortHandle>,
    job_ids: BTreeMap<Id, JobKey>,
}

impl Executor {
    /// An executor resolving relative local backend paths against `base`.
    pub fn new(base: PathBuf, mode: JobMode) -> Self {
        Self {
            base,
            mode,
            job_slots: Arc::new(Semaphore::new(default_job_limit())),
            tasks: JoinSet::new(),
            jobs: BTreeMap::new(),
            job_ids: BTreeMap::new(),
        }
    }

    /// At most `limit` executor jobs run at once (at least one); the others wait.
    pub fn with_job_limit(mut self, limit: usize) -> Self {
        self.job_slots = Arc::new(Semaphore::new(limit.max(1)));
        self
    }

    /// Whether any task is still running.
    pub fn busy(&self) -> bool {
        !self.tasks.is_empty()
    }

    /// Whether the job `key` runs in this executor.
    pub fn runs(&self, key: &JobKey) -> bool {
        self.jobs.contains_key(key)
    }

    /// Starts the IO of `effect`; returns the facts known at once (a job started, or a
    /// request whose references cannot be resolved).
    pub fn dispatch(&mut self, world: &World, effect: &Effect) -> Vec<Fact> {
        match effect {
            Effect::InitBackend {
                storage,
                path,
                yaml,
            } => {
                let key = storage.key.clone();
                let (path, yaml) = (path.clone(), yaml.clone());
                self.storage_task(world, storage, move |access| async move {
                    let (outcome, listing) = match access {
                        Ok(access) => init_backend(&access, &path, &yaml).await,
                        Err(message) => (Outcome::Failed(message), Listing::default()),
                    };
                    Fact::BackendInitialized {
                        storage: key,
                        outcome,
                        at: clock::now(),
                        repositories: listing.repositories,
                        snapshots: listing.snapshots,
                    }
                })
            }
            Effect::InitRepository {
                storage,
                path,
                yaml,
                ..
            } => {
                let key = storage.key.clone();
                let (path, yaml) = (path.clone(), yaml.clone());
                self.storage_task(world, storage, move |access| async move {
                    let outcome = match access {
                        Ok(access) => write_file(&access, &path, &yaml).await,
                        Err(message) => Outcome::Failed(message),
                    };
                    Fact::RepositoryInitialized {
                        storage: key,
                        path,
                        outcome,
                        at: clock::now(),
                    }
                })
            }
            Effect::UploadSnapshotMetadata {
                storage,
                snapshot,
                path,
                yaml,
            } => {
                let (key, snapshot) = (storage.key.clone(), snapshot.key.clone());
                let (path, yaml) = (path.clone(), yaml.clone());
                self.storage_task(world, storage, move |access| async move {
                    let outcome = match access {
                        Ok(access) => write_file(&access, &path, &yaml).await,
                        Err(message) => Outcome::Failed(message),
                    };
                    Fact::SnapshotMetadataUploaded {
                        storage: key,
                        snapshot,
                        path,
                        outcome,
                        at: clock::now(),
                    }
                })
            }
            Effect::ForgetSnapshots {
                storage, snapshot, ..
            } => {
                let password = snapshot_password(world, &snapshot.key);
                let (key, snap) = (storage.key.clone(), snapshot.key.clone());
                let target = ForgetTarget::of(effect).unwrap_or_default();
                let metadata_path = target.metadata_path.clone();
                self.storage_task(world, storage, move |access| async move {
                    let outcome = match access {
                        Ok(access) => forget(&access, password, &target).await,
                        Err(message) => Outcome::Failed(message),
                    };
                    Fact::SnapshotsForgotten {
                        storage: key,
                        snapshot: snap,
                        metadata_path,
                        outcome,
                        at: clock::now(),
                    }
                })
            }
            Effect::WipeData { storage, path } => {
                let key = storage.key.clone();
                let path = path.clone();
                self.storage_task(world, storage, move |access| async move {
                    let outcome = match access {
                        Ok(access) => wipe(&access, &path).await,
                        Err(message) => Outcome::Failed(message),
                    };
                    Fact::DataWiped {
                        storage: key,
                        path,
                        outcome,
                        at: clock::now(),
                    }
                })
            }
            Effect::RunJob(spec) => self.start_job(world, spec),
            Effect::CancelJob(key) => {
                if let Some(handle) = self.jobs.remove(key) {
                    warn!(job = %key.session, "cancelling the executor job: its deadline passed");
                    handle.abort();
                }
                Vec::new()
            }
            Effect::RunHook(spec) => {
                self.start_hook(world, spec);
                Vec::new()
            }
            Effect::Emit(event) => {
                info!(object = %event.object, reason = %event.reason, kind = ?event.type_, "{}", event.message);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Spawns a backend task; `work` gets the resolved storage, or why it cannot be
    /// resolved (and then reports a failed outcome in its own fact).
    fn storage_task<F, Fut>(&mut self, world: &World, storage: &ObjectRef, work: F) -> Vec<Fact>
    where
        F: FnOnce(Result<StorageAccess, String>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Fact> + Send + 'static,
    {
        let reference = cairn_core::api::ObjectReference::new(
            storage.key.namespace.clone(),
            storage.key.name.clone(),
        );
        let access = storage_of(
            world,
            &reference,
            &storage.key.namespace,
            &self.base,
            "the control plane",
        )
        .map_err(|e| e.to_string());
        self.tasks.spawn(async move { vec![work(access).await] });
        Vec::new()
    }

    fn start_job(&mut self, world: &World, spec: &JobSpec) -> Vec<Fact> {
        if self.jobs.contains_key(&spec.key) {
            return Vec::new(); // a replayed RunJob names the job that already runs
        }
        let key = spec.key.clone();
        let spec = spec.clone();
        let slots = self.job_slots.clone();
        let handle = match &self.mode {
            JobMode::InProcess => {
                let prepared = prepare(world, &spec, &self.base);
                self.tasks.spawn(async move {
                    let _slot = slots.acquire_owned().await;
                    let report = run_prepared(&spec, prepared).await;
                    vec![report.into_fact(spec.key.clone(), clock::now())]
                })
            }
            JobMode::Subprocess { exe, state } => {
                let (exe, state) = (exe.clone(), state.clone());
                self.tasks.spawn(async move {
                    let _slot = slots.acquire_owned().await;
                    vec![run_subprocess(&exe, &state, &spec).await]
                })
            }
        };
        info!(job = %key.session, kind = ?key.kind, "executor job started");
        self.job_ids.insert(handle.id(), key.clone());
        self.jobs.insert(key.clone(), handle);
        vec![Fact::JobStarted {
            job: key,
            at: clock::now(),
        }]
    }

    fn start_hook(&mut self, world: &World, spec: &HookSpec) {
        let spec = spec.clone();
        let action = resolve(world, &spec);
        self.tasks
            .spawn(async move { vec![hook_finished(spec, action).await] });
    }

    /// The facts of the next task to finish; `None` when no task runs. A cancelled job
    /// reports nothing (the core already counted it failed); a panicked one vanished.
    pub async fn next(&mut self) -> Option<Vec<Fact>> {
        let joined = self.tasks.join_next_with_id().await?;
        Some(self.joined(joined))
    }

    /// The facts of a task that has already finished, without waiting; `None` when
    /// none has. The loop drains these before each turn: taking one result per turn
    /// falls behind as soon as tasks finish faster than turns run (many schedules).
    pub fn try_next(&mut self) -> Option<Vec<Fact>> {
        let joined = self.tasks.try_join_next_with_id()?;
        Some(self.joined(joined))
    }

    fn joined(&mut self, joined: Result<(Id, Vec<Fact>), tokio::task::JoinError>) -> Vec<Fact> {
        let (id, facts) = match joined {
            Ok((id, facts)) => (id, facts),
            Err(err) => {
                let id = err.id();
                let key = self.job_ids.remove(&id);
                if let Some(key) = &key {
                    self.jobs.remove(key);
                }
                return match key {
                    Some(job) if err.is_panic() => vec![Fact::JobVanished {
                        job,
                        at: clock::now(),
                    }],
                    _ => Vec::new(),
                };
            }
        };
        if let Some(key) = self.job_ids.remove(&id) {
            self.jobs.remove(&key);
        }
        facts
    }

    /// Stops every task (graceful shutdown: unfinished jobs are found vanished at the
    /// next start, and the core retries them per retryConfig).
    pub async fn shutdown(&mut self) {
        self.tasks.shutdown().await;
        self.jobs.clear();
        self.job_ids.clear();
    }
}

/// Jobs running at once unless told otherwise: one per CPU. Dumps, compression and
/// key derivation are CPU-bound; more jobs than CPUs only slow each other down and
/// starve the control loop, so schedules fire late and slots are missed.
pub fn default_job_limit() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::api::Kind;
    use cairn_core::world::ObjectKey;
    use std::time::Duration;

    /// Regression: the loop took one task result per turn, so with 50 schedules the
    /// results of finished backups queued behind slower turns and sessions stayed
    /// Running for minutes. Every finished task is now taken at once.
    #[tokio::test]
    async fn every_finished_task_is_taken_without_waiting() {
        let mut executor = Executor::new(PathBuf::from("/"), JobMode::InProcess);
        let world = World::new();
        for name in ["a", "b", "c"] {
            let storage = ObjectRef {
                kind: Kind::BackupStorage,
                key: ObjectKey::new("ns".to_owned(), name.to_owned()),
            };
            // The storage is unknown: each task fails at once with a fact.
            executor.dispatch(
                &world,
                &Effect::WipeData {
                    storage,
                    path: String::new(),
                },
            );
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut taken = 0;
        while taken < 3 && tokio::time::Instant::now() < deadline {
            match executor.try_next() {
                Some(facts) => {
                    assert_eq!(facts.len(), 1);
                    taken += 1;
                }
                None => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
        assert_eq!(taken, 3);
        assert!(!executor.busy());
        assert!(executor.try_next().is_none());
    }
}
