//! Choosing and taking the consistent point of a dump.
//!
//! MySQL/MariaDB: a global read lock is held only while every worker starts a
//! `WITH CONSISTENT SNAPSHOT` transaction, then released (all workers see one point in
//! time for transactional tables). SingleStore has only READ COMMITTED transactions, so
//! the only cross-table consistency is holding `FLUSH TABLES WITH READ LOCK` on a control
//! connection for the whole data dump (writes stall meanwhile).

use serde::{Deserialize, Serialize};

use crate::flavor::Flavor;
use crate::manifest::Consistency;

/// What the user asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsistencyMode {
    /// The best the server offers; fall back to per-table if the lock is refused.
    #[default]
    Auto,
    /// Require the lock-based consistent point; fail if it cannot be taken.
    Lock,
    /// Never lock (no write stall); MySQL/MariaDB workers still use snapshot transactions.
    NoLock,
}

/// The steps to run for a flavor and mode (pure; see [`plan`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsistencyPlan {
    /// Statement taking the global read lock on the control connection, if any.
    pub lock_sql: Option<&'static str>,
    /// Keep the lock until the data dump ends (else release once workers began).
    pub hold_lock: bool,
    /// Statements each worker runs before reading.
    pub worker_begin_sql: Vec<&'static str>,
    /// Statement releasing the lock.
    pub unlock_sql: &'static str,
    /// Consistency achieved when every step succeeds.
    pub achieved: Consistency,
    /// Consistency achieved if the lock is refused and the mode allows going on.
    pub fallback: Option<Consistency>,
}

/// Global read lock statement (MySQL, MariaDB, SingleStore).
pub const LOCK_SQL: &str = "FLUSH TABLES WITH READ LOCK";
/// Releases [`LOCK_SQL`] (must run on the same connection).
pub const UNLOCK_SQL: &str = "UNLOCK TABLES";
/// Snapshot transaction start for MySQL/MariaDB workers.
const SNAPSHOT_SQL: [&str; 2] = [
    "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    "START TRANSACTION WITH CONSISTENT SNAPSHOT",
];

/// Plans the consistent point for a flavor and mode.
pub fn plan(flavor: Flavor, mode: ConsistencyMode) -> ConsistencyPlan {
    let snapshot = flavor.has_consistent_snapshot();
    let worker_begin_sql = if snapshot {
        SNAPSHOT_SQL.to_vec()
    } else {
        Vec::new()
    };
    let locked = if snapshot {
        Consistency::ConsistentSnapshot
    } else {
        Consistency::GlobalReadLock
    };
    match mode {
        ConsistencyMode::NoLock => ConsistencyPlan {
            lock_sql: None,
            hold_lock: false,
            worker_begin_sql,
            unlock_sql: UNLOCK_SQL,
            achieved: Consistency::PerTable,
            fallback: None,
        },
        ConsistencyMode::Auto | ConsistencyMode::Lock => ConsistencyPlan {
            lock_sql: Some(LOCK_SQL),
            hold_lock: !snapshot,
            worker_begin_sql,
            unlock_sql: UNLOCK_SQL,
            achieved: locked,
            fallback: (mode == ConsistencyMode::Auto).then_some(Consistency::PerTable),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_per_flavor_and_mode() {
        let mut all = String::new();
        for flavor in [Flavor::MySql, Flavor::MariaDb, Flavor::SingleStore] {
            for mode in [
                ConsistencyMode::Auto,
                ConsistencyMode::Lock,
                ConsistencyMode::NoLock,
            ] {
                all.push_str(&format!("# {flavor:?} {mode:?}\n"));
                all.push_str(&serde_json::to_string_pretty(&plan(flavor, mode)).unwrap());
                all.push('\n');
            }
        }
        insta::assert_snapshot!("consistency_plans", all);
    }

    #[test]
    fn singlestore_never_uses_snapshot_transactions() {
        let p = plan(Flavor::SingleStore, ConsistencyMode::Auto);
        assert!(p.worker_begin_sql.is_empty());
        assert!(p.hold_lock);
        assert_eq!(p.achieved, Consistency::GlobalReadLock);
    }
}
