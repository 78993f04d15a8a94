//! Every decision, as a pure function of the observed world and `now`.
//!
//! `reconcile` reads the whole world and returns the effects that move it one step
//! toward the desired state. It is level-triggered and idempotent: a settled world gives
//! an empty plan, and a replayed plan changes nothing. Drivers loop `reconcile` →
//! `apply` (and IO → `observe`) until the plan is empty, then sleep until `next_wakeup`.

pub mod backup_configuration;
pub mod backup_session;
pub mod backup_storage;
pub mod defaults;
pub mod deletion;
pub mod envsubst;
pub mod executor;
pub mod hook_support;
pub mod hooks;
pub mod recovery;
pub mod repository;
pub mod repository_spec;
pub mod restore_session;
pub mod retention;
pub mod session_finish;
pub mod session_steps;
pub mod snapshot;
pub mod snapshot_spec;
pub mod trigger;
pub mod trigger_command;
pub mod validation;
pub mod write;

use chrono::{DateTime, Utc};

use crate::effect::Plan;
use crate::world::object::is_deleting;
use crate::world::World;

/// Plans the next effects for the whole world at `now`.
pub fn reconcile(world: &World, now: DateTime<Utc>) -> Plan {
    let mut plan = Plan::default();
    for storage in world
        .backup_storages
        .values()
        .filter(|o| !is_deleting(&o.metadata))
    {
        backup_storage::reconcile_storage(world, storage, now, &mut plan);
    }
    for config in world
        .backup_configurations
        .values()
        .filter(|o| !is_deleting(&o.metadata))
    {
        backup_configuration::reconcile_configuration(world, config, now, &mut plan);
    }
    for repo in world
        .repositories
        .values()
        .filter(|o| !is_deleting(&o.metadata))
    {
        repository::reconcile_repository(world, repo, now, &mut plan);
    }
    for session in world
        .backup_sessions
        .values()
        .filter(|o| !is_deleting(&o.metadata))
    {
        backup_session::reconcile_backup_session(world, session, now, &mut plan);
    }
    for snapshot in world
        .snapshots
        .values()
        .filter(|o| !is_deleting(&o.metadata))
    {
        snapshot::reconcile_snapshot(world, snapshot, now, &mut plan);
    }
    for restore in world
        .restore_sessions
        .values()
        .filter(|o| !is_deleting(&o.metadata))
    {
        restore_session::reconcile_restore(world, restore, now, &mut plan);
    }
    deletion::reconcile_deletions(world, now, &mut plan);
    plan
}
