//! The API server misbehaving under the operator, as it does in real clusters (an
//! overloaded etcd, a restarted apiserver, an admission plugin timing out): the operator's
//! status writes of the BackupConfiguration answered 500, its Job creation throttled with
//! 429, its BackupSession watch answered 410 Gone and its Snapshot watch dropped. Each
//! refused request holds back its own object with backoff and a Warning Event on it;
//! the watches relist; the backup still runs once and succeeds.

use crate::kube_story::{manifests, STEP};
use crate::kube_support::*;
use crate::local_support::NS;
use anyhow::Result;
use cairn_testkit::MariaDb;
use serde_json::json;

const OPERATOR: &str = "system:serviceaccount:cairn-system:cairn-operator";

#[test]
fn kube_api_faults_hold_back_only_their_object_and_the_backup_still_succeeds() -> Result<()> {
    let db = MariaDb::start()?;
    db.sql(
        "CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(40)); \
         INSERT INTO shop.items SELECT seq, CONCAT('item-', seq) FROM shop.seq_1_to_2000",
    )?;
    let cluster = Cluster::up()?;
    let backups = cluster.backups_dir()?;
    cluster.install_operator(&backups)?;
    cluster.kubectl(&["create", "namespace", NS])?;

    // Faults for the operator only (kubectl's own requests go through).
    let rules = json!([
        {"user": OPERATOR, "method": "PATCH", "status": 500, "count": 4,
         "message": "etcdserver: request timed out",
         "pathRegex": format!("/namespaces/{NS}/backupconfigurations/sample-backup/status")},
        {"user": OPERATOR, "method": "POST", "status": 429, "count": 2,
         "pathRegex": format!("^/apis/batch/v1/namespaces/{NS}/jobs")},
        {"user": OPERATOR, "method": "GET", "gone410": true, "count": 2,
         "pathRegex": "backupsessions.*watch=true"},
        {"user": OPERATOR, "method": "GET", "dropWatch": true, "count": 3,
         "pathRegex": "snapshots.*watch=true"},
    ]);
    let file = cluster.dir.path().join("faults.json");
    std::fs::write(&file, rules.to_string())?;
    cluster.kubectl(&[
        "create",
        "--raw",
        "/_test/faults",
        "-f",
        file.to_str().unwrap(),
    ])?;

    cluster.apply(&manifests(&db, &backups, ""))?;
    cluster.wait_for_a_succeeded_session(
        "a BackupSession to succeed despite the faults",
        NS,
        STEP,
    )?;
    let configuration = cluster.kubectl(&[
        "get",
        "backupconfiguration",
        "sample-backup",
        "-n",
        NS,
        "-o",
        "json",
    ])?;
    let configuration: serde_json::Value = serde_json::from_str(&configuration)?;
    assert_eq!(phase(&configuration), "Ready", "{configuration:#}");

    // Nothing ran twice: the relists after 410 and dropped watches created no session.
    let sessions = cluster.items("backupsessions", NS)?;
    let ran: Vec<_> = sessions.iter().filter(|s| phase(s) != "Skipped").collect();
    assert_eq!(ran.len(), 1, "one session: {sessions:#?}");
    assert_eq!(cluster.items("snapshots", NS)?.len(), 1);

    // The refusals were told on the objects they held back, in the API's words.
    let events = cluster.items("events.events.k8s.io", NS)?;
    let warnings: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "Warning" && e["regarding"]["name"] == "sample-backup")
        .collect();
    assert!(
        warnings.iter().any(|e| {
            e["reason"] == "ApiUnavailable"
                && e["note"]
                    .as_str()
                    .is_some_and(|n| n.contains("etcdserver: request timed out"))
        }),
        "a Warning Event on the BackupConfiguration: {events:#?}"
    );
    let logs = cluster.pod_logs();
    assert!(
        logs.contains("request refused; this object waits, the others go on"),
        "{logs}"
    );
    cluster.helm(&["uninstall", "cairn", "--namespace", "cairn-system"])?;
    Ok(())
}
