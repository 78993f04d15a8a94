//! What `cairn trigger` creates: the BackupSession of a trigger CronJob firing (in a
//! cluster), or of a manual trigger (`kubectl kubestash trigger`, `cairn trigger`).

use chrono::{DateTime, Duration, Utc};

use crate::api::backup_configuration::Session;
use crate::api::{BackupConfiguration, BackupSession};
use crate::plan::Schedule;
use crate::world::{ObjectKey, World};

use super::trigger::new_backup_session;

/// Why `cairn trigger` cannot create a session.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TriggerError {
    /// The configuration has no session of that name.
    #[error(
        "BackupConfiguration {configuration} has no session {session:?}; its sessions are {known}"
    )]
    UnknownSession {
        /// `namespace/name` of the configuration.
        configuration: String,
        /// The session asked for.
        session: String,
        /// The sessions it has, comma-separated.
        known: String,
    },
}

/// Retries a scheduled session may make: `retryConfig.maxRetry` (at least 1 when set).
pub fn retry_budget(session: &Session) -> i32 {
    session
        .retry_config
        .as_ref()
        .map_or(0, |r| r.max_retry.max(1))
}

/// The BackupSession a trigger CronJob of `session` firing at `now` creates: named after
/// the latest slot at or before `now` (`now` when the schedule does not parse), which is
/// the name the operator gives that slot, so the two create one object; with the
/// session's retry budget.
pub fn cron_fired_session(
    bc: &BackupConfiguration,
    session: &str,
    now: DateTime<Utc>,
) -> Result<BackupSession, TriggerError> {
    let config = find_sessions(bc, &[session.to_owned()])?;
    let s = config[0];
    let slot = s
        .scheduler
        .as_ref()
        .and_then(|sch| Schedule::parse(&sch.schedule).ok())
        .and_then(|sch| sch.latest_at_or_before(now))
        .unwrap_or(now);
    let mut object = new_backup_session(bc, s, slot, retry_budget(s));
    // The API server sets it.
    object.metadata.creation_timestamp = None;
    Ok(object)
}

/// The BackupSessions a manual trigger at `now` creates: one per session named (every
/// session when none is), without retries, each named after `now` or the first later
/// second no session of it is named after. Names hold whole seconds, so a trigger in
/// the same second as the instant backup (or another trigger) would otherwise replace
/// that running session instead of adding one to be Skipped.
pub fn manual_sessions(
    world: &World,
    bc: &BackupConfiguration,
    sessions: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<BackupSession>, TriggerError> {
    let chosen = find_sessions(bc, sessions)?;
    Ok(chosen
        .into_iter()
        .map(|s| new_backup_session(bc, s, free_second(world, bc, s, now), 0))
        .collect())
}

/// The sessions of `bc` named in `names` (all when empty), in the configuration's order.
fn find_sessions<'a>(
    bc: &'a BackupConfiguration,
    names: &[String],
) -> Result<Vec<&'a Session>, TriggerError> {
    let known: Vec<&str> = bc.spec.sessions.iter().map(|s| s.name.as_str()).collect();
    if let Some(unknown) = names.iter().find(|n| !known.contains(&n.as_str())) {
        return Err(TriggerError::UnknownSession {
            configuration: ObjectKey::of(&bc.metadata).to_string(),
            session: unknown.clone(),
            known: known.join(", "),
        });
    }
    Ok(bc
        .spec
        .sessions
        .iter()
        .filter(|s| names.is_empty() || names.contains(&s.name))
        .collect())
}

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
    use crate::world::{observe, Fact, Object};

    fn config() -> BackupConfiguration {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "core.kubestash.com/v1alpha1",
            "kind": "BackupConfiguration",
            "metadata": {"name": "bc", "namespace": "demo"},
            "spec": {"sessions": [
                {"name": "full", "scheduler": {"schedule": "*/5 * * * *", "jobTemplate": {}},
                 "retryConfig": {"maxRetry": 2, "delay": "1m"}},
                {"name": "other"}
            ]}
        }))
        .unwrap()
    }

    /// Regression: `cairn trigger` within the second the instant backup started
    /// replaced that running session (same name) instead of creating a Skipped one.
    #[test]
    fn a_trigger_in_the_same_second_as_a_session_takes_the_next_second() {
        let bc = config();
        let now: DateTime<Utc> = "2026-11-26T08:32:38.600Z".parse().unwrap();
        let mut world = World::new();
        let first = manual_sessions(&world, &bc, &["full".to_owned()], now).unwrap();
        assert_eq!(
            first[0].metadata.name.as_deref(),
            Some("bc-full-1795681958")
        );
        for at in [now, now + Duration::seconds(1)] {
            let running = new_backup_session(&bc, &bc.spec.sessions[0], at, 0);
            observe(&mut world, Fact::Applied(Object::BackupSession(running)));
        }
        let next = manual_sessions(&world, &bc, &["full".to_owned()], now).unwrap();
        assert_eq!(next[0].metadata.name.as_deref(), Some("bc-full-1795681960"));
        assert_eq!(
            next[0].spec.retry_left, 0,
            "a manual trigger does not retry"
        );
    }

    #[test]
    fn a_manual_trigger_without_sessions_starts_every_session() {
        let now: DateTime<Utc> = "2026-11-26T08:32:38Z".parse().unwrap();
        let made = manual_sessions(&World::new(), &config(), &[], now).unwrap();
        let sessions: Vec<&str> = made.iter().map(|s| s.spec.session.as_str()).collect();
        assert_eq!(sessions, ["full", "other"]);
    }

    #[test]
    fn an_unknown_session_is_refused_with_the_known_ones() {
        let now: DateTime<Utc> = "2026-11-26T08:32:38Z".parse().unwrap();
        let err =
            manual_sessions(&World::new(), &config(), &["nightly".to_owned()], now).unwrap_err();
        assert_eq!(
            err.to_string(),
            "BackupConfiguration demo/bc has no session \"nightly\"; its sessions are full, other"
        );
    }

    #[test]
    fn a_cron_firing_names_the_slot_and_keeps_the_retry_budget() {
        let now: DateTime<Utc> = "2026-11-26T08:32:38Z".parse().unwrap();
        let fired = cron_fired_session(&config(), "full", now).unwrap();
        let slot: DateTime<Utc> = "2026-11-26T08:30:00Z".parse().unwrap();
        assert_eq!(
            fired.metadata.name,
            Some(format!("bc-full-{}", slot.timestamp()))
        );
        assert_eq!(fired.spec.retry_left, 2);
        assert!(fired.metadata.creation_timestamp.is_none());
    }
}
