//! The full local story on `examples/quickstart` (templated only for ports, passwords and
//! the backup directory): every backend file, every status field and condition of the
//! reference set, restic's view of the repository, and a restore into a second server.

use crate::local_support::*;
use anyhow::Result;
use cairn_testkit::{MariaDb, Restic};
use std::path::Path;

/// Copies `examples/quickstart` with the ports, passwords and directory of this test.
fn templated_quickstart(local: &Local, src: &MariaDb, dst: &MariaDb) -> Result<()> {
    let root = cairn_testkit::workspace_root().join("examples/quickstart");
    for set in ["backup", "restore"] {
        for entry in std::fs::read_dir(root.join(set))? {
            let path = entry?.path();
            // Each AppBinding's auth Secret gets its own server's password.
            let password = if set == "backup" {
                src.password()
            } else {
                dst.password()
            };
            let text = std::fs::read_to_string(&path)?
                .replace("127.0.0.1:3306", &format!("127.0.0.1:{}", src.port()))
                .replace("127.0.0.1:3307", &format!("127.0.0.1:{}", dst.port()))
                .replace("password: change-me\n", &format!("password: {password}\n"))
                .replace("change-me-to-a-long-random-password", RESTIC_PASSWORD)
                .replace(
                    "/tmp/cairn-quickstart",
                    &local.path("qs").display().to_string(),
                );
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            local.write(&format!("quickstart/{set}"), &name, &text)?;
        }
    }
    Ok(())
}

#[test]
fn quickstart_backs_up_restores_and_reports_every_status() -> Result<()> {
    let src = sample_source()?;
    let dst = MariaDb::start()?;
    let local = Local::new()?;
    templated_quickstart(&local, &src, &dst)?;
    let backup = local.path("quickstart/backup");
    let all = local.path("quickstart");

    let first = local.run_once("state", &[&backup])?;
    assert!(
        first.ok,
        "cairn run --once (backup) failed:\n{}",
        first.stderr
    );

    // Backend layout: every file present and parseable.
    let backups = local.path("qs/backups");
    let files = files_under(&backups);
    let meta: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(backups.join("metadata.yaml"))?)?;
    assert_eq!(meta["kind"].as_str(), Some("BackendMeta"), "{meta:?}");
    let repo_yaml: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(
        backups.join("mariadb/repository.yaml"),
    )?)?;
    assert_eq!(repo_yaml["kind"].as_str(), Some("Repository"));
    assert_eq!(
        repo_yaml["metadata"]["name"].as_str(),
        Some("local-mariadb-repo")
    );
    let snapshot_files: Vec<_> = files
        .iter()
        .filter(|f| f.starts_with("mariadb/snapshots/"))
        .collect();
    assert_eq!(snapshot_files.len(), 1, "{files:?}");
    let snap_yaml: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(backups.join(snapshot_files[0]))?)?;
    assert_eq!(snap_yaml["status"]["phase"].as_str(), Some("Succeeded"));
    assert!(
        files.contains(&"mariadb/repository/v1/frequent-backup/dump/config".to_owned()),
        "{files:?}"
    );

    // Status of every kind.
    let storage = local.object("state", "backupstorages", "local-storage")?;
    assert_eq!(phase(&storage), "Ready");
    assert_condition(&storage, "BackendInitialized", "True");
    let config = local.object("state", "backupconfigurations", "sample-mariadb-backup")?;
    assert_eq!(phase(&config), "Ready");
    assert_condition(&config, "ValidationPassed", "True");
    assert_condition(&config, "InitialBackupTriggered", "True");
    assert_eq!(config["status"]["targetFound"].as_bool(), Some(true));
    let repo = local.object("state", "repositories", "local-mariadb-repo")?;
    assert_eq!(phase(&repo), "Ready");
    assert_condition(&repo, "RepositoryInitialized", "True");
    assert_eq!(
        repo["status"]["recentSnapshots"]
            .as_sequence()
            .map(Vec::len),
        Some(1),
        "{repo:?}"
    );
    assert_eq!(repo["status"]["snapshotCount"].as_i64(), Some(1));
    assert_eq!(repo["status"]["integrity"].as_bool(), Some(true));
    let sessions = local.objects("state", "backupsessions")?;
    assert_eq!(sessions.len(), 1);
    let session = &sessions[0];
    assert_eq!(phase(session), "Succeeded", "{session:?}");
    for c in [
        "SnapshotsEnsured",
        "BackupExecutorEnsured",
        "RetentionPolicyExecutorEnsured",
        "SessionHistoryCleaned",
        "MetricsPushed",
    ] {
        assert_condition(session, c, "True");
    }
    let snapshot = &local.objects("state", "snapshots")?[0];
    assert_eq!(phase(snapshot), "Succeeded");
    assert_condition(snapshot, "SnapshotMetadataUploaded", "True");
    assert_condition(snapshot, "RecentSnapshotListUpdated", "True");
    let dump = &snapshot["status"]["components"]["dump"];
    assert_eq!(dump["phase"].as_str(), Some("Succeeded"));
    assert_eq!(dump["driver"].as_str(), Some("Restic"));
    assert_eq!(dump["integrity"].as_bool(), Some(true));
    assert_eq!(
        dump["path"].as_str(),
        Some("repository/v1/frequent-backup/dump")
    );
    assert!(
        dump["size"]
            .as_str()
            .is_some_and(|s| s.ends_with("iB") || s.ends_with(" B")),
        "{dump:?}"
    );
    let restic_id = dump["resticStats"][0]["summary"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(restic_id.len(), 64, "{dump:?}");

    // restic itself lists and checks the component repository.
    let restic = Restic::find()?;
    let component = backups.join("mariadb/repository/v1/frequent-backup/dump");
    let component = component.to_str().unwrap();
    let listed = restic.snapshots_json(component, &local.cairn.password_file)?;
    assert_eq!(
        listed[0]["id"].as_str(),
        Some(restic_id.as_str()),
        "{listed}"
    );
    restic.check(component, &local.cairn.password_file, true)?;

    // Restore into the second server.
    let second = local.run_once("state", &[&all])?;
    assert!(
        second.ok,
        "cairn run --once (restore) failed:\n{}",
        second.stderr
    );
    let restore = local.object("state", "restoresessions", "restore-sample-mariadb")?;
    assert_eq!(phase(&restore), "Succeeded", "{restore:?}");
    assert_condition(&restore, "RestoreExecutorEnsured", "True");
    assert_eq!(
        restore["status"]["components"]["dump"]["phase"].as_str(),
        Some("Succeeded")
    );
    assert_same_tables(&src, &dst, &["shop", "analytics"])?;

    // `cairn get` shows them.
    let state = local.path("state");
    let got = local.cairn.run(&[
        "get",
        "snapshots",
        "-n",
        NS,
        "--state",
        state.to_str().unwrap(),
    ])?;
    assert!(
        got.ok && got.stdout.contains("Succeeded"),
        "{}\n{}",
        got.stdout,
        got.stderr
    );
    assert_no_file_mentions(&local.path("state"), src.password());
    Ok(())
}

/// No state file but the Secrets' (0600) holds `secret`.
pub fn assert_no_file_mentions(state: &Path, secret: &str) {
    for f in files_under(state) {
        if f.starts_with("objects/secrets/") {
            continue;
        }
        let text = std::fs::read_to_string(state.join(&f)).unwrap_or_default();
        assert!(
            !text.contains(secret),
            "state file {f} holds a secret value"
        );
    }
}
