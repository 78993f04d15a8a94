//! The simulator's liveness check: once faults stop, every BackupSession and
//! RestoreSession must reach a terminal phase within a window of steps.

use std::collections::{BTreeMap, BTreeSet};

use cairn_core::api::RestorePhase;
use cairn_core::world::{ObjectKey, World};

/// Which kind of session a key names.
type SessionId = (bool, ObjectKey);

/// Tracks when each session was first seen unfinished, and counts finished ones.
#[derive(Clone, Debug, Default)]
pub struct Liveness {
    started: Option<u64>,
    first_seen: BTreeMap<SessionId, u64>,
    counted: BTreeSet<SessionId>,
    backups: BTreeMap<String, u64>,
    restores: BTreeMap<String, u64>,
}

impl Liveness {
    /// Faults stop at `step`: from now on the clock of every unfinished session runs.
    pub fn start(&mut self, step: u64) {
        self.started = Some(step);
    }

    /// Records this step's sessions; `Err` when one stayed unfinished too long.
    pub fn check(&mut self, world: &World, step: u64, window: u64) -> Result<(), String> {
        let mut unfinished = Vec::new();
        for (key, b) in &world.backup_sessions {
            let phase = b.status.as_ref().and_then(|s| s.phase);
            match phase.filter(|p| p.is_completed()) {
                Some(p) => self.count((true, key.clone()), format!("{p:?}")),
                None => unfinished.push(((true, key.clone()), format!("{phase:?}"))),
            }
        }
        for (key, r) in &world.restore_sessions {
            let phase = r.status.as_ref().and_then(|s| s.phase);
            let terminal = matches!(
                phase,
                Some(
                    RestorePhase::Succeeded
                        | RestorePhase::Failed
                        | RestorePhase::Invalid
                        | RestorePhase::Unknown
                )
            );
            match phase.filter(|_| terminal) {
                Some(p) => self.count((false, key.clone()), format!("{p:?}")),
                None => unfinished.push(((false, key.clone()), format!("{phase:?}"))),
            }
        }
        let Some(started) = self.started else {
            for (id, _) in unfinished {
                self.first_seen.entry(id).or_insert(step);
            }
            return Ok(());
        };
        for (id, phase) in unfinished {
            let seen = *self.first_seen.entry(id.clone()).or_insert(step);
            if step - seen.max(started) > window {
                let kind = if id.0 {
                    "BackupSession"
                } else {
                    "RestoreSession"
                };
                return Err(format!(
                    "liveness: {kind} {} is still {phase} {window} steps into the fault-free phase",
                    id.1
                ));
            }
        }
        Ok(())
    }

    fn count(&mut self, id: SessionId, phase: String) {
        if self.counted.insert(id.clone()) {
            let map = if id.0 {
                &mut self.backups
            } else {
                &mut self.restores
            };
            *map.entry(phase).or_default() += 1;
        }
    }

    /// Finished BackupSessions and RestoreSessions, by phase.
    pub fn finished_counts(&self) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
        (self.backups.clone(), self.restores.clone())
    }
}
