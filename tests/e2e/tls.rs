//! TLS end to end: the `cairn` binary against MariaDB with a self-signed CA (verified server,
//! client certificates, server name override, the opt-out) and against S3 over HTTPS with a
//! custom CA (`--ca-file`, `CA_CERT_DATA`, `RESTIC_CACERT`, `--insecure-tls`).

use crate::cli::{Cairn, Run};
use anyhow::Result;
use cairn_testkit::{MariaDb, Restic, S3Server, TestCa};

/// The only name in the MariaDB certificate: connecting to 127.0.0.1 needs `--db-server-name`.
const DB_SERVER_NAME: &str = "db.cairn.test";
const X509_PASSWORD: &str = "x509-pw-Tq4";
const SSL_PASSWORD: &str = "ssl-pw-Hv8";

fn path(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Runs `cairn ARGS` with `MYSQL_PWD` set to `db_password`.
fn run_as(cairn: &Cairn, db_password: &str, args: &[String]) -> Result<Run> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cairn_testkit::process::run_bounded(
        cairn.command(&args).env("MYSQL_PWD", db_password),
        None,
        crate::cli::CLI_TIMEOUT,
    )?;
    Ok(Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

fn args(parts: &[&str], extra: &[String]) -> Vec<String> {
    parts
        .iter()
        .map(|s| (*s).to_string())
        .chain(extra.iter().cloned())
        .collect()
}

#[test]
fn backup_and_restore_over_verified_tls_with_client_certificate() -> Result<()> {
    let ca = TestCa::new("Cairn E2E CA")?;
    let rogue = TestCa::new("Rogue CA")?;
    let server = ca.issue_server("mariadb", &[&format!("DNS:{DB_SERVER_NAME}")])?;
    let client = ca.issue_client("cairn-backup")?;
    let db = MariaDb::start_with_tls(&ca, &server)?;
    db.create_user("backup", X509_PASSWORD, "X509")?;
    db.create_user("ssluser", SSL_PASSWORD, "SSL")?;
    db.sql(
        "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(20)); \
         INSERT INTO shop.t VALUES (1, 'tls'), (2, 'x509');",
    )?;
    let before = db.checksum_table("shop", "t")?;
    let dir = tempfile::tempdir()?;
    let cairn = Cairn::new(dir.path(), "repo-pw", X509_PASSWORD)?;
    let repo = path(&dir.path().join("repo"));
    cairn.run(&["init", "--repo", &repo])?.expect_ok("init");

    let url = db.url_for("backup");
    let tls: Vec<String> = [
        "--db-ca-file",
        &path(ca.cert()),
        "--db-cert-file",
        &path(&client.cert),
        "--db-key-file",
        &path(&client.key),
        "--db-server-name",
        DB_SERVER_NAME,
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();

    let accepts = db.global_status("Ssl_accepts")?;
    let backup = args(
        &[
            "backup",
            "--db",
            &url,
            "--repo",
            &repo,
            "--databases",
            "shop",
        ],
        &tls,
    );
    run_as(&cairn, X509_PASSWORD, &backup)?.expect_ok("backup over TLS");
    assert!(
        db.global_status("Ssl_accepts")? > accepts,
        "the backup made no TLS connection"
    );

    db.sql("DROP DATABASE shop")?;
    let restore = args(&["restore", "--db", &url, "--repo", &repo], &tls);
    run_as(&cairn, X509_PASSWORD, &restore)?.expect_ok("restore over TLS");
    assert_eq!(db.checksum_table("shop", "t")?, before);

    // The account REQUIREs X509: plain TCP is refused, and the error says what to pass.
    let plain = args(&["backup", "--db", &url, "--repo", &repo], &[]);
    let r = run_as(&cairn, X509_PASSWORD, &plain)?;
    assert!(!r.ok);
    assert!(r.error_line().contains("--db-ca-file"), "{}", r.stderr);

    // A CA that did not sign the server certificate.
    let mut wrong_ca = tls.clone();
    wrong_ca[1] = path(rogue.cert());
    let r = run_as(
        &cairn,
        X509_PASSWORD,
        &args(&["backup", "--db", &url, "--repo", &repo], &wrong_ca),
    )?;
    assert!(!r.ok);
    let line = r.error_line();
    assert!(
        line.contains(&format!(
            "TLS handshake with 127.0.0.1:{} failed",
            db.port()
        )) && line.contains("unknown authority")
            && line.contains("--db-ca-file"),
        "{}",
        r.stderr
    );

    // The address is not a name in the certificate: the error points at --db-server-name.
    let no_name = &tls[..6];
    let r = run_as(
        &cairn,
        X509_PASSWORD,
        &args(&["backup", "--db", &url, "--repo", &repo], no_name),
    )?;
    assert!(!r.ok);
    assert!(r.error_line().contains("--db-server-name"), "{}", r.stderr);

    // The opt-out encrypts without verifying (REQUIRE SSL account, no CA, no name).
    let insecure = args(
        &[
            "backup",
            "--db",
            &db.url_for("ssluser"),
            "--repo",
            &repo,
            "--databases",
            "shop",
            "--db-insecure-skip-verify",
        ],
        &[],
    );
    run_as(&cairn, SSL_PASSWORD, &insecure)?.expect_ok("backup with --db-insecure-skip-verify");

    // A certificate without its key is rejected before connecting.
    let r = cairn.run(&[
        "backup",
        "--db",
        &url,
        "--repo",
        &repo,
        "--db-cert-file",
        &path(&client.cert),
    ])?;
    assert!(!r.ok);
    assert!(r.stderr.contains("--db-key-file"), "{}", r.stderr);
    Ok(())
}

#[test]
fn s3_over_https_with_custom_ca_or_insecure_tls() -> Result<()> {
    let ca = TestCa::new("Cairn S3 CA")?;
    let cert = ca.issue_server("s3", &["IP:127.0.0.1", "DNS:localhost"])?;
    let s3 = S3Server::start_with_tls(&ca, &cert)?;
    s3.create_bucket("secure")?;
    let ca_file = s3.ca_file().expect("TLS server has a CA").to_path_buf();
    let db = MariaDb::start()?;
    db.sql("CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY); INSERT INTO shop.t VALUES (1), (2);")?;
    let dir = tempfile::tempdir()?;
    let mut cairn = Cairn::new(dir.path(), "repo-pw", db.password())?;
    cairn.env = s3.env();
    let repo = s3.restic_repo("secure", "tls/dump");
    assert!(repo.starts_with("s3:https://"), "{repo}");

    // The server's CA is not trusted by default.
    let r = cairn.run(&["init", "--repo", &repo])?;
    assert!(!r.ok, "init trusted an unknown CA");
    let line = r.error_line();
    assert!(
        line.contains("certificate")
            && line.contains("--ca-file")
            && line.contains("--insecure-tls"),
        "{}",
        r.stderr
    );

    let ca = path(&ca_file);
    cairn
        .run(&["init", "--repo", &repo, "--ca-file", &ca])?
        .expect_ok("init with --ca-file");
    cairn
        .run(&[
            "backup",
            "--db",
            &db.url(),
            "--repo",
            &repo,
            "--databases",
            "shop",
            "--ca-file",
            &ca,
        ])?
        .expect_ok("backup with --ca-file");

    // The same CA from the environment: KubeStash's CA_CERT_DATA, restic's RESTIC_CACERT.
    let pem = std::fs::read_to_string(&ca_file)?;
    let mut with_env = Cairn::new(dir.path(), "repo-pw", db.password())?;
    with_env.env = s3.env();
    with_env.env.push(("CA_CERT_DATA".into(), pem));
    with_env
        .run(&["snapshots", "--repo", &repo])?
        .expect_ok("snapshots with CA_CERT_DATA");
    let mut with_cacert = Cairn::new(dir.path(), "repo-pw", db.password())?;
    with_cacert.env = s3.env();
    with_cacert.env.push(("RESTIC_CACERT".into(), ca.clone()));
    with_cacert
        .run(&["snapshots", "--repo", &repo])?
        .expect_ok("snapshots with RESTIC_CACERT");

    // insecureTLS: no CA at all.
    cairn
        .run(&["check", "--repo", &repo, "--insecure-tls"])?
        .expect_ok("check with --insecure-tls");
    db.sql("DROP DATABASE shop")?;
    cairn
        .run(&[
            "restore",
            "--db",
            &db.url(),
            "--repo",
            &repo,
            "--insecure-tls",
        ])?
        .expect_ok("restore with --insecure-tls");
    assert_eq!(db.sql("SELECT COUNT(*) FROM shop.t")?, "2");

    // restic reads the repository through the same CA.
    let out = Restic::find()?.with_env(s3.env()).run(
        &["-r", &repo, "--cacert", &ca, "snapshots", "--json"],
        &[("RESTIC_PASSWORD_FILE", &path(&cairn.password_file))],
    )?;
    assert!(
        out.status.success(),
        "restic over HTTPS failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
