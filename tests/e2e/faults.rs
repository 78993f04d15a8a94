//! Bad input and faults: each gives a clear one-line error, leaks no secret, and loses nothing.

use crate::cli::{Cairn, CLI_TIMEOUT};
use anyhow::Result;
use cairn_testkit::process::{terminate, wait_bounded, wait_for};
use cairn_testkit::{MariaDb, Restic, S3Server};
use std::process::Stdio;
use std::time::Duration;

const REPO_PASSWORD: &str = "repo-secret-Xq7";

/// A server with one database `big` whose dump takes a few seconds, and an initialised repository.
struct Setup {
    db: MariaDb,
    dir: tempfile::TempDir,
    cairn: Cairn,
}

impl Setup {
    fn new(rows: u32) -> Result<Self> {
        let db = MariaDb::start()?;
        db.sql(&format!(
            "CREATE DATABASE big; CREATE TABLE big.t (id INT PRIMARY KEY, pad VARCHAR(255)); \
             SET SESSION max_recursive_iterations = 10000000; \
             INSERT INTO big.t WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows}) \
             SELECT n, REPEAT(MD5(n), 7) FROM s;"
        ))?;
        let dir = tempfile::tempdir()?;
        let cairn = Cairn::new(dir.path(), REPO_PASSWORD, db.password())?;
        cairn
            .run(&["init", "--repo", &Self::repo_of(&dir)])?
            .expect_ok("init");
        Ok(Self { db, dir, cairn })
    }

    fn repo_of(dir: &tempfile::TempDir) -> String {
        dir.path().join("repo").to_string_lossy().into_owned()
    }

    fn repo(&self) -> String {
        Self::repo_of(&self.dir)
    }

    fn snapshot_count(&self) -> Result<usize> {
        let listed = self
            .cairn
            .run(&["snapshots", "--repo", &self.repo(), "--json"])?
            .expect_ok("snapshots")
            .json();
        Ok(listed.as_array().map_or(0, Vec::len))
    }

    fn backup(&self) -> Result<crate::cli::Run> {
        self.cairn.run(&[
            "backup",
            "--db",
            &self.db.url(),
            "--repo",
            &self.repo(),
            "--chunk-rows",
            "20000",
        ])
    }

    /// Starts a backup in the background and waits until it holds the repository lock.
    fn start_backup(&self) -> Result<std::process::Child> {
        let mut child = self
            .cairn
            .command(&[
                "backup",
                "--db",
                &self.db.url(),
                "--repo",
                &self.repo(),
                "--chunk-rows",
                "20000",
                "--parallel",
                "1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let lock = self.dir.path().join("repo").join("cairn.lock");
        let started = wait_for(
            "the backup to take the repository lock",
            Duration::from_secs(60),
            || Ok(lock.exists()),
        );
        if started.is_err() {
            terminate(&mut child, Duration::from_secs(5));
        }
        started?;
        Ok(child)
    }

    fn assert_repository_sound(&self) -> Result<()> {
        Restic::find()?.check(&self.repo(), &self.cairn.password_file, true)?;
        Ok(())
    }
}

fn assert_no_secret(text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "output leaks a secret: {text}");
    }
}

#[test]
fn wrong_database_password_says_so_and_leaks_nothing() -> Result<()> {
    let setup = Setup::new(10)?;
    let mut cairn = Cairn::new(setup.dir.path(), REPO_PASSWORD, "wrong-db-pw-Zz9")?;
    cairn.env.push(("RUST_LOG".into(), "debug".into()));
    let run = cairn.run(&["backup", "--db", &setup.db.url(), "--repo", &setup.repo()])?;
    assert!(!run.ok);
    let line = run.error_line();
    assert!(line.contains("root@127.0.0.1"), "{line}");
    assert!(line.to_lowercase().contains("password"), "{line}");
    assert_no_secret(
        &format!("{}{}", run.stdout, run.stderr),
        &["wrong-db-pw-Zz9", REPO_PASSWORD, setup.db.password()],
    );
    assert_eq!(setup.snapshot_count()?, 0);
    Ok(())
}

#[test]
fn unreachable_database_names_host_and_port() -> Result<()> {
    let setup = Setup::new(10)?;
    let port = cairn_testkit::free_port()?;
    let run = setup.cairn.run(&[
        "backup",
        "--db",
        &format!("mysql://root@127.0.0.1:{port}"),
        "--repo",
        &setup.repo(),
    ])?;
    assert!(!run.ok);
    assert!(
        run.error_line().contains(&format!("127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
    Ok(())
}

#[test]
fn wrong_repository_password_and_uninitialised_repository_are_told_apart() -> Result<()> {
    let setup = Setup::new(10)?;
    let wrong = Cairn::new(setup.dir.path(), "not-the-password", setup.db.password())?;
    let run = wrong.run(&["snapshots", "--repo", &setup.repo()])?;
    assert!(!run.ok);
    assert!(run.error_line().contains("password"), "{}", run.stderr);
    assert_no_secret(&run.stderr, &["not-the-password", REPO_PASSWORD]);

    let empty = setup.dir.path().join("empty");
    let run = setup.cairn.run(&[
        "backup",
        "--db",
        &setup.db.url(),
        "--repo",
        empty.to_str().unwrap(),
    ])?;
    assert!(!run.ok);
    assert!(run.error_line().contains("cairn init"), "{}", run.stderr);
    Ok(())
}

#[test]
fn snapshot_not_found_points_to_the_list() -> Result<()> {
    let setup = Setup::new(10)?;
    let run = setup.cairn.run(&[
        "restore",
        "--db",
        &setup.db.url(),
        "--repo",
        &setup.repo(),
        "--snapshot",
        "deadbeef",
    ])?;
    assert!(!run.ok);
    assert!(run.error_line().contains("deadbeef"), "{}", run.stderr);
    assert!(
        run.error_line().contains("cairn snapshots"),
        "{}",
        run.stderr
    );
    Ok(())
}

#[test]
fn missing_bucket_is_named() -> Result<()> {
    let s3 = S3Server::start()?;
    let dir = tempfile::tempdir()?;
    let mut cairn = Cairn::new(dir.path(), REPO_PASSWORD, "unused")?;
    cairn.env = s3.env();
    let run = cairn.run(&["init", "--repo", &s3.restic_repo("no-such-bucket", "x")])?;
    assert!(!run.ok);
    assert!(
        run.error_line().contains("no-such-bucket"),
        "{}",
        run.stderr
    );
    Ok(())
}

#[test]
fn killed_mid_backup_leaves_a_sound_repository_and_the_next_backup_recovers_the_lock() -> Result<()>
{
    let setup = Setup::new(400_000)?;
    let mut child = setup.start_backup()?;
    child.kill()?;
    wait_bounded(&mut child, CLI_TIMEOUT);
    assert!(
        setup.dir.path().join("repo/cairn.lock").exists(),
        "the killed process leaves its lock behind"
    );
    assert_eq!(setup.snapshot_count()?, 0, "no partial snapshot is listed");
    setup.assert_repository_sound()?;

    // The holder is gone (same host, dead pid): the next backup breaks the lock by itself.
    let run = setup.backup()?.expect_ok("backup after a kill");
    assert!(
        run.stderr.contains("lock"),
        "a warning names the broken lock: {}",
        run.stderr
    );
    assert_eq!(setup.snapshot_count()?, 1);
    setup.assert_repository_sound()
}

#[test]
fn database_crash_mid_dump_fails_cleanly_and_a_rerun_succeeds() -> Result<()> {
    let mut setup = Setup::new(400_000)?;
    let mut child = setup.start_backup()?;
    setup.db.crash();
    let status = wait_bounded(&mut child, CLI_TIMEOUT).expect("backup exits after the crash");
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr)?;
    assert!(!status.success(), "the backup must fail: {stderr}");
    assert!(stderr.contains("error:"), "{stderr}");
    assert_eq!(
        setup.snapshot_count()?,
        0,
        "no snapshot without all data: {stderr}"
    );
    setup.assert_repository_sound()?;

    setup.db.restart()?;
    setup.backup()?.expect_ok("backup after restart");
    assert_eq!(setup.snapshot_count()?, 1);
    setup.assert_repository_sound()
}

#[test]
fn a_second_backup_waits_its_turn_on_a_locked_repository() -> Result<()> {
    let setup = Setup::new(400_000)?;
    let mut first = setup.start_backup()?;
    let second = setup.backup()?;
    assert!(
        !second.ok,
        "a concurrent backup is refused while the lock is fresh"
    );
    assert!(
        second.error_line().contains("cairn unlock"),
        "{}",
        second.stderr
    );
    let status = wait_bounded(&mut first, CLI_TIMEOUT).expect("first backup finishes");
    assert!(status.success());
    assert_eq!(setup.snapshot_count()?, 1);
    Ok(())
}
