//! Safety invariants, checked by tests and the simulator after every step.
//!
//! `check` looks at one world; `check_transition` compares a world with its successor
//! (properties about change: terminal phases stay, the newest good snapshot survives).

use std::collections::BTreeMap;

use crate::api::{BackupSessionPhase, RestorePhase, Snapshot, SnapshotPhase};
use crate::reconcile::repository::snapshot_time;
use crate::world::object::is_deleting;
use crate::world::query::target_key;
use crate::world::{ObjectKey, World};

/// A broken invariant, naming the objects involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// Two BackupSessions of one configuration session run at once.
    #[error(
        "BackupSessions {sessions:?} of {configuration} session {session} run at the same time"
    )]
    ConcurrentBackups {
        /// `namespace/configuration`.
        configuration: String,
        /// Session name.
        session: String,
        /// The running sessions.
        sessions: Vec<String>,
    },
    /// A backup runs while a restore writes into the same target.
    #[error("BackupSession {backup} runs while RestoreSession {restore} restores into {target}")]
    BackupDuringRestore {
        /// Target.
        target: String,
        /// Running BackupSession.
        backup: String,
        /// Running RestoreSession.
        restore: String,
    },
    /// An unfinished Snapshot without its BackupSession (and not recovered from a backend).
    #[error("Snapshot {snapshot} is unfinished but BackupSession {session} does not exist")]
    OrphanSnapshot {
        /// Snapshot.
        snapshot: String,
        /// Missing session.
        session: String,
    },
    /// A terminal phase changed.
    #[error("{object} left terminal phase {from} for {to}")]
    TerminalPhaseChanged {
        /// `Kind namespace/name`.
        object: String,
        /// Old phase.
        from: String,
        /// New phase.
        to: String,
    },
    /// A Succeeded BackupSession has a Snapshot that did not succeed.
    #[error("BackupSession {session} is Succeeded but Snapshot {snapshot} is {phase}")]
    SucceededWithBadSnapshot {
        /// Session.
        session: String,
        /// Snapshot.
        snapshot: String,
        /// Its phase.
        phase: String,
    },
    /// The newest Succeeded Snapshot of a live repository was deleted.
    #[error(
        "Snapshot {snapshot}, the newest Succeeded one of Repository {repository}, was deleted"
    )]
    NewestSucceededDeleted {
        /// Repository.
        repository: String,
        /// Snapshot.
        snapshot: String,
    },
    /// A Secret value appears in a status, event or message.
    #[error("the value of key {key} of Secret {secret} appears in {place}")]
    SecretLeak {
        /// Secret `namespace/name`.
        secret: String,
        /// Key whose value leaked (never the value).
        key: String,
        /// Where it was found.
        place: String,
    },
}

/// Checks every single-world invariant.
pub fn check(world: &World) -> Result<(), Violation> {
    one_running_per_session(world)?;
    no_backup_during_restore(world)?;
    snapshots_have_sessions(world)?;
    succeeded_sessions_have_good_snapshots(world)?;
    no_secret_leak(world)
}

fn one_running_per_session(world: &World) -> Result<(), Violation> {
    let mut running: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for (key, s) in &world.backup_sessions {
        if s.status.as_ref().and_then(|st| st.phase) == Some(BackupSessionPhase::Running) {
            let invoker = s
                .spec
                .invoker
                .as_ref()
                .map(|i| i.name.clone())
                .unwrap_or_default();
            running
                .entry((key.namespace.clone(), invoker, s.spec.session.clone()))
                .or_default()
                .push(key.name.clone());
        }
    }
    match running.into_iter().find(|(_, v)| v.len() > 1) {
        Some(((ns, cfg, session), sessions)) => Err(Violation::ConcurrentBackups {
            configuration: format!("{ns}/{cfg}"),
            session,
            sessions,
        }),
        None => Ok(()),
    }
}

fn no_backup_during_restore(world: &World) -> Result<(), Violation> {
    for (rkey, restore) in &world.restore_sessions {
        if restore.status.as_ref().and_then(|s| s.phase) != Some(RestorePhase::Running) {
            continue;
        }
        let Some(target) = restore
            .spec
            .target
            .as_ref()
            .map(|t| target_key(t, &rkey.namespace))
        else {
            continue;
        };
        for (bkey, backup) in &world.backup_sessions {
            if backup.status.as_ref().and_then(|s| s.phase) != Some(BackupSessionPhase::Running) {
                continue;
            }
            let invoker = backup
                .spec
                .invoker
                .as_ref()
                .map(|i| i.name.clone())
                .unwrap_or_default();
            let config = world
                .backup_configurations
                .get(&ObjectKey::new(bkey.namespace.clone(), invoker));
            let aims = config
                .and_then(|c| c.spec.target.as_ref())
                .is_some_and(|t| target_key(t, &bkey.namespace) == target);
            if aims {
                return Err(Violation::BackupDuringRestore {
                    target: target.to_string(),
                    backup: bkey.to_string(),
                    restore: rkey.to_string(),
                });
            }
        }
    }
    Ok(())
}

fn snapshots_have_sessions(world: &World) -> Result<(), Violation> {
    for (key, snapshot) in &world.snapshots {
        let finished = snapshot.status.as_ref().is_some_and(|s| s.is_completed());
        let session = ObjectKey::new(key.namespace.clone(), snapshot.spec.backup_session.clone());
        if !finished && !world.backup_sessions.contains_key(&session) && !recovered(world, snapshot)
        {
            return Err(Violation::OrphanSnapshot {
                snapshot: key.to_string(),
                session: session.to_string(),
            });
        }
    }
    Ok(())
}

/// Whether a backend listing holds this snapshot's YAML.
fn recovered(world: &World, snapshot: &Snapshot) -> bool {
    world.backends.values().any(|b| {
        b.found_snapshots
            .values()
            .any(|s| s.metadata.name == snapshot.metadata.name)
    })
}

fn succeeded_sessions_have_good_snapshots(world: &World) -> Result<(), Violation> {
    for (key, session) in &world.backup_sessions {
        let Some(status) = session
            .status
            .as_ref()
            .filter(|s| s.phase == Some(BackupSessionPhase::Succeeded))
        else {
            continue;
        };
        if let Some(bad) = status
            .snapshots
            .iter()
            .find(|s| s.phase != Some(SnapshotPhase::Succeeded))
        {
            return Err(Violation::SucceededWithBadSnapshot {
                session: key.to_string(),
                snapshot: bad.name.clone(),
                phase: format!("{:?}", bad.phase),
            });
        }
    }
    Ok(())
}

/// Scans every status and event for every Secret value (values shorter than 4
/// characters would match by chance and are skipped).
fn no_secret_leak(world: &World) -> Result<(), Violation> {
    let mut places: Vec<(String, String)> = Vec::new();
    let mut add = |place: String, value: Result<String, serde_json::Error>| {
        places.push((place, value.unwrap_or_default()))
    };
    for (k, o) in &world.backup_storages {
        add(
            format!("BackupStorage {k} status"),
            serde_json::to_string(&o.status),
        )
    }
    for (k, o) in &world.repositories {
        add(
            format!("Repository {k} status"),
            serde_json::to_string(&o.status),
        )
    }
    for (k, o) in &world.snapshots {
        add(
            format!("Snapshot {k} status"),
            serde_json::to_string(&o.status),
        )
    }
    for (k, o) in &world.backup_configurations {
        add(
            format!("BackupConfiguration {k} status"),
            serde_json::to_string(&o.status),
        )
    }
    for (k, o) in &world.backup_sessions {
        add(
            format!("BackupSession {k} status"),
            serde_json::to_string(&o.status),
        )
    }
    for (k, o) in &world.restore_sessions {
        add(
            format!("RestoreSession {k} status"),
            serde_json::to_string(&o.status),
        )
    }
    for (i, e) in world.events.iter().enumerate() {
        add(
            format!("event #{i} on {}", e.object),
            serde_json::to_string(e),
        )
    }
    for (k, j) in &world.jobs {
        add(
            format!("job {}/{}", k.namespace, k.session),
            serde_json::to_string(j),
        )
    }
    for (skey, secret) in &world.secrets {
        for (key, value) in &secret.data {
            let value = value.expose();
            if value.len() < 4 || !is_confidential_key(key) {
                continue;
            }
            if let Some((place, _)) = places.iter().find(|(_, text)| text.contains(value)) {
                return Err(Violation::SecretLeak {
                    secret: skey.to_string(),
                    key: key.clone(),
                    place: place.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Secret keys that name an identity or a public certificate rather than a secret: a
/// user name like `root` may well appear in a message ("written at the root of ...").
const PUBLIC_SECRET_KEYS: [&str; 8] = [
    "username",
    "user",
    "AWS_ACCESS_KEY_ID",
    "AZURE_ACCOUNT_NAME",
    "GOOGLE_PROJECT_ID",
    "ca.crt",
    "tls.crt",
    "CA_CERT_DATA",
];

/// Whether a Secret key holds a value that must never appear in status, events or jobs.
pub fn is_confidential_key(key: &str) -> bool {
    !PUBLIC_SECRET_KEYS.contains(&key)
}

/// Checks invariants about the step from `before` to `after`.
pub fn check_transition(before: &World, after: &World) -> Result<(), Violation> {
    terminal_phases_stay(before, after)?;
    newest_succeeded_survives(before, after)
}

fn terminal_phases_stay(before: &World, after: &World) -> Result<(), Violation> {
    let changed =
        |kind: &str, key: &ObjectKey, from: String, to: String| Violation::TerminalPhaseChanged {
            object: format!("{kind} {key}"),
            from,
            to,
        };
    for (key, old) in &before.backup_sessions {
        let (Some(from), Some(new)) = (
            old.status.as_ref().and_then(|s| s.phase),
            after.backup_sessions.get(key),
        ) else {
            continue;
        };
        let to = new.status.as_ref().and_then(|s| s.phase);
        if from.is_completed() && to != Some(from) {
            return Err(changed(
                "BackupSession",
                key,
                format!("{from:?}"),
                format!("{to:?}"),
            ));
        }
    }
    for (key, old) in &before.snapshots {
        let (Some(from), Some(new)) = (
            old.status.as_ref().and_then(|s| s.phase),
            after.snapshots.get(key),
        ) else {
            continue;
        };
        let to = new.status.as_ref().and_then(|s| s.phase);
        if matches!(from, SnapshotPhase::Succeeded | SnapshotPhase::Failed) && to != Some(from) {
            return Err(changed(
                "Snapshot",
                key,
                format!("{from:?}"),
                format!("{to:?}"),
            ));
        }
    }
    for (key, old) in &before.restore_sessions {
        let (Some(from), Some(new)) = (
            old.status.as_ref().and_then(|s| s.phase),
            after.restore_sessions.get(key),
        ) else {
            continue;
        };
        let to = new.status.as_ref().and_then(|s| s.phase);
        let terminal = from.is_terminal();
        if terminal && to != Some(from) {
            return Err(changed(
                "RestoreSession",
                key,
                format!("{from:?}"),
                format!("{to:?}"),
            ));
        }
    }
    Ok(())
}

/// The newest Succeeded Snapshot of a Repository that is not itself being deleted is
/// never deleted (retention always keeps it). "Newest" is taken over `before` and `after`
/// together, so the check holds for a whole controller turn as well as for one round of
/// effects: within a turn a newer Snapshot may succeed and retention then remove the
/// older one, which is right; removing the newest of both worlds never is.
fn newest_succeeded_survives(before: &World, after: &World) -> Result<(), Violation> {
    let succeeded =
        |s: &&Snapshot| s.status.as_ref().and_then(|st| st.phase) == Some(SnapshotPhase::Succeeded);
    for (rkey, repo) in &before.repositories {
        let repo_alive = !is_deleting(&repo.metadata)
            && after
                .repositories
                .get(rkey)
                .is_some_and(|r| !is_deleting(&r.metadata));
        if !repo_alive {
            continue;
        }
        let newest = before
            .repository_snapshots(&rkey.namespace, &rkey.name)
            .filter(succeeded)
            .chain(
                after
                    .repository_snapshots(&rkey.namespace, &rkey.name)
                    .filter(succeeded),
            )
            .max_by_key(|s| (snapshot_time(s), s.metadata.name.clone()));
        let Some(newest) = newest else { continue };
        let skey = ObjectKey::of(&newest.metadata);
        let deleted = after
            .snapshots
            .get(&skey)
            .is_none_or(|s| is_deleting(&s.metadata));
        let deleting_before = before
            .snapshots
            .get(&skey)
            .is_some_and(|s| is_deleting(&s.metadata));
        if deleted && !deleting_before {
            return Err(Violation::NewestSucceededDeleted {
                repository: rkey.to_string(),
                snapshot: skey.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod confidential_key_tests {
    use super::is_confidential_key;

    #[test]
    fn user_names_and_public_certificates_are_not_secrets() {
        for key in ["username", "AWS_ACCESS_KEY_ID", "ca.crt", "tls.crt"] {
            assert!(!is_confidential_key(key), "{key}");
        }
        for key in [
            "password",
            "RESTIC_PASSWORD",
            "AWS_SECRET_ACCESS_KEY",
            "tls.key",
            "token",
        ] {
            assert!(is_confidential_key(key), "{key}");
        }
    }
}
