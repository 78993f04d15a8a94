//! The database failing under the daemon: restarted in the middle of a dump, and down when
//! the schedule fires. The session fails with a message naming the AppBinding and the
//! server, no snapshot is listed, and once the server is back the next session succeeds.

use crate::fault_support::*;
use anyhow::Result;

#[test]
fn fault_db_restarted_mid_dump_fails_the_session_and_the_next_succeeds() -> Result<()> {
    let mut env = Env::new(Options {
        rows: 400_000,
        ..Options::default()
    })?;
    let mut daemon = env.daemon(&[])?;
    let lock = env.component().join("cairn.lock");
    env.wait("the dump to start", || Ok(lock.exists()))?;
    env.db.restart()?; // SIGTERM (connections killed), then started again
    env.wait("the backup to fail", || {
        Ok(!env.in_phase("snapshots", "Failed").is_empty())
    })?;
    assert!(daemon.stop(), "{}", env.logs());
    let snapshot = &env.in_phase("snapshots", "Failed")[0];
    let error = component_error(snapshot);
    assert!(
        error.contains("AppBinding demo/app") || error.contains("demo/app"),
        "the message names the database: {error}"
    );
    assert!(
        error.contains("`big`.`t`"),
        "the message names the table being dumped: {error}"
    );
    assert!(
        error.contains(&format!("127.0.0.1:{}", env.db.port())),
        "the message names the server: {error}"
    );
    assert!(!error.contains('\n'), "one line: {error}");
    eprintln!("database restarted mid-dump: {error}");
    assert_eq!(env.in_phase("backupsessions", "Failed").len(), 1);
    assert_eq!(env.restic_snapshots()?, 0, "no partial snapshot is listed");
    env.assert_recovered()
}

#[test]
fn fault_db_down_when_the_schedule_fires_then_up_the_next_session_succeeds() -> Result<()> {
    let mut env = Env::new(Options {
        schedule: "@every 3s",
        ..Options::default()
    })?;
    env.db.stop();
    let mut daemon = env.daemon(&[])?;
    env.wait("a backup to fail on the stopped server", || {
        Ok(!env.in_phase("snapshots", "Failed").is_empty())
    })?;
    let snapshot = &env.in_phase("snapshots", "Failed")[0];
    let error = component_error(snapshot).to_owned();
    assert!(
        error.contains(&format!("127.0.0.1:{}", env.db.port())) && error.contains("demo/app"),
        "the message names the AppBinding and the server: {error}"
    );
    eprintln!("database down: {error}");

    env.db.restart()?;
    env.wait(
        "a scheduled session to succeed once the server is up",
        || Ok(!env.in_phase("snapshots", "Succeeded").is_empty()),
    )?;
    assert!(daemon.stop(), "{}", env.logs());
    env.assert_recovered()
}
