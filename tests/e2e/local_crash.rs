//! A backup long enough to interfere with: a manual trigger while it runs is Skipped;
//! the daemon killed mid-backup leaves a job that runs again when the daemon restarts,
//! in the same session, without `retryConfig`.

use crate::local_support::*;
use anyhow::Result;
use cairn_testkit::MariaDb;

#[test]
fn trigger_while_running_is_skipped_and_a_crash_mid_backup_runs_the_job_again() -> Result<()> {
    let db = MariaDb::start()?;
    db.sql(
        "CREATE DATABASE big; CREATE TABLE big.t (id INT PRIMARY KEY, pad VARCHAR(120)); \
         INSERT INTO big.t SELECT seq, REPEAT(MD5(seq), 3) FROM big.seq_1_to_1000000",
    )?;
    let local = Local::new()?;
    let backups = local.path("backups");
    let set = local.write("m", "base.yaml", &base_manifests("store", &backups))?;
    local.write("m", "app.yaml", &app_binding("app", &db, db.password()))?;
    local.write("m", "rp.yaml", &retention("keep", 5))?;
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
    let mut daemon = local.spawn_daemon("state", &[&set], "daemon.log")?;
    let lock = backups.join("db/repository/v1/full/dump/cairn.lock");
    let started = eventually("the backup to take its repository lock", || {
        Ok(lock.exists())
    });
    if let Err(e) = started {
        stop(&mut daemon);
        panic!("{e:#}\n{}", local.log("daemon.log"));
    }

    // A manual trigger while the backup runs is Skipped.
    let state = local.path("state");
    local
        .cairn
        .run(&[
            "trigger",
            "bc",
            "-n",
            NS,
            "--state",
            state.to_str().unwrap(),
        ])?
        .expect_ok("cairn trigger");
    let skipped = eventually("the triggered session to be Skipped", || {
        Ok(local
            .objects("state", "backupsessions")?
            .iter()
            .any(|s| phase(s) == "Skipped"))
    });
    if let Err(e) = skipped {
        stop(&mut daemon);
        let sessions = local.objects("state", "backupsessions")?;
        panic!("{e:#}\nsessions: {sessions:?}\n{}", local.log("daemon.log"));
    }
    let skipped = local
        .objects("state", "backupsessions")?
        .into_iter()
        .find(|s| phase(s) == "Skipped")
        .unwrap();
    assert_condition(&skipped, "BackupSkipped", "True");

    // Crash: SIGKILL while the backup still holds its lock.
    assert!(
        lock.exists(),
        "the backup finished before the crash; make the table bigger"
    );
    daemon.kill()?; // SIGKILL
    let _ = daemon.wait();

    // Restart: the job that died with the daemon runs again and the session succeeds.
    let run = local.run_once("state", &[&set])?;
    assert!(
        run.ok,
        "the rerun after the crash did not succeed:\n{}",
        run.stderr
    );
    let snapshots = local.objects("state", "snapshots")?;
    assert!(
        snapshots
            .iter()
            .all(|s| condition(s, "BackupIncomplete").is_none()),
        "{snapshots:?}"
    );
    assert!(
        snapshots.iter().any(|s| phase(s) == "Succeeded"),
        "{snapshots:?}"
    );
    let sessions = local.objects("state", "backupsessions")?;
    assert!(
        sessions.iter().any(|s| phase(s) == "Succeeded"),
        "{sessions:?}"
    );
    assert!(
        !sessions.iter().any(|s| phase(s) == "Failed"),
        "{sessions:?}"
    );
    Ok(())
}
