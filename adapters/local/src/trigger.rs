//! `cairn trigger`: start a backup now, as `kubectl kubestash trigger` does: a new
//! BackupSession per session (named `<config>-<session>-<unix seconds>`, no retries).
//! A running `cairn run` picks it up on its next turn.

use anyhow::{bail, Result};
use cairn_core::api::backup_configuration::Session;
use cairn_core::api::BackupConfiguration;
use cairn_core::reconcile::trigger::new_backup_session;
use cairn_core::world::{observe, Fact, Object, ObjectKey, World};
use chrono::{DateTime, Duration, Utc};

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
        let created = new_backup_session(
            &config,
            session,
            free_second(&world, &config, session, now),
            0,
        );
        let name = created.metadata.name.clone().unwrap_or_default();
        observe(&mut world, Fact::Applied(Object::BackupSession(created)));
        println!("backupsession/{name} created");
    }
    dir.save_world(&world)?;
    Ok(())
}

/// The time to name a new session of `session` after: `now`, or the first later second
/// no session of it is named after. Names hold whole seconds, so a trigger in the
/// same second as the instant backup (or another trigger) would otherwise replace
/// that running session instead of adding one to be Skipped.
fn free_second(
    world: &World,
    config: &BackupConfiguration,
    session: &Session,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let namespace = config.metadata.namespace.clone().unwrap_or_default();
    let mut at = now;
    loop {
        let name = new_backup_session(config, session, at, 0)
            .metadata
            .name
            .unwrap_or_default();
        if !world
            .backup_sessions
            .contains_key(&ObjectKey::new(namespace.clone(), name))
        {
            return at;
        }
        at += Duration::seconds(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: `cairn trigger` within the second the instant backup started
    /// replaced that running session (same name) instead of creating a Skipped one.
    #[test]
    fn a_trigger_in_the_same_second_as_a_session_takes_the_next_second() {
        let config: BackupConfiguration = serde_yaml::from_str(
            "apiVersion: core.kubestash.com/v1alpha1\nkind: BackupConfiguration\n\
             metadata: {name: bc, namespace: demo}\nspec:\n  sessions:\n    - name: full\n",
        )
        .unwrap();
        let session = config.spec.sessions[0].clone();
        let now: DateTime<Utc> = "2026-11-26T08:32:38.600Z".parse().unwrap();
        let mut world = World::new();
        assert_eq!(free_second(&world, &config, &session, now), now);
        for at in [now, now + Duration::seconds(1)] {
            let running = new_backup_session(&config, &session, at, 0);
            observe(&mut world, Fact::Applied(Object::BackupSession(running)));
        }
        let at = free_second(&world, &config, &session, now);
        assert_eq!(at, now + Duration::seconds(2));
        assert_eq!(
            new_backup_session(&config, &session, at, 0)
                .metadata
                .name
                .as_deref(),
            Some("bc-full-1795681960")
        );
    }
}
