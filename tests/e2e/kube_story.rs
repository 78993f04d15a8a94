//! The seed's story in Kubernetes: `helm install` of the chart starts the real operator
//! in the test cluster; a user applies KubeStash manifests with kubectl; the executor pods
//! run the real binary against a real MariaDB; restic checks the repository; a
//! RestoreSession brings the data back.

use crate::kube_support::*;
use crate::local_support::{restore_session, retention, RepoSpec, NS, RESTIC_PASSWORD};
use anyhow::Result;
use cairn_testkit::{MariaDb, Restic};
use std::time::Duration;

/// Bound of each step of the story (a debug build in a busy CI machine).
pub const STEP: Duration = Duration::from_secs(240);

/// The user's manifests: namespace, Secrets, a Service and AppBinding for the database,
/// a local BackupStorage on a host directory, retention, and the BackupConfiguration.
pub fn manifests(db: &MariaDb, backups: &std::path::Path, session_extra: &str) -> String {
    let port = db.port();
    let password = db.password();
    let user = db.user();
    let storage = crate::local_support::local_storage("local-storage", backups);
    let config = crate::local_support::backup_configuration(
        "sample-backup",
        "app",
        "*/5 * * * *",
        &[("local", "local-storage", "keep")],
        &[RepoSpec {
            name: "local-repo",
            backend: "local",
            directory: "/demo",
        }],
        session_extra,
    );
    format!(
        r#"apiVersion: v1
kind: Secret
metadata: {{name: encrypt-secret, namespace: {NS}}}
stringData: {{RESTIC_PASSWORD: {RESTIC_PASSWORD}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: app-auth, namespace: {NS}}}
stringData: {{username: {user}, password: "{password}"}}
---
apiVersion: v1
kind: Service
metadata: {{name: app, namespace: {NS}}}
spec:
  ports: [{{name: db, port: {port}, targetPort: {port}}}]
---
apiVersion: appcatalog.appscode.com/v1alpha1
kind: AppBinding
metadata: {{name: app, namespace: {NS}}}
spec:
  type: kubedb.com/mariadb
  version: "10.11"
  clientConfig:
    service: {{name: app, port: {port}, scheme: tcp}}
  secret: {{name: app-auth}}
---
{storage}---
{retention}---
{config}"#,
        retention = retention("keep", 5)
    )
}

#[test]
fn kube_backup_and_restore_story_through_the_operator() -> Result<()> {
    let db = MariaDb::start()?;
    db.sql(
        "CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(40)); \
         INSERT INTO shop.items SELECT seq, CONCAT('item-', seq) FROM shop.seq_1_to_5000",
    )?;
    let before = db.checksum_table("shop", "items")?;
    let cluster = Cluster::up()?;
    let backups = cluster.backups_dir()?;

    // 1. The chart: CRDs, RBAC, the operator Deployment (its pods run this build's binary).
    cluster.install_operator(&backups)?;

    // 2. The user's manifests, in a namespace the operator does not run in.
    cluster.kubectl(&["create", "namespace", NS])?;
    cluster.apply(&manifests(&db, &backups, ""))?;

    // 3. The storage initialises, the configuration becomes Ready, the instant backup runs.
    cluster.wait("the BackupStorage to be Ready", STEP, || {
        Ok(cluster
            .items("backupstorages", NS)?
            .iter()
            .any(|s| phase(s) == "Ready"))
    })?;
    cluster.wait("the BackupConfiguration to be Ready", STEP, || {
        Ok(cluster
            .items("backupconfigurations", NS)?
            .iter()
            .any(|s| phase(s) == "Ready"))
    })?;
    cluster.wait_for_a_succeeded_session("a BackupSession to succeed", NS, STEP)?;
    assert!(backups.join("metadata.yaml").exists(), "metadata.yaml");
    assert!(
        backups.join("demo/repository.yaml").exists(),
        "repository.yaml"
    );

    // 4. What kubectl shows: printer columns of the CRDs.
    let table = cluster.kubectl(&["get", "backupsessions,snapshots", "-n", NS])?;
    eprintln!("{table}");
    assert!(table.contains("Succeeded"), "{table}");
    let snapshots = cluster.items("snapshots", NS)?;
    let snapshot = &snapshots[0];
    assert_eq!(phase(snapshot), "Succeeded", "{snapshot:#}");
    let dump = &snapshot["status"]["components"]["dump"];
    assert_eq!(dump["phase"], "Succeeded", "{dump:#}");

    // 5. restic reads and checks what the executor pod wrote.
    let component = backups
        .join("demo")
        .join(dump["path"].as_str().unwrap_or_default());
    let password = cluster.dir.path().join("restic-password");
    std::fs::write(&password, RESTIC_PASSWORD)?;
    let restic = Restic::find()?;
    let check = restic.check(component.to_str().unwrap(), &password, true)?;
    assert!(
        check.status.success(),
        "restic check of {}:\n{}",
        component.display(),
        String::from_utf8_lossy(&check.stderr)
    );

    // 6. Restore: the database is dropped, a RestoreSession of latest brings it back.
    db.sql("DROP DATABASE shop")?;
    cluster.apply(&restore_session("restore-1", "app", "local-repo"))?;
    cluster.wait("the RestoreSession to succeed", STEP, || {
        let r = cluster.items("restoresessions", NS)?;
        if let Some(failed) = r.iter().find(|s| phase(s) == "Failed") {
            anyhow::bail!("the RestoreSession failed: {failed:#}");
        }
        Ok(r.iter().any(|s| phase(s) == "Succeeded"))
    })?;
    assert_eq!(db.checksum_table("shop", "items")?, before);
    cluster.helm(&["uninstall", "cairn", "--namespace", "cairn-system"])?;
    Ok(())
}

/// A shared BackupStorage in its own namespace (`usagePolicy` From: All, as platform
/// teams set it up) and the encryption Secret in a third: the executor, bound by the
/// operator in each namespace it reads and refused everywhere else by RBAC, backs up.
#[test]
fn kube_backup_into_a_storage_and_secret_of_other_namespaces() -> Result<()> {
    let db = MariaDb::start()?;
    db.sql(
        "CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY); \
         INSERT INTO shop.items SELECT seq FROM shop.seq_1_to_300",
    )?;
    let cluster = Cluster::up()?;
    let backups = cluster.backups_dir()?;
    cluster.install_operator(&backups)?;
    for ns in [NS, "stash", "vault"] {
        cluster.kubectl(&["create", "namespace", ns])?;
    }
    let mut yaml = manifests(&db, &backups, "");
    for (from, to) in [
        (
            format!("metadata: {{name: local-storage, namespace: {NS}}}"),
            "metadata: {name: local-storage, namespace: stash}".to_owned(),
        ),
        (
            format!("storageRef: {{namespace: {NS}, name: local-storage}}"),
            "storageRef: {namespace: stash, name: local-storage}".to_owned(),
        ),
        (
            format!("metadata: {{name: encrypt-secret, namespace: {NS}}}"),
            "metadata: {name: encrypt-secret, namespace: vault}".to_owned(),
        ),
        (
            format!("encryptionSecret: {{name: encrypt-secret, namespace: {NS}}}"),
            "encryptionSecret: {name: encrypt-secret, namespace: vault}".to_owned(),
        ),
    ] {
        assert!(yaml.contains(&from), "{from} in the manifests");
        yaml = yaml.replace(&from, &to);
    }
    cluster.apply(&yaml)?;
    cluster.wait_for_a_succeeded_session("a BackupSession to succeed", NS, STEP)?;
    for ns in ["stash", "vault"] {
        let bindings = cluster.items("rolebindings", ns)?;
        assert!(
            bindings
                .iter()
                .any(|b| b["roleRef"]["name"] == "cairn-executor"
                    && b["subjects"][0]["namespace"] == NS),
            "the executor of {NS} is bound in {ns}: {bindings:#?}"
        );
    }
    let snapshot = &cluster.items("snapshots", NS)?[0];
    let path = snapshot["status"]["components"]["dump"]["path"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let password = cluster.dir.path().join("restic-password");
    std::fs::write(&password, RESTIC_PASSWORD)?;
    let component = backups.join("demo").join(path);
    let check = Restic::find()?.check(component.to_str().unwrap(), &password, true)?;
    assert!(
        check.status.success(),
        "restic check:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    Ok(())
}
