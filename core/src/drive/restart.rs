//! What a control plane knows after it restarts.
//!
//! The Kubernetes operator ([`operator_restart`]) keeps nothing itself: the API server
//! holds the objects, the executor Jobs outlive it and are adopted from their
//! annotations, the trigger CronJobs are re-read; what lived only in its memory is gone
//! (requests in flight, the hooks it ran in its pod and their outcomes, what it learnt of
//! the backend files, which it learns again). The simulator restarts with it; the model
//! still restarts with [`World::persisted`] only (with hooks and backend facts dropped too,
//! its state space outgrew 23 GB: it needs a reduction first).
//!
//! A control plane that runs its executor jobs and hooks itself (the local daemon,
//! [`resume_in_process_work`]) starts on the world it saved: that work died with the
//! previous process.
//!
//! A job is started again, once: a backup slot is not lost because the host went down or
//! the daemon was stopped (systemd's `Persistent=true` timers behave the same). A job that
//! dies with its control plane a second time counts as vanished, and the session's own
//! `retryConfig` decides what follows. Hooks are not repeated: a hook may have side effects,
//! so an interrupted one is reported failed and its execution policy decides.

use chrono::{DateTime, Utc};

use crate::api::Kind;
use crate::effect::Effect;
use crate::event::Event;
use crate::job::{JobKey, JobKind, JobPhase};
use crate::world::{observe, Fact, HookKey, HookOutcome, ObjectKey, ObjectRef, World};

/// Most times one job is started again after dying with its control plane.
pub const MAX_RERUNS: u32 = 1;

/// What resuming found, for the control plane's log and its first turn.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resumed {
    /// Effects to carry out once the updated world is persisted (the jobs to run again).
    pub effects: Vec<Effect>,
    /// Jobs started again.
    pub rerun: Vec<JobKey>,
    /// Jobs that died with their control plane once too often: recorded as vanished.
    pub vanished: Vec<JobKey>,
    /// Hooks that were running: recorded as failed.
    pub interrupted_hooks: Vec<HookKey>,
}

/// The world a restarted operator rebuilds from the API server: the objects, the job
/// records (adopted from their Jobs) and the triggers (from their CronJobs), without
/// what only its memory held.
pub fn operator_restart(world: &World) -> World {
    let mut world = world.persisted();
    world.hooks.clear();
    world.backends.clear();
    world.events.clear();
    world
}

/// Resumes the unfinished jobs and hooks of `world` after a restart at `now`.
pub fn resume_in_process_work(world: &mut World, now: DateTime<Utc>) -> Resumed {
    let mut out = Resumed::default();
    let unfinished: Vec<JobKey> = world
        .jobs
        .iter()
        .filter(|(_, job)| !job.is_finished())
        .map(|(key, _)| key.clone())
        .collect();
    for key in unfinished {
        let Some(job) = world.jobs.get_mut(&key) else {
            continue;
        };
        if job.reruns >= MAX_RERUNS {
            observe(
                world,
                Fact::JobVanished {
                    job: key.clone(),
                    at: now,
                },
            );
            out.vanished.push(key);
            continue;
        }
        job.reruns += 1;
        job.phase = JobPhase::Pending;
        job.started_at = None;
        job.result = None;
        job.message.clear();
        out.effects.push(Effect::RunJob(job.spec.clone()));
        out.effects.push(Effect::Emit(Event::warning(
            session_of(&key),
            "ExecutorRestarted",
            format!(
                "the {} executor of {} {} stopped with the control plane before it finished; \
                 running it again (once)",
                kind_word(key.kind),
                session_kind(key.kind),
                ObjectKey::new(key.namespace.clone(), key.session.clone()),
            ),
        )));
        out.rerun.push(key);
    }
    let pending_hooks: Vec<HookKey> = world
        .hooks
        .iter()
        .filter(|(_, h)| h.outcome == HookOutcome::Pending)
        .map(|(k, _)| k.clone())
        .collect();
    for hook in pending_hooks {
        let message = format!(
            "hook {} of {} was interrupted: the control plane stopped before it finished",
            hook.name, hook.session
        );
        observe(
            world,
            Fact::HookFinished {
                hook: hook.clone(),
                outcome: HookOutcome::Failed,
                message,
            },
        );
        out.interrupted_hooks.push(hook);
    }
    out
}

fn session_of(key: &JobKey) -> ObjectRef {
    let kind = match key.kind {
        JobKind::Backup => Kind::BackupSession,
        JobKind::Restore => Kind::RestoreSession,
    };
    ObjectRef {
        kind,
        key: ObjectKey::new(key.namespace.clone(), key.session.clone()),
    }
}

fn kind_word(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Backup => "backup",
        JobKind::Restore => "restore",
    }
}

fn session_kind(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Backup => "BackupSession",
        JobKind::Restore => "RestoreSession",
    }
}
