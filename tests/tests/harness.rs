//! Tests of the harness itself: each server starts, works and stops within bounded time.

use cairn_testkit::{scratch_dir, write_secret, MariaDb, Restic, S3Server};

#[test]
fn mariadb_starts_runs_sql_and_stops() -> anyhow::Result<()> {
    let mut db = MariaDb::start()?;
    db.sql("CREATE DATABASE t; CREATE TABLE t.x (id INT PRIMARY KEY, s VARCHAR(20)); INSERT INTO t.x VALUES (1, 'a\\tb'), (2, NULL)")?;
    assert_eq!(db.sql("SELECT COUNT(*) FROM t.x")?, "2");
    assert_eq!(db.sql_in("t", "SELECT id FROM x ORDER BY id")?, "1\n2");
    let sum = db.checksum_table("t", "x")?;
    assert!(!sum.is_empty());
    assert_eq!(db.tables("t")?, vec!["x".to_string()]);
    let dump = db.dump_text("t")?;
    assert!(
        dump.contains("INSERT INTO `x` VALUES (1,'a\tb');"),
        "{dump}"
    );
    assert!(db.url().starts_with("mysql://root@127.0.0.1:"));

    // The TCP user works with the password (which is never in argv).
    let out = std::process::Command::new("mariadb")
        .args([
            "--no-defaults",
            "-h",
            "127.0.0.1",
            "-P",
            &db.port().to_string(),
            "-uroot",
            "-N",
            "-e",
            "SELECT 7",
        ])
        .env("MYSQL_PWD", db.password())
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    db.restart()?;
    assert_eq!(db.checksum_table("t", "x")?, sum);
    db.crash();
    db.restart()?;
    assert_eq!(db.sql("SELECT COUNT(*) FROM t.x")?, "2");
    db.stop();
    assert!(db.sql("SELECT 1").is_err());
    Ok(())
}

#[test]
fn s3_server_creates_buckets_and_restic_uses_it() -> anyhow::Result<()> {
    let s3 = S3Server::start()?;
    s3.create_bucket("harness")?;
    s3.put_object("harness", "a/b.txt", b"hello")?;
    assert_eq!(s3.list_keys("harness", "a/")?, vec!["a/b.txt".to_string()]);
    assert_eq!(
        s3.get_object("harness", "a/b.txt")?.as_deref(),
        Some(&b"hello"[..])
    );
    assert_eq!(s3.get_object("harness", "missing")?, None);

    let dir = scratch_dir()?;
    let pw = write_secret(dir.path(), "pw", "harness-secret")?;
    let restic = Restic::find()?.with_env(s3.env());
    let repo = s3.restic_repo("harness", "repo");
    restic.init(&repo, &pw)?;
    let id = restic.backup_stdin(&repo, &pw, "dump.sql", b"SELECT 1;\n")?;
    assert!(!id.is_empty());
    restic.check(&repo, &pw, true)?;
    assert_eq!(
        restic.dump(&repo, &pw, "latest", "/dump.sql")?,
        b"SELECT 1;\n"
    );
    assert_eq!(
        restic.snapshots_json(&repo, &pw)?.as_array().map(Vec::len),
        Some(1)
    );
    assert!(s3
        .list_keys("harness", "repo/")?
        .iter()
        .any(|k| k == "repo/config"));

    s3.pause();
    s3.resume();
    assert!(!s3.list_keys("harness", "repo/keys/")?.is_empty());
    Ok(())
}

#[test]
fn several_mariadb_instances_run_side_by_side() -> anyhow::Result<()> {
    let handles: Vec<_> = (0..3)
        .map(|i| {
            std::thread::spawn(move || -> anyhow::Result<(u16, String)> {
                let db = MariaDb::start()?;
                Ok((db.port(), db.sql(&format!("SELECT {i} + 1"))?))
            })
        })
        .collect();
    // Join every thread before failing, so no instance outlives the test un-dropped.
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("thread panicked"))
        .collect();
    let mut ports = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        let (port, out) = r?;
        assert_eq!(out, (i + 1).to_string());
        ports.push(port);
    }
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 3, "each instance has its own port");
    Ok(())
}
