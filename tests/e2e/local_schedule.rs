//! The daemon: a seconds-level schedule fires repeatedly, retention prunes to the policy
//! (objects, YAMLs and restic snapshots), a second daemon on the same state directory is
//! refused, and SIGTERM stops it cleanly.

use crate::local_support::*;
use anyhow::Result;
use cairn_testkit::Restic;

#[test]
fn schedule_fires_repeatedly_and_retention_prunes() -> Result<()> {
    let db = sample_source()?;
    let local = Local::new()?;
    let backups = local.path("backups");
    let set = local.write("m", "base.yaml", &base_manifests("store", &backups))?;
    local.write("m", "app.yaml", &app_binding("app", &db, db.password()))?;
    local.write("m", "rp.yaml", &retention("keep-one", 1))?;
    local.write(
        "m",
        "bc.yaml",
        &backup_configuration(
            "bc",
            "app",
            "@every 4s",
            &[("b", "store", "keep-one")],
            &[RepoSpec {
                name: "repo",
                backend: "b",
                directory: "/db",
            }],
            "",
        ),
    )?;
    let mut daemon = local.spawn_daemon("state", &[&set], "daemon.log")?;
    let succeeded = |local: &Local| {
        local
            .log("daemon.log")
            .matches("BackupSessionSucceeded")
            .count()
    };
    let waited = eventually("three successful backups (instant + two scheduled)", || {
        Ok(succeeded(&local) >= 3)
    });
    if let Err(e) = waited {
        stop(&mut daemon);
        panic!("{e:#}\n{}", local.log("daemon.log"));
    }

    // A second daemon on the same state directory is refused at once.
    let second = local.cairn.run(&[
        "run",
        "-f",
        set.to_str().unwrap(),
        "--state",
        local.path("state").to_str().unwrap(),
        "--once",
    ])?;
    assert!(!second.ok);
    assert!(
        second
            .error_line()
            .contains("in use by another `cairn run`"),
        "{}",
        second.stderr
    );

    assert!(
        stop(&mut daemon),
        "daemon did not stop cleanly on SIGTERM:\n{}",
        local.log("daemon.log")
    );

    // Retention (last: 1) pruned objects, YAMLs and restic snapshots alike: of three or
    // more backups at most two remain (the newest, and one whose pruning the stop may
    // have interrupted).
    let fired = succeeded(&local);
    let snapshots: Vec<_> = local
        .objects("state", "snapshots")?
        .into_iter()
        .filter(|s| phase(s) == "Succeeded" && s["metadata"]["deletionTimestamp"].is_null())
        .collect();
    assert!(
        (1..=2).contains(&snapshots.len()) && fired >= 3,
        "{} live Snapshots after {fired} backups",
        snapshots.len()
    );
    let yamls: Vec<_> = files_under(&backups)
        .into_iter()
        .filter(|f| f.starts_with("db/snapshots/"))
        .collect();
    assert!(!yamls.is_empty() && yamls.len() <= 2, "{yamls:?}");
    let restic = Restic::find()?;
    let component = backups.join("db/repository/v1/full/dump");
    let listed = restic.snapshots_json(component.to_str().unwrap(), &local.cairn.password_file)?;
    let count = listed.as_array().map_or(0, Vec::len);
    assert!(
        (1..=2).contains(&count),
        "restic snapshots after retention: {listed}"
    );
    Ok(())
}
