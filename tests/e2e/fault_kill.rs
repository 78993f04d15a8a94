//! The `cairn run` daemon killed with SIGKILL at each phase of a backup, then restarted on
//! the same state directory: the job that died with the daemon runs again, once, in the
//! same session (no `retryConfig` needed), and the repository stays sound. A job killed a
//! second time counts as gone: its Snapshot ends Failed with BackupIncomplete and the
//! session's `retryConfig` retries it.

use crate::fault_support::*;
use crate::local_support::*;
use anyhow::Result;

/// One retry a second after a failure.
const RETRY: &str = "{maxRetry: 1, delay: 1s}";
/// Rows of `big.t` whose dump lasts long enough to kill the daemon in the middle of it.
const LONG_ROWS: u32 = 400_000;

/// Restarts the daemon after a kill and waits until the killed session succeeded; then
/// asserts it was the same session, run again: one session, one Snapshot, no retry.
fn restart_and_assert_the_killed_job_ran_again(env: &Env) -> Result<()> {
    let mut daemon = env.daemon(&[])?;
    env.wait("the killed session to succeed after the restart", || {
        Ok(!env.in_phase("backupsessions", "Succeeded").is_empty())
    })?;
    assert!(
        daemon.stop(),
        "daemon did not stop cleanly:\n{}",
        env.logs()
    );
    let sessions = env.objects("backupsessions");
    assert_eq!(sessions.len(), 1, "no retry session: {}", brief(&sessions));
    let snapshots = env.objects("snapshots");
    assert_eq!(snapshots.len(), 1, "{}", brief(&snapshots));
    assert_eq!(phase(&snapshots[0]), "Succeeded", "{}", brief(&snapshots));
    assert!(
        condition(&snapshots[0], "BackupIncomplete").is_none(),
        "{}",
        brief(&snapshots)
    );
    assert!(
        env.logs()
            .contains("executor job stopped with the previous run; running it again"),
        "{}",
        env.logs()
    );
    Ok(())
}

/// Restarts the daemon after the second kill of one job and waits until a session
/// succeeded; then asserts the killed session's story: its Snapshot Failed with
/// BackupIncomplete and the reason, and the retry's Snapshot Succeeded.
fn restart_and_assert_the_killed_session_was_retried(env: &Env) -> Result<()> {
    let mut daemon = env.daemon(&[])?;
    env.wait("the retry after the restart to succeed", || {
        Ok(!env.in_phase("backupsessions", "Succeeded").is_empty())
    })?;
    assert!(
        daemon.stop(),
        "daemon did not stop cleanly:\n{}",
        env.logs()
    );
    let snapshots = env.objects("snapshots");
    let killed = snapshots
        .iter()
        .find(|s| condition(s, "BackupIncomplete").is_some())
        .unwrap_or_else(|| panic!("no Snapshot with BackupIncomplete:\n{}", brief(&snapshots)));
    assert_eq!(phase(killed), "Failed", "{killed:?}");
    let reason = condition(killed, "BackupIncomplete").unwrap();
    assert_eq!(reason["status"].as_str(), Some("True"), "{reason:?}");
    assert_eq!(
        reason["reason"].as_str(),
        Some("BackupExecutorTerminatedBeforeCompletion")
    );
    let message = reason["message"].as_str().unwrap_or_default();
    let name = killed["metadata"]["name"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("the backup executor of BackupSession ")
            && message.contains(&format!(
                "terminated before completing Snapshot demo/{name}"
            )),
        "the reason says the executor died and which Snapshot it left: {message}"
    );
    eprintln!("killed session's Snapshot: {message}");
    // The failed session itself is gone: sessionHistoryLimit (1) keeps only the retry.
    assert_eq!(
        env.in_phase("snapshots", "Succeeded").len(),
        1,
        "{}",
        brief(&snapshots)
    );
    assert!(
        env.logs()
            .contains("executor job of a previous run is gone"),
        "{}",
        env.logs()
    );
    Ok(())
}

/// The dead daemon held the repository lock; the retry broke it with a warning.
fn assert_stale_lock_was_broken(env: &Env) {
    let logs = env.logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("WARN") && l.contains("breaking stale repository lock")),
        "{logs}"
    );
}

#[test]
fn fault_kill_during_dump_runs_the_job_again_after_restart() -> Result<()> {
    let env = Env::new(Options {
        rows: LONG_ROWS,
        ..Options::default()
    })?;
    let mut daemon = env.daemon(&[])?;
    let (lock, data) = (
        env.component().join("cairn.lock"),
        env.component().join("data"),
    );
    env.wait("the backup to take its repository lock", || {
        Ok(lock.exists())
    })?;
    assert!(
        !has_files(&data),
        "a pack was written before the kill: make the table bigger"
    );
    daemon.kill();
    restart_and_assert_the_killed_job_ran_again(&env)?;
    assert_stale_lock_was_broken(&env);
    env.assert_recovered()
}

#[test]
fn fault_kill_twice_during_dump_fails_the_snapshot_and_retries_the_session() -> Result<()> {
    let env = Env::new(Options {
        rows: LONG_ROWS,
        retry: Some(RETRY),
        ..Options::default()
    })?;
    let lock = env.component().join("cairn.lock");
    let mut daemon = env.daemon(&[])?;
    env.wait("the backup to take its repository lock", || {
        Ok(lock.exists())
    })?;
    daemon.kill();
    // The restart runs the job again, which breaks the dead job's lock and takes its own:
    // kill it again in the middle of that dump.
    let mut daemon = env.daemon(&[])?;
    env.wait("the job to run again and take the lock", || {
        let logs = env.logs();
        Ok(logs.contains("running it again")
            && logs.contains("breaking stale repository lock")
            && lock.exists())
    })?;
    assert!(
        env.in_phase("snapshots", "Succeeded").is_empty(),
        "the rerun finished before the second kill: make the table bigger"
    );
    daemon.kill();
    restart_and_assert_the_killed_session_was_retried(&env)?;
    env.assert_recovered()
}

#[test]
fn fault_kill_during_repository_init_runs_the_job_again_after_restart() -> Result<()> {
    let env = Env::new(Options::default())?;
    let mut daemon = env.daemon(&[])?;
    // The first file restic's init writes is the key (after the slow key derivation),
    // the config follows: kill as soon as the keys directory appears.
    let keys = env.component().join("keys");
    poll_fast("the repository's keys directory", DAEMON_WAIT, || {
        keys.exists()
    })?;
    daemon.kill();
    let initialised = env.component().join("config").exists();
    eprintln!("killed during init; config written before the kill: {initialised}");
    restart_and_assert_the_killed_job_ran_again(&env)?;
    env.assert_recovered()
}

#[test]
fn fault_kill_during_upload_runs_the_job_again_after_restart() -> Result<()> {
    let env = Env::new(Options {
        rows: LONG_ROWS,
        ..Options::default()
    })?;
    let mut daemon = env.daemon(&[])?;
    let (data, snapshots) = (
        env.component().join("data"),
        env.component().join("snapshots"),
    );
    poll_fast("the first pack in the repository", DAEMON_WAIT, || {
        has_files(&data)
    })?;
    daemon.kill();
    assert!(
        !has_files(&snapshots),
        "the backup finished before the kill: make the table bigger"
    );
    restart_and_assert_the_killed_job_ran_again(&env)?;
    assert_stale_lock_was_broken(&env);
    env.assert_recovered()
}

#[test]
fn fault_kill_after_the_data_is_committed_before_the_status_runs_the_job_again() -> Result<()> {
    let env = Env::new(Options::default())?;
    let mut daemon = env.daemon(&[])?;
    // restic's snapshot file is written; the job still measures the repository before it
    // reports, so the Snapshot's status is not written yet.
    let snapshots = env.component().join("snapshots");
    // (`NAME#N` is the staging file the local store renames into place.)
    poll_fast("the restic snapshot file", DAEMON_WAIT, || {
        files_under(&snapshots).iter().any(|f| !f.contains('#'))
    })?;
    daemon.kill();
    assert!(
        env.in_phase("snapshots", "Succeeded").is_empty(),
        "the status was written before the kill"
    );
    restart_and_assert_the_killed_job_ran_again(&env)?;
    // The killed job's complete restic snapshot stays beside the rerun's: both carry the
    // Snapshot's name as their restic tag, so wiping the Snapshot forgets both
    // (core/tests/decisions/deletion.rs, kube tests/api/backend.rs).
    assert_eq!(
        env.restic_snapshots()?,
        2,
        "the killed job's and the rerun's"
    );
    env.assert_recovered()
}

#[test]
fn fault_kill_at_snapshot_status_write_finishes_after_restart() -> Result<()> {
    let env = Env::new(Options::default())?;
    let mut daemon = env.daemon(&[])?;
    // The world is saved before the metadata upload it decided: kill as soon as the
    // Snapshot's Succeeded status is on disk, likely before its YAML is in the backend.
    poll_fast("the Snapshot's Succeeded status", DAEMON_WAIT, || {
        !env.in_phase("snapshots", "Succeeded").is_empty()
    })?;
    daemon.kill();
    let yamls = |env: &Env| {
        files_under(&env.backups)
            .into_iter()
            .filter(|f| f.starts_with("db/snapshots/"))
            .count()
    };
    eprintln!(
        "killed at the status write; Snapshot YAMLs in the backend before restart: {}",
        yamls(&env)
    );

    // The restart finishes what the dead daemon decided: the Snapshot YAML is uploaded.
    let mut daemon = env.daemon(&[])?;
    env.wait("the Snapshot's metadata to be uploaded", || {
        Ok(env
            .in_phase("snapshots", "Succeeded")
            .iter()
            .any(|s| condition(s, "SnapshotMetadataUploaded").is_some())
            && yamls(&env) == 1)
    })?;
    assert!(daemon.stop(), "{}", env.logs());
    let snapshot = &env.in_phase("snapshots", "Succeeded")[0];
    assert_condition(snapshot, "SnapshotMetadataUploaded", "True");
    assert_eq!(
        env.in_phase("backupsessions", "Succeeded").len(),
        1,
        "{}",
        brief(&env.objects("backupsessions"))
    );
    env.assert_recovered()
}

#[test]
fn fault_kill_during_retention_finishes_it_after_restart() -> Result<()> {
    let env = Env::new(Options {
        keep: 1,
        ..Options::default()
    })?;
    let mut daemon = env.daemon(&[])?;
    env.wait("the first backup", || {
        Ok(env.in_phase("snapshots", "Succeeded").len() == 1)
    })?;
    let first = env.in_phase("snapshots", "Succeeded")[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    env.trigger()?;
    // Retention (last: 1) marks the first Snapshot for deletion, then forgets its restic
    // snapshot and removes its YAML: kill as soon as the mark is on disk.
    poll_fast(
        "retention to start on the first Snapshot",
        DAEMON_WAIT,
        || {
            env.objects("snapshots").iter().any(|s| {
                s["metadata"]["name"].as_str() == Some(&first)
                    && !s["metadata"]["deletionTimestamp"].is_null()
            })
        },
    )?;
    daemon.kill();

    let mut daemon = env.daemon(&[])?;
    let restic = cairn_testkit::Restic::find()?;
    let restic_count = || -> Result<usize> {
        let listed = restic.snapshots_json(
            env.component().to_str().unwrap(),
            &env.local.cairn.password_file,
        )?;
        Ok(listed.as_array().map_or(0, Vec::len))
    };
    env.wait("retention to finish after the restart", || {
        let objects = env.objects("snapshots");
        let yamls = files_under(&env.backups)
            .into_iter()
            .filter(|f| f.starts_with("db/snapshots/"))
            .count();
        Ok(objects.len() == 1 && yamls == 1)
    })?;
    assert!(daemon.stop(), "{}", env.logs());
    assert_eq!(restic_count()?, 1, "restic snapshots after retention");
    let kept = &env.objects("snapshots")[0];
    assert_eq!(phase(kept), "Succeeded");
    assert_ne!(kept["metadata"]["name"].as_str(), Some(first.as_str()));
    env.assert_recovered()
}
