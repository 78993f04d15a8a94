//! The daemon's clock jumps (through `CAIRN_CLOCK_OFFSET_FILE`, the documented test hook
//! of adapters/local/src/clock.rs) across the boundaries of a `*/1 * * * *` schedule:
//! an hour forward runs one catch-up backup, not sixty; an hour back runs nothing
//! again, even across a minute boundary; then the schedule resumes with the next slot.

use crate::load_support::*;
use crate::local_support::*;
use anyhow::{bail, Result};
use cairn_testkit::MariaDb;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long the daemon is watched for a run that must not happen (more than two of
/// its longest sleeps, so it has looked at the clock several times).
const QUIET: Duration = Duration::from_secs(8);

/// The daemon's clock: the system time plus the offset in a file.
struct Clock {
    file: PathBuf,
    offset: i64,
}

impl Clock {
    /// The daemon's now, in unix seconds.
    fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.offset
    }

    /// Sets the offset so the daemon's now is `target` (unix seconds); written whole
    /// (rename) so the daemon never reads half a number.
    fn jump_to(&mut self, target: i64) -> Result<()> {
        self.offset = target - chrono::Utc::now().timestamp();
        let temp = self.file.with_extension("tmp");
        std::fs::write(&temp, self.offset.to_string())?;
        std::fs::rename(&temp, &self.file)?;
        Ok(())
    }

    /// `second` seconds into the minute after `now + ahead` seconds.
    fn mid_minute(&self, ahead: i64, second: i64) -> i64 {
        (self.now() + ahead).div_euclid(60) * 60 + second
    }
}

/// The BackupSessions in `state`, oldest slot first.
fn sessions(local: &Local) -> Result<Vec<SessionRow>> {
    let mut rows: Vec<SessionRow> = local
        .objects("state", "backupsessions")?
        .iter()
        .map(SessionRow::of)
        .collect::<Result<_>>()?;
    rows.sort_by_key(|r| r.slot);
    Ok(rows)
}

/// Waits until the session of `slot` (unix seconds) has Succeeded; fails early if
/// the daemon's clock reaches `too_late` (a later slot would then fire legitimately
/// and blur what the test shows).
fn succeeds(local: &Local, clock: &Clock, slot: i64, too_late: i64) -> Result<()> {
    let deadline = Instant::now() + DAEMON_WAIT;
    loop {
        let rows = sessions(local)?;
        if let Some(s) = rows.iter().find(|s| s.name_seconds() == Some(slot)) {
            match s.phase.as_str() {
                "Succeeded" => return Ok(()),
                "Failed" | "Skipped" => bail!("{} ended {}", s.name, s.phase),
                _ => {}
            }
        }
        if clock.now() >= too_late || Instant::now() > deadline {
            bail!(
                "no Succeeded session for slot {slot} in time; sessions: {:?}",
                rows.iter().map(|r| (&r.name, &r.phase)).collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The session names (by slot seconds) after watching for [`QUIET`].
fn after_quiet(local: &Local) -> Result<Vec<i64>> {
    std::thread::sleep(QUIET);
    Ok(sessions(local)?
        .iter()
        .filter_map(SessionRow::name_seconds)
        .collect())
}

#[test]
fn clock_jumps_cause_one_catch_up_and_no_double_run() -> Result<()> {
    let db = MariaDb::start()?;
    db.sql("CREATE DATABASE clk; CREATE TABLE clk.t (id INT PRIMARY KEY); INSERT INTO clk.t VALUES (1), (2)")?;
    let mut local = Local::new()?;
    let mut clock = Clock {
        file: local.path("clock-offset"),
        offset: 0,
    };
    local.cairn.env.push((
        "CAIRN_CLOCK_OFFSET_FILE".to_owned(),
        clock.file.display().to_string(),
    ));
    let set = local.write(
        "m",
        "base.yaml",
        &base_manifests("store", &local.path("backups")),
    )?;
    local.write("m", "rp.yaml", &retention("keep", 10))?;
    local.write("m", "app.yaml", &app_binding("app", &db, db.password()))?;
    local.write(
        "m",
        "bc.yaml",
        &configuration(&ConfigSpec {
            name: "bc",
            target: "app",
            databases: "clk",
            schedule: "*/1 * * * *",
            storage: "store",
            retention: "keep",
            repo: "repo",
            history: 10,
        }),
    )?;

    // The daemon starts early in a minute, so its instant backup ends before the next.
    clock.jump_to(clock.mid_minute(60, 5))?;
    let mut daemon = Daemon(local.spawn_daemon("state", &[&set], "daemon.log")?);
    let start_minute = clock.now().div_euclid(60) * 60;
    let outcome = (|| -> Result<()> {
        let instant = loop_until_first_session(&local)?;
        succeeds(&local, &clock, instant, start_minute + 60)?;

        // An hour forward: sixty slots passed; one catch-up run for the latest.
        clock.jump_to(clock.mid_minute(3600, 10))?;
        let caught_up = clock.now().div_euclid(60) * 60;
        succeeds(&local, &clock, caught_up, caught_up + 60)?;
        assert_eq!(
            after_quiet(&local)?,
            [instant, caught_up],
            "after the jump forward"
        );

        // An hour back, to just before a minute boundary whose slot is older than the
        // last run: crossing it runs nothing, and neither do the slots already run.
        clock.jump_to(caught_up - 3600 + 60 - 4)?;
        assert_eq!(
            after_quiet(&local)?,
            [instant, caught_up],
            "after the jump back"
        );

        // Past the last run again: the next slot runs, once.
        let next = caught_up + 60;
        clock.jump_to(next + 5)?;
        succeeds(&local, &clock, next, next + 60)?;
        assert_eq!(after_quiet(&local)?, [instant, caught_up, next], "resumed");
        Ok(())
    })();
    if let Err(e) = outcome {
        daemon.stop();
        bail!("{e:#}\n{}", local.log("daemon.log"));
    }
    assert!(daemon.stop(), "unclean stop:\n{}", local.log("daemon.log"));
    let rows = sessions(&local)?;
    assert!(
        rows.iter().all(|r| r.phase == "Succeeded"),
        "{:?}",
        rows.iter().map(|r| (&r.name, &r.phase)).collect::<Vec<_>>()
    );
    Ok(())
}

/// The unix seconds of the first (instant) session, once it exists.
fn loop_until_first_session(local: &Local) -> Result<i64> {
    let mut first = None;
    eventually("the instant backup session", || {
        first = sessions(local)?.first().and_then(SessionRow::name_seconds);
        Ok(first.is_some())
    })?;
    first.ok_or_else(|| anyhow::anyhow!("no session"))
}
