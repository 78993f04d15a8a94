//! What is still unfinished in a world, and what failed for good: the one definition
//! `cairn run --once` exits by and the control planes report with.

use crate::api::backup_configuration::BackupInvokerPhase;
use crate::api::condition::is_condition_true;
use crate::api::condition_type::TYPE_INITIAL_BACKUP_TRIGGERED;
use crate::api::{BackupSession, BackupSessionPhase, RestorePhase};
use crate::reconcile::session_finish::retry_pending;
use crate::world::World;

/// `BackupSession ns/name Failed`, `RestoreSession ns/name PHASE` of each session of
/// `world` that failed for good.
pub fn failed_for_good(world: &World) -> impl Iterator<Item = String> + '_ {
    let backups = world
        .backup_sessions
        .iter()
        .filter(|(_, s)| {
            backup_phase(s) == Some(BackupSessionPhase::Failed) && !retry_pending(s) && !retried(s)
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

/// What is still to happen before every session is over, in words (empty when done):
/// configurations not yet Ready, sessions not terminal, retries owed.
pub fn unfinished(world: &World) -> Vec<String> {
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
        } else if retry_pending(s) {
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
