//! Schedules through the cluster's CronJob controller: the operator's trigger CronJob
//! fires on `@every 10s` and each firing's pod runs the real `cairn trigger`; it and the
//! operator name a slot's BackupSession alike, so each slot yields one session, and the
//! backups succeed; `kubectl rollout restart` of the operator in the middle fails none.

use crate::kube_story::{manifests, STEP};
use crate::kube_support::*;
use crate::local_support::NS;
use anyhow::Result;
use cairn_testkit::MariaDb;

#[test]
fn kube_cronjob_slots_back_up_through_cairn_trigger_across_an_operator_rollout() -> Result<()> {
    let db = MariaDb::start()?;
    db.sql(
        "CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY); \
         INSERT INTO shop.items SELECT seq FROM shop.seq_1_to_500",
    )?;
    let cluster = Cluster::up()?;
    let backups = cluster.backups_dir()?;
    cluster.install_operator(&backups)?;
    cluster.kubectl(&["create", "namespace", NS])?;
    let manifests = manifests(&db, &backups, "      sessionHistoryLimit: 20\n")
        .replace("\"*/5 * * * *\"", "\"@every 10s\"");
    cluster.apply(&manifests)?;

    // The instant backup, then at least one slot fired by the CronJob.
    cluster.wait("two backups, one of them scheduled", STEP, || {
        Ok(cluster.succeeded_sessions(NS)? >= 2)
    })?;
    let crons = cluster.items("cronjobs", NS)?;
    assert_eq!(crons.len(), 1, "{crons:#?}");
    assert_eq!(crons[0]["spec"]["schedule"], "@every 10s");

    cluster.kubectl(&[
        "rollout",
        "restart",
        "deployment/cairn-operator",
        "-n",
        "cairn-system",
    ])?;
    cluster.kubectl(&[
        "rollout",
        "status",
        "deployment/cairn-operator",
        "-n",
        "cairn-system",
        "--timeout=120s",
    ])?;
    let before = cluster.succeeded_sessions(NS)?;
    cluster.wait("two more scheduled backups after the rollout", STEP, || {
        Ok(cluster.succeeded_sessions(NS)? >= before + 2)
    })?;

    // Each session names its own slot: none was created twice.
    let sessions = cluster.items("backupsessions", NS)?;
    let mut names: Vec<&str> = sessions
        .iter()
        .filter_map(|s| s["metadata"]["name"].as_str())
        .collect();
    let all = names.len();
    names.dedup();
    assert_eq!(names.len(), all);
    let trigger_pods = cluster
        .items("pods", NS)?
        .into_iter()
        .filter(|p| {
            p["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("trigger-"))
        })
        .count();
    assert!(trigger_pods >= 1, "the CronJob's pods ran `cairn trigger`");
    let crons = cluster.items("cronjobs", NS)?;
    assert!(
        crons[0]["status"]["lastScheduleTime"].is_string(),
        "{:#}",
        crons[0]
    );
    let trigger_jobs: Vec<_> = cluster
        .items("jobs", NS)?
        .into_iter()
        .filter(|j| {
            j["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("trigger-"))
        })
        .collect();
    assert!(
        trigger_jobs
            .iter()
            .any(|j| j["status"]["succeeded"].as_i64() == Some(1)),
        "a `cairn trigger` Job completed: {trigger_jobs:#?}"
    );
    cluster.helm(&["uninstall", "cairn", "--namespace", "cairn-system"])?;
    Ok(())
}
