//! Faults around the operator in the test cluster: its process SIGKILLed in the middle of
//! a backup (the kubelet restarts it; the new process finds the running executor Job from
//! its annotation and finishes the session), and the executor pod killed mid-dump (its
//! Snapshot fails with BackupIncomplete naming the Job, and the session ends Failed instead
//! of Running for ever); with `retryConfig` the retry's executor finds the killed pod's
//! repository lock, asks the API server whether that pod still runs, breaks the lock of
//! a pod that is gone and backs up.

use crate::kube_story::{manifests, STEP};
use crate::kube_support::*;
use crate::local_support::{NS, RESTIC_PASSWORD};
use anyhow::Result;
use cairn_testkit::{MariaDb, Restic};
use serde_json::Value;

/// Rows of `shop.items` whose dump lasts long enough to kill something in the middle.
const LONG_ROWS: u32 = 400_000;

fn long_database() -> Result<MariaDb> {
    let db = MariaDb::start()?;
    db.sql(&format!(
        "CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, pad VARCHAR(120)); \
         INSERT INTO shop.items SELECT seq, REPEAT(MD5(seq), 3) FROM shop.seq_1_to_{LONG_ROWS}"
    ))?;
    Ok(db)
}

/// The executor Jobs of the namespace (not the trigger CronJobs' Jobs).
fn executor_jobs(cluster: &Cluster) -> Result<Vec<Value>> {
    Ok(cluster
        .items("jobs", NS)?
        .into_iter()
        .filter(|j| {
            !j["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .starts_with("trigger-")
        })
        .collect())
}

/// Waits for the one BackupSession to succeed; asserts nothing was duplicated and restic
/// finds the repository sound.
fn assert_one_session_succeeded(cluster: &Cluster, backups: &std::path::Path) -> Result<()> {
    cluster.wait("the BackupSession to succeed", STEP, || {
        let sessions = cluster.items("backupsessions", NS)?;
        if let Some(failed) = sessions.iter().find(|s| phase(s) == "Failed") {
            anyhow::bail!("a BackupSession failed: {failed:#}");
        }
        Ok(sessions.iter().any(|s| phase(s) == "Succeeded"))
    })?;
    let sessions = cluster.items("backupsessions", NS)?;
    let instant: Vec<&Value> = sessions.iter().filter(|s| phase(s) != "Skipped").collect();
    assert_eq!(instant.len(), 1, "one session, not two: {sessions:#?}");
    let snapshots = cluster.items("snapshots", NS)?;
    assert_eq!(snapshots.len(), 1, "{snapshots:#?}");
    assert_eq!(phase(&snapshots[0]), "Succeeded", "{:#}", snapshots[0]);
    let path = snapshots[0]["status"]["components"]["dump"]["path"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let component = backups.join("demo").join(path);
    let password = cluster.dir.path().join("restic-password");
    std::fs::write(&password, RESTIC_PASSWORD)?;
    let check = Restic::find()?.check(component.to_str().unwrap(), &password, true)?;
    assert!(
        check.status.success(),
        "restic check:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    Ok(())
}

#[test]
fn kube_operator_killed_mid_backup_finishes_the_session_after_its_restart() -> Result<()> {
    let db = long_database()?;
    let cluster = Cluster::up()?;
    let backups = cluster.backups_dir()?;
    cluster.install_operator(&backups)?;
    cluster.kubectl(&["create", "namespace", NS])?;
    cluster.apply(&manifests(&db, &backups, ""))?;
    cluster.wait("the executor Job to run", STEP, || {
        Ok(executor_jobs(&cluster)?
            .iter()
            .any(|j| j["status"]["active"].as_i64() == Some(1)))
    })?;
    let killed = cluster.kill_pods("cairn-system", "cairn-operator")?;
    assert_eq!(killed, 1, "the operator's container");
    eprintln!("operator SIGKILLed while the executor Job runs");
    assert_one_session_succeeded(&cluster, &backups)?;
    let restarts = cluster.items("pods", "cairn-system")?[0]["status"]["containerStatuses"][0]
        ["restartCount"]
        .as_i64();
    assert!(
        restarts >= Some(1),
        "the operator was restarted: {restarts:?}"
    );
    Ok(())
}

#[test]
fn kube_executor_pod_killed_mid_dump_fails_the_snapshot_and_the_retry_breaks_its_lock() -> Result<()>
{
    let db = long_database()?;
    let cluster = Cluster::up()?;
    let backups = cluster.backups_dir()?;
    cluster.install_operator(&backups)?;
    cluster.kubectl(&["create", "namespace", NS])?;
    let retry = "      retryConfig: {maxRetry: 1, delay: 1s}\n";
    cluster.apply(&manifests(&db, &backups, retry))?;
    let lock = backups.join("demo/repository/v1/full/dump/cairn.lock");
    cluster.wait("the executor to take its repository lock", STEP, || {
        Ok(lock.exists())
    })?;
    let job = executor_jobs(&cluster)?[0]["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let killed = cluster.kill_pods(NS, &job)?;
    assert!(killed >= 1, "the executor pod's containers");
    eprintln!("executor pod of Job {job} SIGKILLed mid-dump");
    // The retry is a new BackupSession (as KubeStash retries); the failed one may already
    // be gone with the session history, its Snapshot stays.
    cluster.wait(
        "the killed run's Snapshot to fail and the retry's to succeed",
        STEP,
        || {
            let snapshots = cluster.items("snapshots", NS)?;
            Ok(snapshots.iter().any(|s| phase(s) == "Failed")
                && snapshots.iter().any(|s| phase(s) == "Succeeded"))
        },
    )?;
    let snapshots = cluster.items("snapshots", NS)?;
    let failed: Vec<&Value> = snapshots.iter().filter(|s| phase(s) == "Failed").collect();
    assert_eq!(failed.len(), 1, "{snapshots:#?}");
    let incomplete = failed[0]["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "BackupIncomplete")
        .cloned()
        .unwrap_or_else(|| panic!("no BackupIncomplete: {:#}", failed[0]));
    assert_eq!(incomplete["status"], "True");
    assert_eq!(
        incomplete["reason"],
        "BackupExecutorTerminatedBeforeCompletion"
    );
    let message = incomplete["message"].as_str().unwrap_or_default();
    eprintln!("killed run: {message}");
    assert!(
        message.contains(&job),
        "the reason names the executor Job {job}: {message}"
    );
    // The retry took the repository over from the dead pod, and left it sound.
    let retried = snapshots.iter().find(|s| phase(s) == "Succeeded").unwrap();
    let path = retried["status"]["components"]["dump"]["path"]
        .as_str()
        .unwrap_or_default();
    let password = cluster.dir.path().join("restic-password");
    std::fs::write(&password, RESTIC_PASSWORD)?;
    let check = Restic::find()?.check(
        backups.join("demo").join(path).to_str().unwrap(),
        &password,
        true,
    )?;
    assert!(
        check.status.success(),
        "restic check:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(!lock.exists(), "the retry released its lock");
    Ok(())
}
