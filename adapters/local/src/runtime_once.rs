//! The failures of one `--once` run. The exit rule itself (every session terminal,
//! retries owed included; which failures are for good) is the core's
//! `drive::unfinished`.

use std::collections::BTreeSet;

use cairn_core::drive::unfinished::failed_for_good;
pub use cairn_core::drive::unfinished::unfinished as waiting_for;
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

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::api::BackupSession;
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
