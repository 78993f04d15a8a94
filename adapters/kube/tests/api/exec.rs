//! `cairn exec` in a Job against the fake API server: the reads, the job spec from the
//! Job annotation, the status patches; and the whole story with the real data path
//! (the operator with its real storage backend on a local directory, a real MariaDB
//! dumped and restored by the executor).

use std::collections::BTreeSet;
use std::path::Path;

use cairn_core::job::{JobKey, JobKind};
use cairn_core::world::Outcome;
use cairn_kube::backend::{BackendIo, FixedBackend, StorageBackend};
use cairn_kube::driver::{Driver, Report};
use cairn_kube::exec::{exec, ExecArgs, ExecKind};
use cairn_kube::objects::{Config, JOB_SPEC_ANNOTATION};
use cairn_kube::rbac::{expand, EXECUTOR};
use cairn_kube::request::Access;
use chrono::{DateTime, Utc};
use clap::Parser;
use kube::Client;
use serde_json::json;

use super::rbac::{access_of, granted};
use super::support::*;

const NS: &str = "/apis/storage.kubestash.com/v1alpha1/namespaces/demo";
const CORE: &str = "/apis/core.kubestash.com/v1alpha1/namespaces/demo";
const SESSION: &str = "sample-sdb-backup-frequent-backup-1724065100";
const SNAPSHOT: &str = "gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065100";
const JOB: &str =
    "/apis/batch/v1/namespaces/demo/jobs/cairn-backup-sample-sdb-backup-frequent-backup-1724065100";
const RESTORE_JOB: &str =
    "/apis/batch/v1/namespaces/demo/jobs/cairn-restore-restore-sample-singlestore";

async fn run(
    d: &mut Driver,
    client: &Client,
    fake: &Fake,
    backend: &dyn BackendIo,
    now: DateTime<Utc>,
) -> Report {
    settle(d, client, backend, fake, now).await.unwrap()
}

fn backup_key() -> JobKey {
    JobKey::new(JobKind::Backup, "demo", SESSION)
}

/// Every request of `log` is granted to the executor's ClusterRole, in code and in
/// deploy/rbac.
fn assert_executor_may(log: &[Logged]) {
    let code: BTreeSet<Access> = expand(EXECUTOR).into_iter().collect();
    let deployed = granted("executor.yaml", "cairn-executor");
    for l in log {
        for a in access_of(l) {
            assert!(code.contains(&a), "{} {} needs {a:?}", l.method, l.path);
            assert!(deployed.contains(&a), "{} {} needs {a:?}", l.method, l.path);
        }
    }
}

/// The operator planned a backup (fixed backend, GCS storage), then the AppBinding
/// vanished: the executor reads what the job spec names, finds no AppBinding and
/// reports failed components on the Snapshot, naming the missing object.
#[tokio::test]
async fn exec_reports_a_missing_appbinding_on_the_snapshot() {
    let (client, fake) = Fake::start();
    seed(&fake);
    let mut d = Driver::new(Config::default());
    let ok = FixedBackend(Outcome::Ok);
    let t0 = at("2024-08-19T10:58:20Z");
    run(&mut d, &client, &fake, &ok, t0).await;
    fake.put(yaml(CONFIG));
    run(&mut d, &client, &fake, &ok, t0).await;
    let job = fake.get(JOB).expect("executor job");
    let spec = job["metadata"]["annotations"][JOB_SPEC_ANNOTATION]
        .as_str()
        .expect("job spec annotation");
    assert!(
        !spec.contains("TOPSECRET"),
        "the job spec names Secrets only"
    );
    fake.remove("/apis/appcatalog.appscode.com/v1alpha1/namespaces/demo/appbindings/sdb-sample");
    fake.take_log();

    let report = exec(&client, &backup_key(), Path::new("/")).await.unwrap();
    let log = fake.take_log();
    pin("exec_missing_appbinding", &log);
    assert_executor_may(&log);
    let error = report.error.expect("failed");
    assert!(
        error.contains("AppBinding demo/sdb-sample not found"),
        "{error}"
    );
    let status = fake.get(&format!("{NS}/snapshots/{SNAPSHOT}")).unwrap()["status"].clone();
    assert_eq!(
        status["components"]["dump"]["phase"], "Failed",
        "{status:#}"
    );

    // The operator reads the failure back when the Job fails.
    fake.edit(JOB, |j| {
        j["status"] = json!({"conditions": [{"type": "Failed", "status": "True", "lastTransitionTime": "2024-08-19T10:58:33Z"}]})
    });
    run(&mut d, &client, &fake, &ok, at("2024-08-19T10:58:35Z")).await;
    let snap = fake.get(&format!("{NS}/snapshots/{SNAPSHOT}")).unwrap();
    assert_eq!(snap["status"]["phase"], "Failed");
}

#[tokio::test]
async fn exec_refuses_a_job_without_a_spec() {
    let (client, fake) = Fake::start();
    fake.put(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": format!("cairn-backup-{SESSION}"), "namespace": "demo"},
    }));
    let err = exec(&client, &backup_key(), Path::new("/"))
        .await
        .unwrap_err();
    assert_eq!(err.category(), "InvalidInput");
    assert!(err.to_string().contains(JOB_SPEC_ANNOTATION), "{err}");
    let err = exec(
        &client,
        &JobKey::new(JobKind::Restore, "demo", "nope"),
        Path::new("/"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    exec: ExecArgs,
}

/// The args the built-in Functions pass parse (including empty and hyphenated values).
#[test]
fn function_args_parse() {
    let cli = Cli::try_parse_from([
        "exec",
        "backup",
        "--namespace=demo",
        "--backupsession=s1",
        "--enable-cache=true",
        "--scratch-dir=/kubestash-tmp",
        "--wait-timeout=300",
        "--singlestore-args=--set-gtid-purged=OFF",
        "--db-version=8.5.7",
        "--databases=",
    ])
    .unwrap();
    assert_eq!(cli.exec.what, ExecKind::Backup);
    assert_eq!(
        cli.exec.key().unwrap(),
        JobKey::new(JobKind::Backup, "demo", "s1")
    );
    let cli = Cli::try_parse_from([
        "exec",
        "restore",
        "--namespace=demo",
        "--restoresession=r1",
        "--snapshot=latest",
        "--mysql-args=",
    ])
    .unwrap();
    assert_eq!(cli.exec.key().unwrap().kind, JobKind::Restore);
    let cli = Cli::try_parse_from(["exec", "restore", "--namespace=demo"]).unwrap();
    assert_eq!(cli.exec.key().unwrap_err().category(), "InvalidInput");
}

const LOCAL_STORAGE: &str = r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {name: gcs-storage, namespace: demo}
spec:
  storage:
    provider: local
    local:
      mountPath: MOUNT
      hostPath: {path: /var/lib/not-in-the-pod}
  usagePolicy: {allowedNamespaces: {from: All}}
  default: true
  deletionPolicy: WipeOut
"#;

/// The strongest test here: the operator (real storage backend on a local directory)
/// plans the backup; the executor reads the objects from the API, dumps a real
/// MariaDB into the BackupStorage and patches the Snapshot; the operator completes the
/// session and uploads the Snapshot YAML. Then a RestoreSession loads it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_through_exec_with_mariadb() {
    let db =
        tokio::task::spawn_blocking(|| cairn_testkit::MariaDb::start().expect("start MariaDB"))
            .await
            .unwrap();
    db.sql("CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO shop.items VALUES (1,'a'),(2,'b'),(3,'c');")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (client, fake) = Fake::start();
    fake.put(secret(
        "demo",
        "encrypt-secret",
        &[("RESTIC_PASSWORD", "changeit-TOPSECRET")],
    ));
    fake.put(secret(
        "demo",
        "sdb-sample-root-cred",
        &[("username", db.user()), ("password", db.password())],
    ));
    fake.put(yaml(
        &LOCAL_STORAGE.replace("MOUNT", &dir.path().display().to_string()),
    ));
    fake.put(yaml(RETENTION));
    let mut app = yaml(APP_BINDING);
    app["spec"]["clientConfig"] = json!({"url": format!("tcp(127.0.0.1:{})/", db.port())});
    app["spec"]["parameters"] = json!(null);
    fake.put(app);
    let backend = StorageBackend::default();
    let mut d = Driver::new(Config::default());
    let t0 = at("2024-08-19T10:58:20Z");
    run(&mut d, &client, &fake, &backend, t0).await;
    assert!(
        dir.path().join("metadata.yaml").is_file(),
        "backend initialised"
    );
    fake.put(yaml(CONFIG));
    run(&mut d, &client, &fake, &backend, t0).await;
    assert!(dir.path().join("singlestore/repository.yaml").is_file());
    // The Job mounts the local backend's volume at its mountPath.
    let pod = fake.get(JOB).expect("executor job")["spec"]["template"]["spec"].clone();
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "backend-gcs-storage")
        .cloned()
        .expect("backend volume");
    assert_eq!(volume["hostPath"]["path"], "/var/lib/not-in-the-pod");
    let mounts = pod["containers"][0]["volumeMounts"].to_string();
    assert!(
        mounts.contains(&dir.path().display().to_string()),
        "{mounts}"
    );
    fake.take_log();

    // The executor Job runs.
    let report = exec(&client, &backup_key(), Path::new("/")).await.unwrap();
    assert_eq!(report.error, None);
    let log = fake.take_log();
    assert_executor_may(&log);
    let calls: Vec<String> = log
        .iter()
        .map(|l| format!("{} {}", l.method, l.path))
        .collect();
    insta::assert_yaml_snapshot!("exec_backup_requests", calls);
    let dump =
        &fake.get(&format!("{NS}/snapshots/{SNAPSHOT}")).unwrap()["status"]["components"]["dump"];
    assert_eq!(dump["phase"], "Succeeded", "{dump:#}");
    assert_eq!(dump["integrity"], true);
    assert_eq!(dump["path"], "repository/v1/frequent-backup/dump");
    let id = dump["resticStats"][0]["summary"]["id"].as_str().unwrap();
    assert_eq!(id.len(), 64);
    assert!(dir
        .path()
        .join("singlestore/repository/v1/frequent-backup/dump/config")
        .is_file());

    // The Job completes: the operator finishes the session and uploads the Snapshot YAML.
    fake.edit(JOB, |j| {
        j["status"] = json!({"startTime": "2024-08-19T10:58:25Z", "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": "2024-08-19T10:58:40Z"}]})
    });
    let t1 = at("2024-08-19T10:58:45Z");
    run(&mut d, &client, &fake, &backend, t1).await;
    run(&mut d, &client, &fake, &backend, t1).await;
    let session = fake
        .get(&format!("{CORE}/backupsessions/{SESSION}"))
        .unwrap();
    assert_eq!(session["status"]["phase"], "Succeeded");
    let yaml_path = dir
        .path()
        .join(format!("singlestore/snapshots/{SNAPSHOT}.yaml"));
    assert!(
        yaml_path.is_file(),
        "Snapshot YAML uploaded for disaster recovery"
    );

    // Restore into the emptied database.
    db.sql("DROP TABLE shop.items;").unwrap();
    fake.put(yaml(RESTORE));
    let t2 = at("2024-08-19T10:59:00Z");
    run(&mut d, &client, &fake, &backend, t2).await;
    assert!(fake.get(RESTORE_JOB).is_some(), "restore job");
    fake.take_log();
    let key = JobKey::new(JobKind::Restore, "demo", "restore-sample-singlestore");
    let report = exec(&client, &key, Path::new("/")).await.unwrap();
    assert_eq!(report.error, None);
    let log = fake.take_log();
    assert_executor_may(&log);
    let calls: Vec<String> = log
        .iter()
        .map(|l| format!("{} {}", l.method, l.path))
        .collect();
    insta::assert_yaml_snapshot!("exec_restore_requests", calls);
    let rows = db.sql_in("shop", "SELECT COUNT(*) FROM items").unwrap();
    assert!(rows.trim().ends_with('3'), "{rows}");
    fake.edit(RESTORE_JOB, |j| {
        j["status"] = json!({"startTime": "2024-08-19T10:59:05Z", "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": "2024-08-19T10:59:10Z"}]})
    });
    run(&mut d, &client, &fake, &backend, at("2024-08-19T10:59:15Z")).await;
    let restore = fake
        .get(&format!(
            "{CORE}/restoresessions/restore-sample-singlestore"
        ))
        .unwrap();
    assert_eq!(
        restore["status"]["phase"], "Succeeded",
        "{:#}",
        restore["status"]
    );
}
