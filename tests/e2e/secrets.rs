//! Secrets stay secret: with distinctive values for the database password, the repository
//! password and the S3 secret key, every command (successes and failures, at `RUST_LOG=trace`,
//! text and JSON logs) is run and its whole output searched for them; the argv of every call is
//! free of them; and no file the runs wrote (repository, cache, home) holds one in plain text.

use crate::cli::{Cairn, CLI_TIMEOUT};
use anyhow::{Context, Result};
use cairn_testkit::process::run_bounded;
use cairn_testkit::{random_hex, MariaDb, S3Server};
use std::path::Path;

/// Distinctive secret values (a random part, so no fixture text can match by chance).
struct Secrets {
    db: String,
    repo: String,
    s3: String,
    wrong_repo: String,
}

impl Secrets {
    fn new() -> Self {
        Self {
            db: format!("dbpw-{}-Zq", random_hex(8)),
            repo: format!("repopw-{}-Kx", random_hex(8)),
            s3: format!("s3sk-{}-Wm", random_hex(8)),
            wrong_repo: format!("wrongpw-{}-Jd", random_hex(8)),
        }
    }

    fn all(&self) -> [(&'static str, &str); 4] {
        [
            ("database password", &self.db),
            ("repository password", &self.repo),
            ("S3 secret key", &self.s3),
            ("wrong repository password", &self.wrong_repo),
        ]
    }

    /// Panics naming the secret and the call when `text` holds one.
    fn assert_absent(&self, what: &str, text: &[u8]) {
        let text = String::from_utf8_lossy(text);
        for (name, value) in self.all() {
            if let Some(at) = text.find(value) {
                let start = at.saturating_sub(200);
                let context = text
                    .get(start..(at + value.len() + 100).min(text.len()))
                    .unwrap_or_default()
                    .replace(value, "<SECRET>");
                panic!("the {name} appears in {what}: ...{context}...");
            }
        }
    }
}

/// Log settings the calls take in turn, so every command family is seen in both formats.
const LOG_STYLES: [[&str; 3]; 2] = [
    ["--log-format", "text", "-vv"],
    ["--log-format", "json", "-v"],
];

/// One call at `RUST_LOG=trace`: argv and output checked; returns whether it succeeded.
fn run_checked(
    cairn: &Cairn,
    secrets: &Secrets,
    home: &Path,
    style: usize,
    args: &[&str],
    extra_env: &[(&str, &str)],
) -> Result<bool> {
    let argv = args.join(" ");
    secrets.assert_absent(&format!("the argv `cairn {argv}`"), argv.as_bytes());
    let log = LOG_STYLES[style % LOG_STYLES.len()];
    let mut cmd = cairn.command(args);
    cmd.args(log)
        .env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "1")
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"));
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = run_bounded(&mut cmd, None, CLI_TIMEOUT)
        .with_context(|| format!("running cairn {argv}"))?;
    let what = format!("the output of `cairn {argv} {}`", log.join(" "));
    secrets.assert_absent(&what, &out.stdout);
    secrets.assert_absent(&what, &out.stderr);
    // Trace logging must actually have been on, or this test proves nothing.
    assert!(
        out.stderr.len() > 200,
        "{what}: almost no log output at RUST_LOG=trace: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out.status.success())
}

/// Every regular file under `dir` (recursively).
fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

#[test]
fn no_secret_in_any_output_argv_or_written_file() -> Result<()> {
    let secrets = Secrets::new();
    let db = MariaDb::start()?;
    db.create_user("backup", &secrets.db, "NONE")?;
    db.sql(
        "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v TEXT); \
         INSERT INTO shop.t VALUES (1, 'a'), (2, 'b');",
    )?;
    let s3 = S3Server::start()?;
    s3.create_bucket("vault")?;
    let secret_dir = tempfile::tempdir()?; // the password files: the only place secrets may be
    let work = tempfile::tempdir()?; // repository, HOME and caches of the runs
    let home = work.path().join("home");
    std::fs::create_dir_all(&home)?;
    let mut cairn = Cairn::new(secret_dir.path(), &secrets.repo, &secrets.db)?;
    // moto checks no signature: any secret key is accepted, so a distinctive one can be used.
    cairn.env = s3
        .env()
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "AWS_SECRET_ACCESS_KEY" => (k, secrets.s3.clone()),
            _ => (k, v),
        })
        .collect();
    let url = db.url_for("backup");
    let s3_repo = s3.restic_repo("vault", "shop/dump");
    let local_repo = work.path().join("repo").to_string_lossy().into_owned();
    let db_pw_file = cairn_testkit::write_secret(secret_dir.path(), "db-pw", &secrets.db)?;
    let db_pw_file = db_pw_file.to_string_lossy().into_owned();
    let wrong_pw_file =
        cairn_testkit::write_secret(secret_dir.path(), "wrong-pw", &secrets.wrong_repo)?;
    let wrong_pw_file = wrong_pw_file.to_string_lossy().into_owned();
    let calls = std::cell::Cell::new(0);
    let run_env = |args: &[&str], env: &[(&str, &str)]| {
        calls.set(calls.get() + 1);
        run_checked(&cairn, &secrets, &home, calls.get(), args, env)
    };
    let run = |args: &[&str]| run_env(args, &[]);

    // Successes, on S3 and on a local repository.
    for repo in [s3_repo.as_str(), local_repo.as_str()] {
        assert!(run(&["init", "--repo", repo])?, "init {repo}");
        assert!(run(&[
            "backup",
            "--db",
            &url,
            "--repo",
            repo,
            "--databases",
            "shop"
        ])?);
        assert!(run(&[
            "backup",
            "--db",
            &url,
            "--db-password-file",
            &db_pw_file,
            "--repo",
            repo,
            "--format",
            "sql",
            "--databases",
            "shop",
            "--json",
        ])?);
        assert!(run(&["snapshots", "--repo", repo, "--json"])?);
        assert!(run(&["check", "--repo", repo, "--read-data"])?);
        assert!(run(&[
            "restore",
            "--db",
            &url,
            "--repo",
            repo,
            "--rename-database",
            "shop:shop_copy",
            "--drop-existing",
        ])?);
        assert!(run(&[
            "forget",
            "--repo",
            repo,
            "--keep-last",
            "1",
            "--prune"
        ])?);
    }

    // Failures: each must fail, and say so without the secrets.
    assert!(!run(&[
        "snapshots",
        "--repo",
        &local_repo,
        "--password-file",
        &wrong_pw_file
    ])?);
    let dead = format!("mysql://backup@127.0.0.1:{}", cairn_testkit::free_port()?);
    assert!(!run(&["backup", "--db", &dead, "--repo", &local_repo])?);
    let wrong_db = run_env(
        &["backup", "--db", &url, "--repo", &local_repo],
        &[("MYSQL_PWD", &secrets.wrong_repo)],
    )?;
    assert!(!wrong_db, "a wrong database password was accepted");
    // A password inside --db is refused, and the refusal does not echo it.
    let in_url = format!("mysql://backup:{}@127.0.0.1:{}", "pw-in-argv-Rr", db.port());
    let r = cairn.run(&["backup", "--db", &in_url, "--repo", &local_repo])?;
    assert!(!r.ok, "a password in --db was accepted");
    assert!(
        !r.stderr.contains("pw-in-argv-Rr") && r.stderr.contains("MYSQL_PWD"),
        "{}",
        r.stderr
    );
    // Storage down in the middle of the command line's work.
    let mut s3 = s3;
    s3.stop();
    assert!(!run(&["snapshots", "--repo", &s3_repo])?);
    assert!(!run(&["backup", "--db", &url, "--repo", &s3_repo])?);

    // Nothing written in plain text: the repository, HOME, caches (the password files live
    // elsewhere, in `secret_dir`).
    let mut files = Vec::new();
    files_under(work.path(), &mut files);
    assert!(!files.is_empty());
    for f in files {
        let bytes = std::fs::read(&f)?;
        secrets.assert_absent(&format!("the file {}", f.display()), &bytes);
    }
    Ok(())
}
