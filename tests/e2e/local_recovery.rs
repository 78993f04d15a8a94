//! Two repositories on two backends (local and S3) in one session, and disaster
//! recovery: a fresh state directory with the same BackupStorage re-creates the
//! Repository and Snapshot objects from the backend files, and restores from them.

use crate::local_support::*;
use anyhow::Result;
use cairn_testkit::{MariaDb, S3Server};

fn s3_storage(s3: &S3Server, bucket: &str) -> String {
    let env = s3.env();
    let get = |k: &str| {
        env.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    format!(
        r#"apiVersion: v1
kind: Secret
metadata: {{name: s3-cred, namespace: {NS}}}
stringData:
  AWS_ACCESS_KEY_ID: {}
  AWS_SECRET_ACCESS_KEY: {}
---
apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {{name: s3-store, namespace: {NS}}}
spec:
  storage:
    provider: s3
    s3: {{endpoint: "{}", bucket: {bucket}, prefix: team/backups, region: us-east-1, secretName: s3-cred}}
  usagePolicy: {{allowedNamespaces: {{from: All}}}}
  deletionPolicy: Delete
"#,
        get("AWS_ACCESS_KEY_ID"),
        get("AWS_SECRET_ACCESS_KEY"),
        s3.endpoint()
    )
}

#[test]
fn two_backends_in_one_session_then_disaster_recovery_from_a_fresh_state() -> Result<()> {
    let src = sample_source()?;
    let dst = MariaDb::start()?;
    let s3 = S3Server::start()?;
    s3.create_bucket("cairn-e2e")?;
    let local = Local::new()?;
    let backups = local.path("backups");
    let set = local.write("m", "base.yaml", &base_manifests("store", &backups))?;
    local.write("m", "s3.yaml", &s3_storage(&s3, "cairn-e2e"))?;
    local.write("m", "app.yaml", &app_binding("app", &src, src.password()))?;
    local.write("m", "rp.yaml", &retention("keep", 5))?;
    local.write(
        "m",
        "bc.yaml",
        &backup_configuration(
            "bc",
            "app",
            "0 0 1 1 *",
            &[("local", "store", "keep"), ("remote", "s3-store", "keep")],
            &[
                RepoSpec {
                    name: "repo-local",
                    backend: "local",
                    directory: "/db",
                },
                RepoSpec {
                    name: "repo-s3",
                    backend: "remote",
                    directory: "/db",
                },
            ],
            "",
        ),
    )?;
    let run = local.run_once("state", &[&set])?;
    assert!(run.ok, "backup to two backends failed:\n{}", run.stderr);
    let snapshots = local.objects("state", "snapshots")?;
    assert_eq!(snapshots.len(), 2);
    assert!(
        snapshots.iter().all(|s| phase(s) == "Succeeded"),
        "{snapshots:?}"
    );
    let keys = s3.list_keys("cairn-e2e", "team/backups/")?;
    for want in [
        "team/backups/metadata.yaml",
        "team/backups/db/repository.yaml",
        "team/backups/db/repository/v1/full/dump/config",
    ] {
        assert!(
            keys.iter().any(|k| k == want),
            "{want} missing in S3: {keys:?}"
        );
    }
    assert!(
        keys.iter()
            .any(|k| k.starts_with("team/backups/db/snapshots/")),
        "{keys:?}"
    );

    // Disaster: the state is lost. A fresh state with the same storage finds the
    // repository and its snapshots again; then a RestoreSession restores from them.
    let fresh = local.write("dr", "base.yaml", &base_manifests("store", &backups))?;
    let run = local.run_once("fresh-state", &[&fresh])?;
    assert!(run.ok, "recovery run failed:\n{}", run.stderr);
    let repo = local.object("fresh-state", "repositories", "repo-local")?;
    assert_eq!(phase(&repo), "Ready", "{repo:?}");
    let recovered = local.objects("fresh-state", "snapshots")?;
    assert_eq!(recovered.len(), 1, "{recovered:?}");
    assert_eq!(phase(&recovered[0]), "Succeeded", "{:?}", recovered[0]);
    let restore = local.write(
        "dr-restore",
        "app.yaml",
        &app_binding("restored", &dst, dst.password()),
    )?;
    local.write(
        "dr-restore",
        "restore.yaml",
        &restore_session("recover", "restored", "repo-local"),
    )?;
    let run = local.run_once("fresh-state", &[&fresh, &restore])?;
    assert!(
        run.ok,
        "restore after disaster recovery failed:\n{}",
        run.stderr
    );
    let restore = local.object("fresh-state", "restoresessions", "recover")?;
    assert_eq!(phase(&restore), "Succeeded", "{restore:?}");
    assert_same_tables(&src, &dst, &["shop", "analytics"])?;
    Ok(())
}
