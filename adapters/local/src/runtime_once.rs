//! The `--once` exit rule: run until every triggered session is terminal (including
//! retries still owed), then exit, failing if any session failed for good.

use std::collections::BTreeSet;

use cairn_core::api::backup_configuration::BackupInvokerPhase;
use cairn_core::api::condition::is_condition_true;
use cairn_core::api::condition_type::TYPE_INITIAL_BACKUP_TRIGGERED;
use cairn_core::api::{BackupSession, BackupSessionPhase, RestorePhase};
use cairn_core::world::World;

/// Sessions that ended badly during this run (sessions may be cleaned from the world
/// by `sessionHistoryLimit` before the run ends, so failures are recorded as seen).
#[derive(Debug, Default)]
pub struct Failures {
    /// `BackupSession ns/name` or `RestoreSession ns/name`, with the phase.
    pub sessions: BTreeSet<String>,
    /// Failures already in the state when the run started: a past run's, not this one's
    /// (else every `--once` after a failure would fail until the history forgets it).
    before: BTreeSet<String>,
}

impl Failures {
    /// Failures of a run starting on `world`.
    pub fn since(world: &World) -> Self {
        Self {
            sessions: BTreeSet::new(),
            before: failed_for_good(world).collect(),
        }
    }

    /// Records every session of `world` that is failed for good (and was not at the start).
    pub fn record(&mut self, world: &World) {
        let new: Vec<String> = failed_for_good(world)
            .filter(|s| !self.before.contains(s))
            .collect();
        self.sessions.extend(new);
    }
}

/// `BackupSession ns/name Failed`, `RestoreSession ns/name PHASE` of each session of
/// `world` that failed for good.
fn failed_for_good(world: &World) -> impl Iterator<Item = String> + '_ {
    let backups = world
        .backup_sessions
        .iter()
        .filter(|(_, s)| {
            backup_phase(s) == Some(BackupSessionPhase::Failed) && !retry_owed(s) && !retried(s)
        })
        .map(|(key, _)| format!("BackupSession {key} Failed"));
    let restores = world.restore_sessions.iter().filter_map(|(key, r)| {
        let phase = r.status.as_ref().and_then(|s| s.phase);
        matches!(
            phase,
            Some(RestorePhase::Failed | RestorePhase::Invalid | RestorePhase::Unknown)
        )
        .then(|| {
            format!(
                "RestoreSession {key} {phase:?}",
                phase = phase.unwrap_or(RestorePhase::Unknown)
            )
        })
    });
    backups.chain(restores)
}

fn backup_phase(s: &BackupSession) -> Option<BackupSessionPhase> {
    s.status.as_ref().and_then(|st| st.phase)
}

fn retried(s: &BackupSession) -> bool {
    s.status.as_ref().and_then(|st| st.retried) == Some(true)
}

/// A failed session whose retry has not been created yet.
fn retry_owed(s: &BackupSession) -> bool {
    backup_phase(s) == Some(BackupSessionPhase::Failed) && s.spec.retry_left > 0 && !retried(s)
}

/// What `--once` still waits for, in words (empty when done).
pub fn waiting_for(world: &World) -> Vec<String> {
    let mut out = Vec::new();
    for (key, bc) in &world.backup_configurations {
        let status = bc.status.clone().unwrap_or_default();
        let invalid = status.phase == Some(BackupInvokerPhase::Invalid);
        if !bc.spec.paused
            && !invalid
            && !is_condition_true(&status.conditions, TYPE_INITIAL_BACKUP_TRIGGERED)
        {
            out.push(format!(
                "BackupConfiguration {key} to become Ready (phase {:?})",
                status.phase
            ));
        }
    }
    for (key, s) in &world.backup_sessions {
        let done = backup_phase(s).is_some_and(BackupSessionPhase::is_completed);
        if !done {
            out.push(format!("BackupSession {key} (phase {:?})", backup_phase(s)));
        } else if retry_owed(s) {
            out.push(format!("the retry of BackupSession {key}"));
        }
    }
    for (key, r) in &world.restore_sessions {
        let phase = r.status.as_ref().and_then(|s| s.phase);
        if !phase.is_some_and(RestorePhase::is_terminal) {
            out.push(format!("RestoreSession {key} (phase {phase:?})"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::world::ObjectKey;

    fn failed_session(name: &str) -> BackupSession {
        serde_yaml::from_str(&format!(
            "metadata: {{name: {name}, namespace: demo}}\n\
             spec: {{invoker: {{apiGroup: core.kubestash.com, kind: BackupConfiguration, name: bc}}, session: full}}\n\
             status: {{phase: Failed}}\n"
        ))
        .unwrap()
    }

    #[test]
    fn a_failure_of_a_past_run_is_not_this_runs() {
        let mut world = World::default();
        world
            .backup_sessions
            .insert(ObjectKey::new("demo", "old"), failed_session("old"));
        let mut failures = Failures::since(&world);
        failures.record(&world);
        assert!(failures.sessions.is_empty(), "{:?}", failures.sessions);

        world
            .backup_sessions
            .insert(ObjectKey::new("demo", "new"), failed_session("new"));
        failures.record(&world);
        assert_eq!(
            failures.sessions.iter().collect::<Vec<_>>(),
            ["BackupSession demo/new Failed"]
        );
    }
}
