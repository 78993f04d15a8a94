//! Shared set-up of the integration tests that run against a private MariaDB.

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::time::Duration;

use cairn_db::conn::{DbTarget, Secret};
use cairn_testkit::MariaDb;

/// Upper bound on one test's database work.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(240);

/// The server's root account as a dump/restore target.
pub fn target(db: &MariaDb) -> DbTarget {
    DbTarget::parse_url(&db.url())
        .unwrap()
        .with_password(Some(Secret::new(db.password())))
}

/// Starts a server, retrying: parallel `mariadb-install-db` runs can collide on /tmp files.
pub fn start_server() -> anyhow::Result<MariaDb> {
    let mut last = None;
    for _ in 0..3 {
        match MariaDb::start() {
            Ok(db) => return Ok(db),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("at least one attempt"))
}

/// A small multi-threaded runtime for one test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
