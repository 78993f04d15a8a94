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
}

impl Failures {
    /// Records every session of `world` that is failed for good.
    pub fn record(&mut self, world: &World) {
        for (key, s) in &world.backup_sessions {
            if backup_phase(s) == Some(BackupSessionPhase::Failed) && !retry_owed(s) && !retried(s)
            {
                self.sessions.insert(format!("BackupSession {key} Failed"));
            }
        }
        for (key, r) in &world.restore_sessions {
            let phase = r.status.as_ref().and_then(|s| s.phase);
            if matches!(
                phase,
                Some(RestorePhase::Failed | RestorePhase::Invalid | RestorePhase::Unknown)
            ) {
                self.sessions.insert(format!(
                    "RestoreSession {key} {phase:?}",
                    phase = phase.unwrap_or(RestorePhase::Unknown)
                ));
            }
        }
    }
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
        let done = matches!(
            phase,
            Some(
                RestorePhase::Succeeded
                    | RestorePhase::Failed
                    | RestorePhase::Invalid
                    | RestorePhase::Unknown
            )
        );
        if !done {
            out.push(format!("RestoreSession {key} (phase {phase:?})"));
        }
    }
    out
}
