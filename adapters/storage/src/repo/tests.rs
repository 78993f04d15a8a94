//! Repository tests on the local filesystem and object_store's InMemory, including faults.

use std::io::Read;
use std::sync::Arc;

use object_store::memory::InMemory;
use object_store::ObjectStore;

use super::*;
use crate::fault_store::FaultyStore;

pub(crate) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Deterministic pseudo-random bytes (incompressible, so packs are realistic).
pub(crate) fn data(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub(crate) fn entry(path: &str, bytes: Vec<u8>) -> SourceEntry {
    SourceEntry::new(path, move || {
        Ok(Box::new(std::io::Cursor::new(bytes)) as Box<dyn Read + Send>)
    })
}

pub(crate) fn meta() -> SnapshotMeta {
    SnapshotMeta {
        hostname: "test-host".into(),
        tags: vec!["cairn".into(), "dump".into()],
        ..Default::default()
    }
}

pub(crate) fn pw() -> Password {
    Password::new("correct horse")
}

fn read_all(repo: &Repo, snap: &SnapshotInfo, path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    repo.open_file(snap, path)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Reads half of `bytes`, then fails like a dropped database connection.
struct FailingReader {
    bytes: std::io::Cursor<Vec<u8>>,
    fail_at: u64,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.bytes.position() >= self.fail_at {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection dropped",
            ));
        }
        let room = usize::try_from(self.fail_at - self.bytes.position()).unwrap();
        let n = buf.len().min(room);
        self.bytes.read(&mut buf[..n])
    }
}

#[test]
fn backup_list_read_check_on_local_filesystem() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let loc = Location::parse(&dir.path().join("repo").display().to_string()).unwrap();
    let store = crate::open_store(&loc, &Default::default()).unwrap();
    let repo = Repo::init(store.clone(), &loc.to_string(), &pw(), rt.handle().clone()).unwrap();

    let big = data(1, 3 << 20);
    let small = data(2, 1000);
    let summary = repo
        .backup(
            vec![
                entry("/data/db1/t1/000001.tsv", big.clone()),
                entry("/data/db1/schema.sql", small.clone()),
                entry("/data/db1/empty.tsv", Vec::new()),
            ],
            &meta(),
        )
        .unwrap();
    assert_eq!(summary.files, 3);
    assert_eq!(summary.bytes_read, (3 << 20) + 1000);
    assert!(summary.bytes_added > 3 << 20, "{summary:?}");

    let reopened = Repo::open(store, &loc.to_string(), &pw(), rt.handle().clone()).unwrap();
    let snaps = reopened.snapshots().unwrap();
    assert_eq!(snaps.len(), 1);
    let snap = &snaps[0];
    assert_eq!(snap.id, summary.snapshot_id);
    assert_eq!(snap.paths, ["/data/db1"]);
    assert_eq!(snap.tags, ["cairn", "dump"]);
    assert_eq!(snap.hostname, "test-host");
    assert_eq!(reopened.find_snapshot("latest").unwrap().id, snap.id);
    assert_eq!(reopened.find_snapshot(&snap.short_id).unwrap().id, snap.id);

    let files = reopened.files(snap).unwrap();
    let listed: Vec<_> = files.iter().map(|f| (f.path.as_str(), f.size)).collect();
    assert_eq!(
        listed,
        [
            ("/data/db1/empty.tsv", 0),
            ("/data/db1/schema.sql", 1000),
            ("/data/db1/t1/000001.tsv", 3 << 20)
        ]
    );
    assert_eq!(read_all(&reopened, snap, "/data/db1/t1/000001.tsv"), big);
    assert_eq!(read_all(&reopened, snap, "data/db1/schema.sql"), small);
    assert!(read_all(&reopened, snap, "/data/db1/empty.tsv").is_empty());

    let err = reopened
        .open_file(snap, "/data/db1/nope")
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("file /data/db1/nope not found in snapshot"),
        "{err}"
    );
    assert!(
        reopened.open_file(snap, "/data/db1").is_err(),
        "a directory is not a file"
    );

    let report = reopened.check(true).unwrap();
    assert!(report.is_ok(), "{report:?}");
    let stats = reopened.stats().unwrap();
    assert!(
        stats.packs >= 1 && stats.pack_bytes > 3 << 20 && stats.snapshots == 1,
        "{stats:?}"
    );
    assert!(
        !dir.path()
            .join("repo")
            .join(crate::lock::LOCK_PATH)
            .exists(),
        "lock released"
    );
}

#[test]
fn init_twice_not_initialised_and_wrong_password_are_distinguished() {
    let rt = rt();
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let err = Repo::open(store.clone(), "mem:r", &pw(), rt.handle().clone()).unwrap_err();
    assert!(matches!(err, Error::NotInitialised { .. }), "{err}");
    assert!(
        err.to_string().contains("run `cairn init --repo mem:r`"),
        "{err}"
    );

    Repo::init(store.clone(), "mem:r", &pw(), rt.handle().clone()).unwrap();
    let err = Repo::init(store.clone(), "mem:r", &pw(), rt.handle().clone()).unwrap_err();
    assert!(matches!(err, Error::AlreadyInitialised { .. }), "{err}");

    let err = Repo::open(store, "mem:r", &Password::new("wrong"), rt.handle().clone()).unwrap_err();
    assert!(matches!(err, Error::WrongPassword { .. }), "{err}");
    assert!(err.to_string().contains("RESTIC_PASSWORD"), "{err}");
    assert!(!format!("{err:?}").contains("correct horse"));
}

#[test]
fn unknown_snapshot_is_reported_with_a_hint() {
    let rt = rt();
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let repo = Repo::init(store, "mem:r", &pw(), rt.handle().clone()).unwrap();
    for want in ["latest", "deadbeef", ""] {
        let err = repo.find_snapshot(want).unwrap_err().to_string();
        assert!(
            err.contains("not found in mem:r: run `cairn snapshots"),
            "{err}"
        );
    }
}

#[test]
fn entry_failing_half_way_leaves_no_snapshot_and_a_rerun_succeeds() {
    let rt = rt();
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let repo = Repo::init(store, "mem:r", &pw(), rt.handle().clone()).unwrap();
    let broken = SourceEntry::new("/data/db/t2.tsv", || {
        Ok(Box::new(FailingReader {
            bytes: std::io::Cursor::new(data(3, 2 << 20)),
            fail_at: 1 << 20,
        }) as Box<dyn Read + Send>)
    });
    let unopenable = SourceEntry::new("/data/db/t3.tsv", || {
        Err(std::io::Error::other("access denied"))
    });
    let err = repo
        .backup(
            vec![entry("/data/db/t1.tsv", data(4, 5000)), broken, unopenable],
            &meta(),
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::IncompleteBackup { .. }), "{text}");
    assert!(
        text.contains("/data/db/t2.tsv: read failed: connection dropped"),
        "{text}"
    );
    assert!(
        text.contains("/data/db/t3.tsv: open failed: access denied"),
        "{text}"
    );
    assert!(!text.contains("t1.tsv"), "{text}");
    assert!(repo.snapshots().unwrap().is_empty());

    repo.backup(vec![entry("/data/db/t1.tsv", data(4, 5000))], &meta())
        .unwrap();
    assert_eq!(repo.snapshots().unwrap().len(), 1);
    let report = repo.check(true).unwrap();
    assert!(report.is_ok(), "{report:?}");
}

#[test]
fn store_failing_mid_upload_fails_the_backup_and_a_rerun_succeeds() {
    let rt = rt();
    let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    Repo::init(inner.clone(), "mem:r", &pw(), rt.handle().clone()).unwrap();
    // Allow the lock and a first pack, then fail: the second pack, index or snapshot never lands.
    let faulty = FaultyStore::new(inner.clone(), 2);
    let repo = Repo::open(
        Arc::new(faulty.clone()),
        "mem:r",
        &pw(),
        rt.handle().clone(),
    )
    .unwrap();
    let entries = || {
        (0..4)
            .map(|i| entry(&format!("/d/{i}.tsv"), data(10 + i, 3 << 20)))
            .collect::<Vec<_>>()
    };
    let err = repo.backup(entries(), &meta()).unwrap_err();
    assert!(!matches!(err, Error::Locked { .. }), "{err}");

    let clean = Repo::open(inner.clone(), "mem:r", &pw(), rt.handle().clone()).unwrap();
    assert!(
        clean.snapshots().unwrap().is_empty(),
        "a failed backup must not be listed"
    );

    faulty.heal();
    // The failed run may have left its lock behind (its release failed too): unlock like a user would.
    rt.block_on(crate::lock::unlock(inner.as_ref(), "mem:r"))
        .unwrap();
    let summary = repo.backup(entries(), &meta()).unwrap();
    assert_eq!(summary.files, 4);
    let report = clean.check(true).unwrap();
    assert!(report.is_ok(), "{report:?}");
    let snap = clean.find_snapshot("latest").unwrap();
    assert_eq!(read_all(&clean, &snap, "/d/2.tsv"), data(12, 3 << 20));
}

#[test]
fn forget_with_policy_and_ids_then_prune_keeps_the_repository_consistent() {
    let rt = rt();
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let repo = Repo::init(store, "mem:r", &pw(), rt.handle().clone()).unwrap();
    let base = Utc::now() - chrono::Duration::hours(10);
    let mut ids = Vec::new();
    for i in 0..4u8 {
        let m = SnapshotMeta {
            time: Some(base + chrono::Duration::hours(i.into())),
            ..meta()
        };
        ids.push(
            repo.backup(
                vec![entry("/dumpfile.sql", data(20 + u64::from(i), 600_000))],
                &m,
            )
            .unwrap()
            .snapshot_id,
        );
    }
    assert!(
        repo.forget(&KeepPolicy::default(), false).is_err(),
        "an empty policy must be refused"
    );
    let report = repo
        .forget(
            &KeepPolicy {
                last: Some(2),
                ..Default::default()
            },
            true,
        )
        .unwrap();
    assert_eq!(report.removed.len(), 2, "{report:?}");
    assert_eq!(report.kept, [ids[3].clone(), ids[2].clone()]);
    assert!(report.prune.unwrap().packs_removed >= 1, "{report:?}");

    let report = repo.forget_ids(&[ids[2][..10].to_owned()], true).unwrap();
    assert_eq!(report.removed, [ids[2].clone()]);
    let left = repo.snapshots().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, ids[3]);
    let err = repo
        .forget_ids(&["ffffffff".to_owned()], false)
        .unwrap_err();
    assert!(matches!(err, Error::SnapshotNotFound { .. }), "{err}");
    assert!(repo.check(true).unwrap().is_ok());
    assert_eq!(
        read_all(&repo, &left[0], "/dumpfile.sql"),
        data(23, 600_000)
    );
}

#[test]
fn files_can_be_streamed_concurrently() {
    let rt = rt();
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let repo = Arc::new(Repo::init(store, "mem:r", &pw(), rt.handle().clone()).unwrap());
    let entries = (0..6)
        .map(|i| entry(&format!("/t/{i}"), data(30 + i, 700_000)))
        .collect();
    repo.backup(entries, &meta()).unwrap();
    let snap = repo.find_snapshot("latest").unwrap();
    std::thread::scope(|s| {
        for i in 0..6u64 {
            let (repo, snap) = (repo.clone(), snap.clone());
            s.spawn(move || {
                assert_eq!(
                    read_all(&repo, &snap, &format!("/t/{i}")),
                    data(30 + i, 700_000)
                )
            });
        }
    });
}

#[test]
fn backup_is_refused_while_another_process_holds_the_lock() {
    let rt = rt();
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let repo = Repo::init(store.clone(), "mem:r", &pw(), rt.handle().clone()).unwrap();
    let other = LockOptions {
        hostname: "other-host".into(),
        pid: 4242,
        auto_refresh: false,
        ..Default::default()
    };
    let held = LockGuard::acquire(store, "mem:r", "prune", &other, rt.handle().clone()).unwrap();
    let err = repo
        .backup(vec![entry("/x", vec![1])], &meta())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("locked by other-host pid 4242 for prune"),
        "{err}"
    );
    held.release().unwrap();
    repo.backup(vec![entry("/x", vec![1])], &meta()).unwrap();
}

/// Runs `restic` with a bounded wait; `None` (and a printed notice) if restic is not installed.
fn restic(
    repo_dir: &std::path::Path,
    args: &[&str],
    stdin: Option<Vec<u8>>,
) -> Option<std::process::Output> {
    use std::process::{Command, Stdio};
    let mut cmd = Command::new("restic");
    cmd.arg("-r")
        .arg(repo_dir)
        .arg("--no-cache")
        .args(args)
        .env("RESTIC_PASSWORD", pw().expose())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "NOTICE: restic CLI not installed; skipping the restic interoperability check"
            );
            return None;
        }
        Err(e) => panic!("cannot run restic: {e}"),
    };
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || std::io::Write::write_all(&mut pipe, &bytes));
    }
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let out = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .unwrap_or_else(|_| {
            let _ = std::process::Command::new("kill")
                .arg("-9")
                .arg(pid.to_string())
                .status();
            panic!("restic {args:?} did not finish within 120 s")
        })
        .unwrap();
    assert!(
        out.status.success(),
        "restic {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out)
}

#[test]
fn restic_cli_reads_and_checks_what_we_write() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let loc = Location::parse(&path.display().to_string()).unwrap();
    let store = crate::open_store(&loc, &Default::default()).unwrap();
    let repo = Repo::init(store, &loc.to_string(), &pw(), rt.handle().clone()).unwrap();
    let dump = data(40, 2_500_000);
    let table = data(41, 70_000);
    let summary = repo
        .backup(
            vec![
                entry("/dumpfile.sql", dump.clone()),
                entry("/data/db/t.tsv", table.clone()),
            ],
            &meta(),
        )
        .unwrap();

    let Some(out) = restic(&path, &["snapshots", "--json", "--no-lock"], None) else {
        return;
    };
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], summary.snapshot_id.as_str());
    assert_eq!(listed[0]["hostname"], "test-host");
    let out = restic(&path, &["dump", "--quiet", "latest", "/dumpfile.sql"], None).unwrap();
    assert!(
        out.stdout == dump,
        "restic dump returned {} bytes, want {}",
        out.stdout.len(),
        dump.len()
    );
    let out = restic(
        &path,
        &["dump", "--quiet", &summary.short_id, "/data/db/t.tsv"],
        None,
    )
    .unwrap();
    assert!(out.stdout == table);
    restic(&path, &["check", "--read-data"], None).unwrap();
}

#[test]
fn we_read_kubestash_style_stdin_snapshots_written_by_restic() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let dump = data(50, 1_800_000);
    if restic(&path, &["init"], None).is_none() {
        return;
    }
    restic(
        &path,
        &[
            "backup",
            "--stdin",
            "--stdin-filename",
            "dumpfile.sql",
            "--host",
            "kubestash",
        ],
        Some(dump.clone()),
    )
    .unwrap();
    let loc = Location::parse(&path.display().to_string()).unwrap();
    let store = crate::open_store(&loc, &Default::default()).unwrap();
    let repo = Repo::open(store, &loc.to_string(), &pw(), rt.handle().clone()).unwrap();
    let snap = repo.find_snapshot("latest").unwrap();
    assert_eq!(snap.paths, ["/dumpfile.sql"]);
    assert_eq!(snap.hostname, "kubestash");
    let files = repo.files(&snap).unwrap();
    assert_eq!(
        files,
        [FileInfo {
            path: "/dumpfile.sql".into(),
            size: dump.len() as u64
        }]
    );
    assert!(read_all(&repo, &snap, "/dumpfile.sql") == dump);
    assert!(repo.check(true).unwrap().is_ok());
    // A backup of ours into restic's repository stays checkable by restic.
    repo.backup(vec![entry("/dumpfile.sql", data(51, 10_000))], &meta())
        .unwrap();
    restic(&path, &["check", "--read-data"], None).unwrap();
}

#[test]
fn reads_reload_a_stale_index_after_another_writer_adds_data() {
    let rt = rt();
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let reader = Repo::init(store.clone(), "mem:r", &pw(), rt.handle().clone()).unwrap();
    let writer = Repo::open(store, "mem:r", &pw(), rt.handle().clone()).unwrap();
    writer
        .backup(vec![entry("/a", data(70, 100_000))], &meta())
        .unwrap();
    let first = reader.find_snapshot("latest").unwrap();
    assert_eq!(read_all(&reader, &first, "/a"), data(70, 100_000)); // caches the index
    writer
        .backup(vec![entry("/b", data(71, 900_000))], &meta())
        .unwrap();
    let second = reader
        .find_snapshot(&writer.snapshots().unwrap()[1].id)
        .unwrap();
    assert_eq!(reader.files(&second).unwrap()[0].size, 900_000);
    assert_eq!(read_all(&reader, &second, "/b"), data(71, 900_000));
}

#[test]
fn backup_whose_lock_is_broken_meanwhile_is_discarded() {
    let rt = rt();
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let repo = Repo::init(store.clone(), "mem:r", &pw(), rt.handle().clone()).unwrap();
    let (s, h) = (store.clone(), rt.handle().clone());
    // Someone runs `cairn unlock` while we read the entry.
    let sneaky = SourceEntry::new("/t", move || {
        h.block_on(crate::lock::unlock(s.as_ref(), "mem:r"))
            .unwrap();
        Ok(Box::new(std::io::Cursor::new(data(80, 1000))) as Box<dyn Read + Send>)
    });
    let err = repo.backup(vec![sneaky], &meta()).unwrap_err();
    assert!(matches!(err, Error::LockLost { .. }), "{err}");
    assert!(repo.snapshots().unwrap().is_empty());
}
