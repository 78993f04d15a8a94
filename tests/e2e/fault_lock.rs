//! A stale repository lock left by a killed process, met by the daemon: an operator's
//! `cairn backup` into the repository is SIGKILLed while it holds `cairn.lock`; the
//! daemon's backup then finds the holder dead (same host, no such pid), breaks the lock
//! with a warning naming it, and succeeds.
//!
//! Two daemons on one state directory (the second is refused naming the first) are
//! covered by `local_schedule.rs::schedule_fires_repeatedly_and_retention_prunes`.

use crate::fault_support::*;
use anyhow::Result;
use std::process::Stdio;

#[test]
fn fault_lock_left_by_a_killed_cli_backup_is_broken_by_the_daemon() -> Result<()> {
    // A CLI backup of 250k rows holds the lock for seconds: time to kill it.
    let env = Env::new(Options {
        rows: 250_000,
        ..Options::default()
    })?;
    let component = env.component().display().to_string();
    env.cairn(&["init", "--repo", &component])?
        .expect_ok("cairn init");
    let stderr = std::fs::File::create(env.local.path("cli-backup.log"))?;
    let mut cli = env
        .local
        .cairn
        .command(&["backup", "--db", &env.db.url(), "--repo", &component])
        .env("MYSQL_PWD", env.db.password())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()?;
    let lock = env.component().join("cairn.lock");
    let held = env.wait("the CLI backup to take the lock", || Ok(lock.exists()));
    let _ = cli.kill(); // SIGKILL, also when the wait failed
    let _ = cli.wait();
    held?;
    assert!(lock.exists(), "the killed process leaves its lock behind");
    env.record_text("cairn backup (killed)", &env.local.log("cli-backup.log"));

    let mut daemon = env.daemon(&[])?;
    env.wait("the daemon's backup to succeed", || {
        Ok(!env.in_phase("snapshots", "Succeeded").is_empty())
    })?;
    assert!(daemon.stop(), "{}", env.logs());
    let logs = env.logs();
    let broken = logs
        .lines()
        .find(|l| l.contains("breaking stale repository lock"))
        .unwrap_or_else(|| panic!("no warning about the broken lock:\n{logs}"));
    assert!(
        broken.contains("WARN") && broken.contains(&component),
        "the warning names the repository: {broken}"
    );
    assert_eq!(env.restic_snapshots()?, 1, "only the daemon's snapshot");
    env.assert_recovered()
}
