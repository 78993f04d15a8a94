//! Local control plane failures: a wrong database password fails the Snapshot with a
//! message that says so and leaks nothing; a second daemon on one state directory is
//! refused.

use crate::local_quickstart::assert_no_file_mentions;
use crate::local_support::*;
use anyhow::Result;
use cairn_testkit::MariaDb;

#[test]
fn wrong_database_password_fails_the_snapshot_without_leaking_it() -> Result<()> {
    let db = MariaDb::start()?;
    let local = Local::new()?;
    let wrong = format!("wrong-{}", cairn_testkit::random_hex(8));
    let set = local.write(
        "m",
        "base.yaml",
        &base_manifests("store", &local.path("backups")),
    )?;
    local.write("m", "app.yaml", &app_binding("app", &db, &wrong))?;
    local.write("m", "rp.yaml", &retention("keep", 3))?;
    local.write(
        "m",
        "bc.yaml",
        &backup_configuration(
            "bc",
            "app",
            "0 0 1 1 *",
            &[("b", "store", "keep")],
            &[RepoSpec {
                name: "repo",
                backend: "b",
                directory: "/db",
            }],
            "",
        ),
    )?;
    let run = local.run_once("state", &[&set])?;
    assert!(
        !run.ok,
        "--once must fail when a session failed:\n{}",
        run.stdout
    );
    assert!(run.error_line().contains("failed"), "{}", run.stderr);
    let snapshot = &local.objects("state", "snapshots")?[0];
    assert_eq!(phase(snapshot), "Failed", "{snapshot:?}");
    let error = snapshot["status"]["components"]["dump"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("access denied"), "{error}");
    assert!(
        error.contains("password") && error.contains("AppBinding demo/app"),
        "{error}"
    );
    let session = &local.objects("state", "backupsessions")?[0];
    assert_eq!(phase(session), "Failed");
    for text in [run.stdout.as_str(), run.stderr.as_str()] {
        assert!(!text.contains(&wrong), "the password appears in the output");
    }
    assert_no_file_mentions(&local.path("state"), &wrong);
    Ok(())
}
