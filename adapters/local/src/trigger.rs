//! `cairn trigger`: start a backup now, as `kubectl kubestash trigger` does: a new
//! BackupSession per session (named `<config>-<session>-<unix seconds>`, no retries).
//! A running `cairn run` picks it up on its next turn.

use anyhow::{bail, Result};
use cairn_core::reconcile::trigger::new_backup_session;
use cairn_core::world::{observe, Fact, Object, ObjectKey};

use crate::cli::TriggerArgs;
use crate::clock;
use crate::store::StateDir;

/// Creates the BackupSessions asked for by `args` in the state directory.
pub fn trigger(args: TriggerArgs) -> Result<()> {
    let mut dir = StateDir::open(&args.state)?;
    let _lock = dir.lock()?;
    dir.reload()?;
    let mut world = dir.load_world()?;
    let key = ObjectKey::new(args.namespace.clone(), args.backupconfiguration.clone());
    let Some(config) = world.backup_configurations.get(&key).cloned() else {
        bail!(
            "BackupConfiguration {key} not found in state directory {}: apply it first (`cairn apply -f` or `cairn run -f`)",
            args.state.display()
        );
    };
    let known: Vec<&str> = config
        .spec
        .sessions
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    if let Some(unknown) = args.session.iter().find(|s| !known.contains(&s.as_str())) {
        bail!(
            "BackupConfiguration {key} has no session {unknown:?}; its sessions are {}",
            known.join(", ")
        );
    }
    let now = clock::now();
    for session in config
        .spec
        .sessions
        .iter()
        .filter(|s| args.session.is_empty() || args.session.contains(&s.name))
    {
        let created = new_backup_session(&config, session, now, 0);
        let name = created.metadata.name.clone().unwrap_or_default();
        observe(&mut world, Fact::Applied(Object::BackupSession(created)));
        println!("backupsession/{name} created");
    }
    dir.save_world(&world)?;
    Ok(())
}
