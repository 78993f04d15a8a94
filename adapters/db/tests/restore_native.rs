//! Native restore against a real private MariaDB: dump a tricky dataset with the dump side,
//! restore it (renamed) from an in-memory snapshot and compare; refusal, failures, filters.
//!
//! Each test starts its own server (stopped on drop) and bounds its run time.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::Arc;

use cairn_db::conn::DbTarget;
use cairn_db::dump::{prepare_dump, DumpEntry, DumpOptions};
use cairn_db::restore::{
    restore_native, RestoreError, RestoreOptions, RestoreProgress, SnapshotSource,
};
use cairn_testkit::MariaDb;

mod support;
use support::{runtime, start_server, target, TEST_TIMEOUT};

/// A snapshot held in memory; `fail_after` makes one file's reader fail after N bytes,
/// `truncate` makes one file end early (at a line boundary) without an error.
#[derive(Default)]
struct MemorySnapshot {
    files: BTreeMap<String, Vec<u8>>,
    fail_after: Option<(String, usize)>,
    truncate: Option<String>,
}

struct FailingReader {
    data: io::Cursor<Vec<u8>>,
    left: usize,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other("connection to the repository reset"));
        }
        let n = buf.len().min(self.left);
        let n = self.data.read(&mut buf[..n])?;
        self.left -= n;
        Ok(n)
    }
}

impl SnapshotSource for MemorySnapshot {
    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send>> {
        let data = self.files.get(path).cloned().ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, format!("{path}: no such file"))
        })?;
        if let Some((p, n)) = &self.fail_after {
            if p == path {
                return Ok(Box::new(FailingReader {
                    data: io::Cursor::new(data),
                    left: *n,
                }));
            }
        }
        if self.truncate.as_deref() == Some(path) {
            let cut = data[..data.len() - 1]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            return Ok(Box::new(io::Cursor::new(data[..cut].to_vec())));
        }
        Ok(Box::new(io::Cursor::new(data)))
    }

    fn exists(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    fn describe(&self) -> String {
        "snapshot mem0001".into()
    }
}

async fn read_all(entries: Vec<DumpEntry>) -> BTreeMap<String, Vec<u8>> {
    let tasks: Vec<_> = entries
        .into_iter()
        .map(|e| {
            tokio::task::spawn_blocking(move || {
                let mut v = Vec::new();
                (e.open)()
                    .and_then(|mut r| r.read_to_end(&mut v))
                    .unwrap_or_else(|err| panic!("reading {}: {err}", e.path));
                (e.path, v)
            })
        })
        .collect();
    let mut out = BTreeMap::new();
    for t in tasks {
        let (p, v) = t.await.unwrap();
        out.insert(p, v);
    }
    out
}

async fn dump_db(target: &DbTarget, db: &str) -> MemorySnapshot {
    let opts = DumpOptions {
        databases: Some(vec![db.to_string()]),
        parallel: 2,
        chunk_rows: 300,
        ..DumpOptions::default()
    };
    let dump = prepare_dump(target, &opts).await.expect("prepare_dump");
    let files = read_all(dump.entries()).await;
    dump.finish().await.expect("dump finish");
    MemorySnapshot {
        files,
        ..Default::default()
    }
}

const TABLES: [&str; 5] = ["parent", "child", "kinds", "big", "empty"];

fn setup(db: &MariaDb) {
    let all_bytes: String = (0..=255u8).map(|b| format!("{b:02X}")).collect();
    db.sql(&format!(
        "SET sql_mode = '';
         CREATE DATABASE src CHARACTER SET utf8mb4;
         USE src;
         CREATE TABLE parent (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) UNIQUE) ENGINE=InnoDB;
         CREATE TABLE child (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT NOT NULL,
           note TEXT, FOREIGN KEY (parent_id) REFERENCES parent(id)) ENGINE=InnoDB;
         CREATE TABLE kinds (id INT PRIMARY KEY, s VARCHAR(100) NULL, b VARBINARY(300) NULL,
           j JSON NULL, d DECIMAL(30,10) NULL, dt DATETIME(6) NULL, ts TIMESTAMP NULL DEFAULT NULL,
           bt BIT(10) NULL, e ENUM('a','b c') NULL, zd DATE NULL, g INT AS (id * 2) VIRTUAL,
           dbl DOUBLE NULL, pt POINT NULL, lat CHAR(4) CHARACTER SET latin1 NULL);
         CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(40));
         CREATE TABLE empty (id INT PRIMARY KEY);
         INSERT INTO parent (name) VALUES ('a'), ('b'), ('c');
         INSERT INTO child (parent_id, note) VALUES (1, 'x'), (3, NULL), (3, 'tab\\tnl\\n');
         INSERT INTO kinds (id) VALUES (1);
         INSERT INTO kinds VALUES (2, CONCAT('q''\"\\\\N', CHAR(0), ' 😀'), X'{all_bytes}', '{{\"k\": [1, \"é\"]}}',
           '-12345678901234567890.0123456789', '2024-02-29 23:59:59.999999', '2024-01-01 12:00:00',
           b'1010101010', 'b c', '0000-00-00', DEFAULT, 0.1 + 0.2, POINT(1.5, -2), 'café');
         INSERT INTO big SELECT seq, CONCAT('row ', seq) FROM seq_1_to_1000;
         CREATE VIEW v_children AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;
         CREATE VIEW v_names AS SELECT name FROM v_children;
         CREATE TRIGGER trg BEFORE INSERT ON empty FOR EACH ROW SET NEW.id = NEW.id + 0;
         DELIMITER //
         CREATE PROCEDURE p(IN x INT) BEGIN SELECT x; SELECT x + 1; END//
         CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC RETURN x * 2//
         DELIMITER ;
         "
    ))
    .expect("create the dataset");
}

/// Compares every table's CHECKSUM TABLE and the whole mariadb-dump text of two databases.
fn assert_same_database(db: &MariaDb, a: &str, b: &str) {
    for t in TABLES {
        assert_eq!(
            db.checksum_table(a, t).unwrap(),
            db.checksum_table(b, t).unwrap(),
            "CHECKSUM TABLE {t}"
        );
    }
    let (ta, tb) = (dump_text(db, a), dump_text(db, b));
    for (i, (la, lb)) in ta.lines().zip(tb.lines()).enumerate() {
        assert_eq!(
            la,
            lb,
            "mariadb-dump of `{a}` and `{b}` differ at line {}",
            i + 1
        );
    }
    assert_eq!(
        ta.lines().count(),
        tb.lines().count(),
        "mariadb-dump line counts"
    );
}

/// `mariadb-dump` of one database without dates, comments or its name, binary data as hex.
fn dump_text(db: &MariaDb, name: &str) -> String {
    let out = std::process::Command::new("mariadb-dump")
        .arg("--no-defaults")
        .arg(format!("--socket={}", db.socket().display()))
        .args([
            "-uroot",
            "--skip-dump-date",
            "--skip-comments",
            "--hex-blob",
            "--order-by-primary",
            "--skip-extended-insert",
            "--routines",
            "--triggers",
            "--events",
            name,
        ])
        .env("MYSQL_PWD", db.password())
        .output()
        .expect("run mariadb-dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("hex-blob dump is UTF-8")
}

#[test]
fn native_restore_round_trips_renamed_with_objects_and_verifies() {
    let rt = runtime();
    let db = start_server().expect("start MariaDB");
    setup(&db);
    let target = target(&db);
    rt.block_on(async {
        tokio::time::timeout(TEST_TIMEOUT, async {
            let snap: Arc<dyn SnapshotSource> = Arc::new(dump_db(&target, "src").await);
            let opts = RestoreOptions {
                rename: vec![("src".into(), "dst".into())],
                parallel: 3,
                verify: true,
                ..Default::default()
            };
            let report = restore_native(&target, snap.clone(), &opts, RestoreProgress::shared())
                .await
                .expect("restore");
            assert_eq!(report.databases, 1);
            assert_eq!(report.tables, TABLES.len());
            assert_eq!(report.rows, 3 + 3 + 2 + 1000);
            assert_eq!(report.objects, 5);
            assert_eq!(report.verified, Some(true), "{:?}", report.mismatches);
            assert!(report.bytes > 0);
            assert_same_database(&db, "src", "dst");
            // AUTO_INCREMENT continues after the restored ids.
            db.sql("INSERT INTO dst.parent (name) VALUES ('d')")
                .unwrap();
            assert_eq!(db.sql("SELECT MAX(id) FROM dst.parent").unwrap(), "4");

            // Existing tables are refused, and replaced with --drop-existing.
            let err = restore_native(&target, snap.clone(), &opts, RestoreProgress::shared())
                .await
                .unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, RestoreError::TablesExist { .. }), "{msg}");
            assert!(
                msg.contains("`dst`.`parent`") && msg.contains("use --drop-existing"),
                "{msg}"
            );
            let again = RestoreOptions {
                drop_existing: true,
                ..opts.clone()
            };
            let report = restore_native(&target, snap, &again, RestoreProgress::shared())
                .await
                .expect("restore with drop");
            assert_eq!(report.verified, Some(true));
            assert_same_database(&db, "src", "dst");
        })
        .await
        .expect("test timed out");
    });
}

#[test]
fn native_restore_filters_tables_and_fails_loudly_on_broken_streams() {
    let rt = runtime();
    let db = start_server().expect("start MariaDB");
    setup(&db);
    let target = target(&db);
    rt.block_on(async {
        tokio::time::timeout(TEST_TIMEOUT, async {
            let snap = dump_db(&target, "src").await;
            let big_chunk = snap
                .files
                .keys()
                .find(|p| p.starts_with("/data/src/big/") && p.ends_with("000002.tsv"))
                .expect("big is chunked")
                .clone();

            // Table filter: only `big`, no objects.
            let files = snap.files.clone();
            let opts = RestoreOptions {
                tables: Some(vec!["src.big".into()]),
                rename: vec![("src".into(), "only_big".into())],
                verify: true,
                ..Default::default()
            };
            let report = restore_native(&target, Arc::new(snap), &opts, RestoreProgress::shared()).await.expect("filtered restore");
            assert_eq!((report.tables, report.rows, report.objects), (1, 1000, 0));
            assert_eq!(db.tables("only_big").unwrap(), ["big"]);

            // A stream failing mid-chunk fails the restore naming the table and the file.
            let failing = MemorySnapshot {
                files: files.clone(),
                fail_after: Some((big_chunk.clone(), 100)),
                ..Default::default()
            };
            let opts = RestoreOptions {
                rename: vec![("src".into(), "broken".into())],
                ..Default::default()
            };
            let err = restore_native(&target, Arc::new(failing), &opts, RestoreProgress::shared()).await.unwrap_err();
            let msg = err.to_string();
            let RestoreError::Incomplete { source, dropped } = &err else {
                panic!("expected an incomplete restore: {msg}")
            };
            assert!(matches!(**source, RestoreError::ChunkLoad { .. }), "{msg}");
            assert!(msg.contains("`broken`.`big`") && msg.contains(&big_chunk), "{msg}");
            assert!(msg.contains("connection to the repository reset"), "{msg}");
            // Tables not completely loaded were dropped, so no part of a table stays behind.
            assert!(dropped.contains("`broken`.`big`"), "{msg}");
            let left = db.tables("broken").unwrap();
            assert!(!left.iter().any(|t| t == "big"), "{left:?}");

            // A chunk that ends early without an error is caught by the row count.
            let short = MemorySnapshot {
                files: files.clone(),
                truncate: Some(big_chunk.clone()),
                ..Default::default()
            };
            let opts = RestoreOptions {
                rename: vec![("src".into(), "short".into())],
                ..Default::default()
            };
            let err = restore_native(&target, Arc::new(short), &opts, RestoreProgress::shared()).await.unwrap_err();
            let RestoreError::Incomplete { source, .. } = &err else {
                panic!("expected an incomplete restore: {err}")
            };
            assert!(matches!(**source, RestoreError::ChunkRows { .. }), "{err}");
            assert!(err.to_string().contains("`short`.`big`"), "{err}");

            // A snapshot without a manifest is not a native snapshot.
            let mut no_manifest = files;
            no_manifest.retain(|p, _| p != "/manifest.json");
            let snap = MemorySnapshot {
                files: no_manifest,
                ..Default::default()
            };
            let err = restore_native(&target, Arc::new(snap), &RestoreOptions::default(), RestoreProgress::shared()).await.unwrap_err();
            assert_eq!(
                err.to_string(),
                "snapshot mem0001 is not a Cairn native snapshot: it has no /manifest.json; if it holds /dumpfile.sql, restore it with the sql format"
            );
        })
        .await
        .expect("test timed out");
    });
}
