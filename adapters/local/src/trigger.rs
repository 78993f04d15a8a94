//! `cairn trigger` on a state directory: start a backup now, as `kubectl kubestash
//! trigger` does (the sessions are the core's `manual_sessions`). A running `cairn run`
//! picks them up on its next turn.

use anyhow::{bail, Result};
use cairn_core::reconcile::trigger_command::manual_sessions;
use cairn_core::world::{observe, Fact, Object, ObjectKey};

use crate::clock;
use crate::store::StateDir;

/// Creates BackupSessions of `sessions` (every session when empty) of BackupConfiguration
/// `namespace/configuration` in the state directory `state`.
pub fn trigger(
    state: &std::path::Path,
    namespace: &str,
    configuration: &str,
    sessions: &[String],
) -> Result<()> {
    let mut dir = StateDir::open(state)?;
    let _lock = dir.lock()?;
    dir.reload()?;
    let mut world = dir.load_world()?;
    let key = ObjectKey::new(namespace, configuration);
    let Some(config) = world.backup_configurations.get(&key).cloned() else {
        bail!(
            "BackupConfiguration {key} not found in state directory {}: apply it first (`cairn apply -f` or `cairn run -f`)",
            state.display()
        );
    };
    for created in manual_sessions(&world, &config, sessions, clock::now())? {
        let name = created.metadata.name.clone().unwrap_or_default();
        observe(&mut world, Fact::Applied(Object::BackupSession(created)));
        println!("backupsession/{name} created");
    }
    dir.save_world(&world)?;
    Ok(())
}
