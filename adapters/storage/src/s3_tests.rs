//! The repository API against a real S3 server (moto on loopback, from cairn-testkit).

use std::io::Read;

use cairn_testkit::S3Server;

use crate::repo::tests::{data, entry, meta, pw, rt};
use crate::{open_store, BackendOptions, Error, Location, LockGuard, LockOptions, Repo};

fn options(s3: &S3Server) -> BackendOptions {
    BackendOptions::from_map(s3.env())
}

#[test]
fn s3_missing_bucket_not_initialised_and_wrong_password_are_clear() {
    let s3 = S3Server::start().expect("start moto S3 server");
    let rt = rt();
    let loc = Location::parse(&s3.restic_repo("nope", "demo/repo")).unwrap();
    let store = open_store(&loc, &options(&s3)).unwrap();
    let err = Repo::init(store, &loc.to_string(), &pw(), rt.handle().clone()).unwrap_err();
    let want = format!("bucket nope does not exist at endpoint {}", s3.endpoint());
    assert!(err.to_string().contains(&want), "{err}");
    assert!(matches!(err, Error::BucketMissing { .. }));

    s3.create_bucket("bkt").unwrap();
    let loc = Location::parse(&s3.restic_repo("bkt", "demo/repo")).unwrap();
    let store = open_store(&loc, &options(&s3)).unwrap();
    let err = Repo::open(store.clone(), &loc.to_string(), &pw(), rt.handle().clone()).unwrap_err();
    assert!(matches!(err, Error::NotInitialised { .. }), "{err}");
    Repo::init(store.clone(), &loc.to_string(), &pw(), rt.handle().clone()).unwrap();
    let err = Repo::open(
        store,
        &loc.to_string(),
        &crate::Password::new("bad"),
        rt.handle().clone(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::WrongPassword { .. }), "{err}");
}

#[test]
fn s3_backup_read_lock_and_restic_interop() {
    let s3 = S3Server::start().expect("start moto S3 server");
    s3.create_bucket("kubestash").unwrap();
    let rt = rt();
    let root = Location::parse(&s3.restic_repo("kubestash", "demo/")).unwrap();
    let loc = root
        .join("singlestore")
        .join("repository/v1/frequent-backup/dump");
    let store = open_store(&loc, &options(&s3)).unwrap();
    let repo = Repo::init(store.clone(), &loc.to_string(), &pw(), rt.handle().clone()).unwrap();
    let dump = data(60, 2_000_000);
    let summary = repo
        .backup(vec![entry("/dumpfile.sql", dump.clone())], &meta())
        .unwrap();
    let keys = s3
        .list_keys(
            "kubestash",
            "demo/singlestore/repository/v1/frequent-backup/dump/",
        )
        .unwrap();
    assert!(keys.iter().any(|k| k.ends_with("/config")), "{keys:?}");
    assert!(
        !keys.iter().any(|k| k.ends_with("cairn.lock")),
        "lock released: {keys:?}"
    );

    let snap = repo.find_snapshot(&summary.short_id).unwrap();
    let mut back = Vec::new();
    repo.open_file(&snap, "/dumpfile.sql")
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == dump);
    assert!(repo.check(true).unwrap().is_ok());

    // Create-if-absent works on this S3 server: a second holder is refused.
    let other = LockOptions {
        hostname: "h2".into(),
        pid: 2,
        auto_refresh: false,
        ..Default::default()
    };
    let held =
        LockGuard::acquire(store.clone(), "r", "prune", &other, rt.handle().clone()).unwrap();
    let err = repo.check(false).unwrap_err().to_string();
    assert!(err.contains("locked by h2 pid 2 for prune"), "{err}");
    held.release().unwrap();

    let Some(restic) = which_restic() else {
        eprintln!(
            "NOTICE: restic CLI not installed; skipping the S3 restic interoperability check"
        );
        return;
    };
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(&restic);
        cmd.arg("-r")
            .arg(loc.to_string())
            .arg("--no-cache")
            .args(args)
            .envs(s3.env());
        cmd.env("RESTIC_PASSWORD", pw().expose());
        let out =
            cairn_testkit::process::run_ok(&mut cmd, None, std::time::Duration::from_secs(120))
                .unwrap();
        out.stdout
    };
    let listed: serde_json::Value =
        serde_json::from_slice(&run(&["snapshots", "--json", "--no-lock"])).unwrap();
    assert_eq!(listed[0]["id"], summary.snapshot_id.as_str());
    assert!(run(&["dump", "--quiet", "latest", "/dumpfile.sql"]) == dump);
    run(&["check", "--read-data"]);
}

fn which_restic() -> Option<std::path::PathBuf> {
    cairn_testkit::process::which(&["restic"])
}
