//! The binary caps glibc's malloc arenas by re-executing itself once with
//! `MALLOC_ARENA_MAX=2`: same pid and arguments, and a value the user set is kept.

use crate::local_support::*;
use anyhow::Result;

/// Waits until the daemon has written the BackupStorage (its signal handlers are in place
/// by then, so a SIGTERM stops it cleanly).
fn wait_until_running(local: &Local) -> Result<()> {
    eventually("the daemon's first turn", || {
        Ok(!local.objects("state", "backupstorages")?.is_empty())
    })
}

/// `MALLOC_ARENA_MAX` in the environment of the running process `pid`, once it has one.
fn arena_max_of(pid: u32) -> Result<Option<String>> {
    let mut found = None;
    eventually("the daemon's environment", || {
        let environ = std::fs::read(format!("/proc/{pid}/environ"))?;
        found = environ
            .split(|b| *b == 0)
            .filter_map(|kv| std::str::from_utf8(kv).ok())
            .find_map(|kv| kv.strip_prefix("MALLOC_ARENA_MAX=").map(str::to_owned));
        // Right after spawn the old image may still be there; the new one has the variable.
        Ok(found.is_some())
    })?;
    Ok(found)
}

#[test]
fn the_daemon_runs_with_two_malloc_arenas_under_its_own_pid_and_arguments() -> Result<()> {
    let local = Local::new()?;
    let set = local.write("m", "base.yaml", &base_manifests("store", &local.path("b")))?;
    let mut daemon = local.spawn_daemon("state", &[&set], "daemon.log")?;
    let pid = daemon.id();
    let value = wait_until_running(&local).and_then(|()| arena_max_of(pid));
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(stop(&mut daemon), "{}", local.log("daemon.log"));
    assert_eq!(value?.as_deref(), Some("2"));
    let args: Vec<_> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .collect();
    assert_eq!(args.get(1).copied(), Some(&b"run"[..]), "{args:?}");
    Ok(())
}

#[test]
fn a_malloc_arena_max_the_user_set_is_kept() -> Result<()> {
    let local = Local::new()?;
    let set = local.write("m", "base.yaml", &base_manifests("store", &local.path("b")))?;
    let mut daemon = local.spawn_daemon_with_env(
        "state",
        &[&set],
        "daemon.log",
        &[("MALLOC_ARENA_MAX", "4")],
    )?;
    let value = wait_until_running(&local).and_then(|()| arena_max_of(daemon.id()));
    assert!(stop(&mut daemon), "{}", local.log("daemon.log"));
    assert_eq!(value?.as_deref(), Some("4"));
    Ok(())
}
