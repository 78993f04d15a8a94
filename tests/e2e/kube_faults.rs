//! Faults around the operator in the test cluster: its process SIGKILLed in the middle of
//! a backup (the kubelet restarts it; the new process finds the running executor Job from
//! its annotation and finishes the session), and the executor pod killed mid-dump (its
//! Snapshot fails with BackupIncomplete naming the Job, and the session ends Failed instead
//! of Running for ever); with `retryConfig` the retry's executor finds the killed pod's
//! repository lock, asks the API server whether that pod still runs, breaks the lock of
//! a pod that is gone and backs up. Failover: the leading pod stopped mid-backup releases
//! its Lease, and a standby replica takes over, adopts the running Job and finishes.

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
    cluster.wait_for_a_succeeded_session("the BackupSession to succeed", NS, STEP)?;
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

/// A standby replica of the operator: the real binary on the host (pods share its
/// network, so a second pod of the chart would collide on the metrics port), with the
/// operator's ServiceAccount token, so RBAC holds it to what the chart grants.
struct Standby {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl Standby {
    /// Starts the replica as the image's user (as the chart's pod runs), so what it writes
    /// into local backends is the executor pods' to change.
    fn start(cluster: &Cluster, image: &str) -> Result<Standby> {
        use std::os::unix::fs::PermissionsExt as _;
        use std::os::unix::process::CommandExt as _;
        let token =
            cluster.kubectl(&["create", "token", "cairn-operator", "-n", "cairn-system"])?;
        std::fs::set_permissions(cluster.dir.path(), std::fs::Permissions::from_mode(0o711))?;
        let home = cluster.dir.path().join("standby");
        std::fs::create_dir_all(&home)?;
        let kubeconfig = home.join("kubeconfig");
        std::fs::copy(cluster.kubeconfig(), &kubeconfig)?;
        let kubeconfig_arg = format!("--kubeconfig={}", kubeconfig.display());
        let token_arg = format!("--token={}", token.trim());
        cluster.kubectl(&[
            "config",
            "set-credentials",
            "standby",
            &token_arg,
            &kubeconfig_arg,
        ])?;
        cluster.kubectl(&[
            "config",
            "set-context",
            "--current",
            "--user=standby",
            &kubeconfig_arg,
        ])?;
        for path in [&home, &kubeconfig] {
            std::os::unix::fs::chown(path, Some(IMAGE_UID), Some(IMAGE_UID))?;
        }
        let log = cluster.dir.path().join("standby.log");
        let out = std::fs::File::create(&log)?;
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["operator", "--listen"])
            .arg(format!("127.0.0.1:{}", free_port()?))
            .args([
                "--identity",
                "cairn-standby",
                "--lease-namespace",
                "cairn-system",
            ])
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", &home)
            .uid(IMAGE_UID)
            .gid(IMAGE_UID)
            .env("CAIRN_IMAGE", image)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()?;
        Ok(Standby { child, log })
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lease_holder(cluster: &Cluster) -> Result<String> {
    let lease = cluster.kubectl(&[
        "get",
        "lease",
        "cairn-operator",
        "-n",
        "cairn-system",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ])?;
    Ok(lease.trim().to_owned())
}

#[test]
fn kube_leader_stopped_mid_backup_hands_over_and_the_standby_finishes_the_session() -> Result<()> {
    let db = long_database()?;
    let cluster = Cluster::up()?;
    let backups = cluster.backups_dir()?;
    cluster.install_operator(&backups)?;
    let pod = cluster.items("pods", "cairn-system")?[0]["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    cluster.wait("the chart's pod to lead", STEP, || {
        Ok(lease_holder(&cluster)? == pod)
    })?;
    let deployment = cluster.kubectl(&[
        "get",
        "deployment",
        "cairn-operator",
        "-n",
        "cairn-system",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].env[?(@.name==\"CAIRN_IMAGE\")].value}",
    ])?;
    let standby = Standby::start(&cluster, deployment.trim())?;
    cluster.wait("the standby to start and stay idle", STEP, || {
        Ok(standby.log().contains("cairn operator started"))
    })?;

    cluster.kubectl(&["create", "namespace", NS])?;
    cluster.apply(&manifests(&db, &backups, ""))?;
    cluster.wait("the executor Job to run", STEP, || {
        Ok(executor_jobs(&cluster)?
            .iter()
            .any(|j| j["status"]["active"].as_i64() == Some(1)))
    })?;
    assert!(
        !standby.log().contains("leader=true") && !standby.log().contains("\"leader\":true"),
        "the standby wrote nothing while the chart's pod led:\n{}",
        standby.log()
    );

    // The leader's pod goes away (a node drain, a rollout): SIGTERM releases the lease.
    cluster.kubectl(&[
        "scale",
        "deployment",
        "cairn-operator",
        "-n",
        "cairn-system",
        "--replicas=0",
    ])?;
    cluster.wait("the standby to take the lease", STEP, || {
        Ok(lease_holder(&cluster)? == "cairn-standby")
    })?;
    eprintln!("lease handed from {pod} to the standby while the executor Job runs");
    assert_one_session_succeeded(&cluster, &backups)
        .map_err(|e| anyhow::anyhow!("{e:#}\n--- standby log:\n{}", standby.log()))?;
    let log = standby.log();
    assert!(
        log.contains("adopting an executor Job started before this operator"),
        "the standby adopted the running Job:\n{log}"
    );
    Ok(())
}

#[test]
fn kube_leader_sigkilled_mid_backup_loses_its_lease_and_the_waiting_replica_finishes_the_session(
) -> Result<()> {
    let db = long_database()?;
    let cluster = Cluster::up()?;
    let backups = cluster.backups_dir()?;
    cluster.install_operator(&backups)?;
    let image = cluster.kubectl(&[
        "get",
        "deployment",
        "cairn-operator",
        "-n",
        "cairn-system",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].env[?(@.name==\"CAIRN_IMAGE\")].value}",
    ])?;
    // The host replica leads first (it can be SIGKILLed without the kubelet restarting
    // it); the chart's pod then waits as the standby.
    let scale = |n: &str| {
        cluster.kubectl(&[
            "scale",
            "deployment",
            "cairn-operator",
            "-n",
            "cairn-system",
            &format!("--replicas={n}"),
        ])
    };
    scale("0")?;
    cluster.wait("the chart's pod to stop", STEP, || {
        Ok(cluster.items("pods", "cairn-system")?.is_empty())
    })?;
    let mut leader = Standby::start(&cluster, image.trim())?;
    cluster.wait("the host replica to lead", STEP, || {
        Ok(lease_holder(&cluster)? == "cairn-standby")
    })?;
    scale("1")?;
    let mut pod = String::new();
    cluster.wait("the chart's pod to start and wait", STEP, || {
        let pods = cluster.items("pods", "cairn-system")?;
        pod = pods
            .first()
            .map_or("", |p| p["metadata"]["name"].as_str().unwrap_or_default())
            .to_owned();
        Ok(!pod.is_empty()
            && cluster
                .kubectl(&["logs", "-n", "cairn-system", &pod])?
                .contains("cairn operator started"))
    })?;

    cluster.kubectl(&["create", "namespace", NS])?;
    cluster.apply(&manifests(&db, &backups, ""))?;
    cluster.wait("the executor Job to run", STEP, || {
        Ok(executor_jobs(&cluster)?
            .iter()
            .any(|j| j["status"]["active"].as_i64() == Some(1)))
    })?;
    let waiting = cluster.kubectl(&["logs", "-n", "cairn-system", &pod])?;
    assert!(
        !waiting.contains("\"applied\""),
        "the waiting replica wrote nothing while the host replica led:\n{waiting}"
    );

    // SIGKILL: no release, the lease must expire before the chart's pod may lead.
    leader.child.kill()?;
    leader.child.wait()?;
    let killed = std::time::Instant::now();
    cluster.wait("the chart's pod to take the expired lease", STEP, || {
        Ok(lease_holder(&cluster)? == pod)
    })?;
    eprintln!(
        "leader SIGKILLed; {pod} took the lease after {:.1}s",
        killed.elapsed().as_secs_f64()
    );
    assert_one_session_succeeded(&cluster, &backups)?;
    let log = cluster.kubectl(&["logs", "-n", "cairn-system", &pod])?;
    assert!(
        log.contains("adopting an executor Job started before this operator"),
        "the new leader adopted the running Job:\n{log}"
    );
    Ok(())
}
