//! ApiServerVerifier scenarios: the requests each reconcile sends, pinned with insta.

use cairn_core::world::Outcome;
use cairn_kube::backend::FixedBackend;
use cairn_kube::driver::{Driver, Report};
use cairn_kube::objects::Config;
use cairn_kube::Error;
use chrono::{DateTime, Utc};
use kube::Client;
use serde_json::json;

use super::support::*;

const NS: &str = "/apis/storage.kubestash.com/v1alpha1/namespaces/demo";
const CORE: &str = "/apis/core.kubestash.com/v1alpha1/namespaces/demo";
const SESSION: &str = "sample-sdb-backup-frequent-backup-1724065100";
const SNAPSHOT: &str = "gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065100";
const JOB: &str =
    "/apis/batch/v1/namespaces/demo/jobs/cairn-backup-sample-sdb-backup-frequent-backup-1724065100";

async fn run(
    d: &mut Driver,
    client: &Client,
    fake: &Fake,
    now: DateTime<Utc>,
) -> Result<Report, Error> {
    settle(d, client, &FixedBackend(Outcome::Ok), fake, now).await
}

fn t0() -> DateTime<Utc> {
    at("2024-08-19T10:58:20Z")
}

/// Storage Ready, then the configuration with its Repository, trigger and instant session.
async fn configured() -> (Driver, Client, Fake) {
    let (client, fake) = Fake::start();
    seed(&fake);
    let mut d = Driver::new(Config::default());
    run(&mut d, &client, &fake, t0()).await.unwrap();
    fake.put(yaml(CONFIG));
    run(&mut d, &client, &fake, t0()).await.unwrap();
    fake.take_log();
    (d, client, fake)
}

fn status_of(fake: &Fake, path: &str) -> serde_json::Value {
    fake.get(path).unwrap_or_else(|| panic!("{path} exists"))["status"].clone()
}

#[tokio::test]
async fn backup_storage_created() {
    let (client, fake) = Fake::start();
    seed(&fake);
    let mut d = Driver::new(Config::default());
    let report = run(&mut d, &client, &fake, t0()).await.unwrap();
    pin("backup_storage_created", &fake.take_log());
    assert!(!report.unsettled);
    let status = status_of(&fake, &format!("{NS}/backupstorages/gcs-storage"));
    assert_eq!(status["phase"], "Ready");
    let storage = fake
        .get(&format!("{NS}/backupstorages/gcs-storage"))
        .unwrap();
    assert_eq!(
        storage["metadata"]["finalizers"],
        json!(["kubestash.com/cleanup"])
    );
    // A second reconcile with the stores caught up changes nothing.
    run(&mut d, &client, &fake, t0()).await.unwrap();
    assert!(fake.take_log().is_empty(), "settled world sends nothing");
}

#[tokio::test]
async fn backup_configuration_becomes_ready() {
    let (client, fake) = Fake::start();
    seed(&fake);
    let mut d = Driver::new(Config::default());
    run(&mut d, &client, &fake, t0()).await.unwrap();
    fake.take_log();
    fake.put(yaml(CONFIG));
    let report = run(&mut d, &client, &fake, t0()).await.unwrap();
    pin("backup_configuration_ready", &fake.take_log());
    assert!(!report.unsettled, "{report:?}");
    let bc = status_of(
        &fake,
        &format!("{CORE}/backupconfigurations/sample-sdb-backup"),
    );
    assert_eq!(bc["phase"], "Ready");
    assert!(fake
        .get(&format!("{NS}/repositories/gcs-sdb-repo"))
        .is_some());
    let cron = fake
        .get("/apis/batch/v1/namespaces/demo/cronjobs/trigger-sample-sdb-backup-frequent-backup")
        .expect("trigger CronJob");
    assert_eq!(cron["spec"]["schedule"], "*/5 * * * *");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    assert_eq!(cron["spec"]["suspend"], false);
    assert!(
        fake.get(&format!("{CORE}/backupsessions/{SESSION}"))
            .is_some(),
        "instant session"
    );
    assert!(
        fake.get(&format!("{NS}/snapshots/{SNAPSHOT}")).is_some(),
        "snapshot"
    );
    let job = fake.get(JOB).expect("executor job");
    assert_eq!(
        job["spec"]["template"]["spec"]["serviceAccountName"],
        "cairn-executor"
    );
    assert_eq!(
        job["metadata"]["ownerReferences"][0]["kind"],
        "BackupSession"
    );
    // The next wake-up is the next schedule slot.
    assert_eq!(report.next_wakeup, Some(at("2024-08-19T11:00:00Z")));
    // Stores catch up: nothing more to do, no second instant session.
    run(&mut d, &client, &fake, t0()).await.unwrap();
    let again = fake.take_log();
    assert!(again.is_empty(), "{again:#?}");
    assert_eq!(fake.paths(&format!("{CORE}/backupsessions/")).len(), 1);
}

#[tokio::test]
async fn paused_configuration_suspends_the_trigger() {
    let (d, client, fake) = configured().await;
    let mut d = d;
    fake.edit(
        &format!("{CORE}/backupconfigurations/sample-sdb-backup"),
        |bc| {
            bc["spec"]["paused"] = json!(true);
        },
    );
    run(&mut d, &client, &fake, t0()).await.unwrap();
    let cron = fake
        .get("/apis/batch/v1/namespaces/demo/cronjobs/trigger-sample-sdb-backup-frequent-backup")
        .unwrap();
    assert_eq!(cron["spec"]["suspend"], true);
}

/// Marks the executor Job finished the way the job controller does.
fn finish_job(fake: &Fake, path: &str, condition: &str) {
    fake.edit(path, |job| {
        job["status"] = json!({
            "startTime": "2024-08-19T10:58:25Z",
            "conditions": [{"type": condition, "status": "True", "lastTransitionTime": "2024-08-19T10:58:33Z", "message": "BackoffLimitExceeded"}],
        });
    });
}

#[tokio::test]
async fn job_succeeded_completes_the_session() {
    let (mut d, client, fake) = configured().await;
    // The executor reports the dump component on the Snapshot, then exits 0.
    fake.edit(&format!("{NS}/snapshots/{SNAPSHOT}"), |s| {
        s["status"]["components"] = json!({"dump": {
            "path": "repository/v1/frequent-backup/dump", "phase": "Succeeded", "size": "1.456 MiB",
            "duration": "7.472499073s", "integrity": true, "driver": "Restic",
            "resticStats": [{"summary": {"id": "a".repeat(64), "uploaded": "1.036 MiB", "hostPath": "dumpfile.sql", "size": "3.657 MiB"}}],
        }});
    });
    finish_job(&fake, JOB, "Complete");
    run(&mut d, &client, &fake, at("2024-08-19T10:58:35Z"))
        .await
        .unwrap();
    pin("job_succeeded", &fake.take_log());
    assert_eq!(
        status_of(&fake, &format!("{NS}/snapshots/{SNAPSHOT}"))["phase"],
        "Succeeded"
    );
    assert_eq!(
        status_of(&fake, &format!("{CORE}/backupsessions/{SESSION}"))["phase"],
        "Succeeded"
    );
    let repo = status_of(&fake, &format!("{NS}/repositories/gcs-sdb-repo"));
    assert_eq!(repo["snapshotCount"], 1);
}

#[tokio::test]
async fn job_failed_fails_the_session() {
    let (mut d, client, fake) = configured().await;
    finish_job(&fake, JOB, "Failed");
    run(&mut d, &client, &fake, at("2024-08-19T10:58:35Z"))
        .await
        .unwrap();
    pin("job_failed", &fake.take_log());
    assert_eq!(
        status_of(&fake, &format!("{CORE}/backupsessions/{SESSION}"))["phase"],
        "Failed"
    );
    assert_eq!(
        status_of(&fake, &format!("{NS}/snapshots/{SNAPSHOT}"))["phase"],
        "Failed"
    );
}

#[tokio::test]
async fn restore_session_runs_a_restore_job() {
    let (mut d, client, fake) = configured().await;
    fake.edit(&format!("{NS}/snapshots/{SNAPSHOT}"), |s| {
        s["status"]["components"] = json!({"dump": {
            "path": "repository/v1/frequent-backup/dump", "phase": "Succeeded", "size": "1.456 MiB",
            "duration": "7s", "integrity": true, "driver": "Restic",
            "resticStats": [{"summary": {"id": "a".repeat(64), "hostPath": "dumpfile.sql"}}],
        }});
    });
    finish_job(&fake, JOB, "Complete");
    run(&mut d, &client, &fake, at("2024-08-19T10:58:35Z"))
        .await
        .unwrap();
    fake.take_log();
    fake.put(yaml(RESTORE));
    let t = at("2024-08-19T10:59:00Z");
    run(&mut d, &client, &fake, t).await.unwrap();
    pin("restore_session_started", &fake.take_log());
    let job = "/apis/batch/v1/namespaces/demo/jobs/cairn-restore-restore-sample-singlestore";
    let spec = fake.get(job).expect("restore job")["spec"].clone();
    let args = spec["template"]["spec"]["containers"][0]["args"].clone();
    assert!(
        args.to_string()
            .contains("--restoresession=restore-sample-singlestore"),
        "{args}"
    );
    // The executor reports the component, then exits 0.
    fake.edit(
        &format!("{CORE}/restoresessions/restore-sample-singlestore"),
        |r| {
            r["status"]["components"] = json!({"dump": {"phase": "Succeeded", "duration": "3s"}});
        },
    );
    finish_job(&fake, job, "Complete");
    run(&mut d, &client, &fake, at("2024-08-19T10:59:10Z"))
        .await
        .unwrap();
    pin("restore_session_finished", &fake.take_log());
    let status = status_of(
        &fake,
        &format!("{CORE}/restoresessions/restore-sample-singlestore"),
    );
    assert_eq!(status["phase"], "Succeeded", "{status:#}");
}

#[tokio::test]
async fn deletion_with_wipeout() {
    let (mut d, client, fake) = configured().await;
    finish_job(&fake, JOB, "Failed");
    run(&mut d, &client, &fake, at("2024-08-19T10:58:35Z"))
        .await
        .unwrap();
    fake.take_log();
    // The user deletes the configuration (repository deletionPolicy WipeOut) and the storage.
    let t = at("2024-08-19T12:00:00Z");
    for path in [
        format!("{CORE}/backupconfigurations/sample-sdb-backup"),
        format!("{NS}/backupstorages/gcs-storage"),
    ] {
        fake.edit(&path, |o| {
            o["metadata"]["deletionTimestamp"] = json!("2024-08-19T12:00:00Z")
        });
    }
    for _ in 0..4 {
        run(&mut d, &client, &fake, t).await.unwrap();
    }
    pin("deletion_wipeout", &fake.take_log());
    assert!(
        fake.get(&format!("{NS}/backupstorages/gcs-storage"))
            .is_none(),
        "storage released"
    );
    assert!(
        fake.get(&format!("{CORE}/backupconfigurations/sample-sdb-backup"))
            .is_none(),
        "configuration released"
    );
    assert!(fake.paths(&format!("{NS}/repositories/")).is_empty());
    assert!(fake.paths(&format!("{NS}/snapshots/")).is_empty());
}

#[tokio::test]
async fn leader_lost_mid_reconcile_stops_writing() {
    let (client, fake) = Fake::start();
    seed(&fake);
    let mut d = Driver::new(Config::default());
    fake.fault_in(1, Fault::LoseLeader);
    let err = run(&mut d, &client, &fake, t0()).await.unwrap_err();
    assert_eq!(err.category(), "NotLeader");
    let log = fake.take_log();
    assert_eq!(
        log.len(),
        2,
        "the request in flight completes, no further one is sent: {log:#?}"
    );
    // The new leader (a fresh driver) replays the same idempotent plan.
    fake.leader.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut successor = Driver::new(Config::default());
    run(&mut successor, &client, &fake, t0()).await.unwrap();
    assert_eq!(
        status_of(&fake, &format!("{NS}/backupstorages/gcs-storage"))["phase"],
        "Ready"
    );
}

#[tokio::test]
async fn conflict_holds_back_its_object_until_its_backoff_ends() {
    let (client, fake) = Fake::start();
    seed(&fake);
    let mut d = Driver::new(Config::default());
    fake.fault_in(0, Fault::Status(409));
    let report = run(&mut d, &client, &fake, t0()).await.unwrap();
    let refused: Vec<_> = report
        .refused
        .iter()
        .map(|r| (r.category, r.object.key.name.as_str()))
        .collect();
    assert_eq!(refused, [("Conflict", "gcs-storage")]);
    let retry = report.next_wakeup.expect("a wake-up for the retry");
    assert!(
        retry > t0() && retry <= t0() + chrono::Duration::seconds(1),
        "{retry}"
    );
    // Within the backoff the storage is left alone; after it, the write goes through.
    let early = run(&mut d, &client, &fake, t0()).await.unwrap();
    assert!(
        !early.effects.iter().any(|e| e == "PatchStatus"),
        "{early:?}"
    );
    run(&mut d, &client, &fake, retry).await.unwrap();
    assert_eq!(
        status_of(&fake, &format!("{NS}/backupstorages/gcs-storage"))["phase"],
        "Ready"
    );
}

/// Backend IO that never answers (storage unreachable, a connection that hangs).
struct HangingBackend;

impl cairn_kube::backend::BackendIo for HangingBackend {
    fn prepare(
        &self,
        _world: &cairn_core::world::World,
        _effect: &cairn_core::effect::Effect,
        _now: DateTime<Utc>,
    ) -> Option<futures::future::BoxFuture<'static, Option<cairn_core::world::Fact>>> {
        Some(Box::pin(futures::future::pending()))
    }
}

/// A hanging storage write no longer holds the reconcile (and with it every other
/// object) for ever: the reconcile returns at once, and after its bound the write
/// counts as failed on the BackupStorage, saying what to check.
#[tokio::test(start_paused = true)]
async fn a_hanging_backend_holds_up_no_reconcile_and_fails_after_its_bound() {
    let (client, fake) = Fake::start();
    seed(&fake);
    let mut d = Driver::new(Config::default());
    let observed = fake.observed();
    d.reconcile(&client, &HangingBackend, &observed, t0(), &fake.leader)
        .await
        .unwrap();
    assert!(!d.tasks.has_finished(), "the write still hangs");
    let status = status_of(&fake, &format!("{NS}/backupstorages/gcs-storage"));
    assert_ne!(status["phase"], "Ready", "{status:#}");

    // The paused clock runs to the bound while the test waits for the task.
    settle(&mut d, &client, &HangingBackend, &fake, t0())
        .await
        .unwrap();
    let status = status_of(&fake, &format!("{NS}/backupstorages/gcs-storage"));
    let text = status.to_string();
    assert!(
        text.contains("did not finish within 15 minutes")
            && text.contains("is the storage reachable from the operator's pod?"),
        "{status:#}"
    );
}
