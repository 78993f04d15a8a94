//! The `sql` format's writer against real MariaDB servers: our `/dumpfile.sql` restored with
//! the `mariadb` CLI on a second server gives equal `CHECKSUM TABLE` and equal dump text,
//! and our own `restore_sql` reads it back too.
//!
//! Each test starts its own servers (stopped on drop) and bounds its run time.

use std::io::Read;
use std::process::Command;

use cairn_db::dump::DumpOptions;
use cairn_db::restore::{RestoreOptions, RestoreProgress};
use cairn_db::sql_dump::{prepare_sql_dump, SQL_DUMP_PATH};
use cairn_db::sql_restore::restore_sql;
use cairn_testkit::MariaDb;

mod support;
use support::{runtime, start_server, target, TEST_TIMEOUT};

/// Comparable text of one database: no dates, comments or its name; binary as hex.
fn dump_text(db: &MariaDb, name: &str) -> String {
    let out = Command::new("mariadb-dump")
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

fn assert_same(a: (&MariaDb, &str), b: (&MariaDb, &str), tables: &[&str]) {
    for t in tables {
        assert_eq!(
            a.0.checksum_table(a.1, t).unwrap(),
            b.0.checksum_table(b.1, t).unwrap(),
            "CHECKSUM TABLE {t}"
        );
    }
    let (ta, tb) = (dump_text(a.0, a.1), dump_text(b.0, b.1));
    for (i, (la, lb)) in ta.lines().zip(tb.lines()).enumerate() {
        assert_eq!(la, lb, "dumps differ at line {}", i + 1);
    }
    assert_eq!(ta.lines().count(), tb.lines().count());
}

const TABLES: [&str; 5] = ["parent", "child", "kinds", "big", "gen"];

fn setup(db: &MariaDb) {
    let all_bytes: String = (0..=255u8).map(|b| format!("{b:02X}")).collect();
    db.sql(&format!(
        "SET sql_mode = 'NO_ENGINE_SUBSTITUTION';
         CREATE DATABASE s1 CHARACTER SET utf8mb4;
         USE s1;
         CREATE TABLE parent (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) UNIQUE);
         CREATE TABLE child (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT NOT NULL,
           note TEXT, FOREIGN KEY (parent_id) REFERENCES parent(id));
         CREATE TABLE kinds (id INT PRIMARY KEY, s TEXT NULL, b BLOB NULL, vb VARBINARY(10) NULL,
           j JSON NULL, d DECIMAL(30,10) NULL, dt DATETIME(6) NULL, ts TIMESTAMP NULL DEFAULT NULL,
           bt BIT(10) NULL, b64 BIT(64) NULL, zd DATE NULL, e ENUM('a','b c') NULL, st SET('x','y') NULL,
           dbl DOUBLE NULL, f FLOAT NULL, pt POINT NULL, lat CHAR(4) CHARACTER SET latin1 NULL,
           u BIGINT UNSIGNED NULL, y YEAR NULL, tm TIME(3) NULL);
         CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(200));
         CREATE TABLE gen (id INT PRIMARY KEY, g INT AS (id * 2) VIRTUAL, s VARCHAR(10) AS (CONCAT('g', id)) STORED);
         INSERT INTO parent (name) VALUES ('a'), ('b;c'), ('d''e');
         INSERT INTO child (parent_id, note) VALUES (1, 'x;y'), (3, NULL),
           (3, 'tab\\tnl\\nDELIMITER ;;\\n-- not a comment\\n/* nor this */ # nor this');
         INSERT INTO kinds (id) VALUES (1);
         INSERT INTO kinds (id, s, b, vb) VALUES (3, '', '', '');
         SET time_zone = '+02:00';
         INSERT INTO kinds VALUES (2, CONCAT('q''\"`\\\\N', CHAR(0), CHAR(26), ' 😀 ;'), X'{all_bytes}', X'00FF27',
           '{{\"k\": [1, \"é;\"]}}', '-12345678901234567890.0123456789', '2024-02-29 23:59:59.999999',
           '2024-01-01 12:00:00', b'1010101010', 18446744073709551615, '0000-00-00', 'b c', 'x,y',
           0.1 + 0.2, 1.1, POINT(1.5, -2), 'café', 18446744073709551615, 2024, '-838:59:59.000');
         INSERT INTO big SELECT seq, REPEAT(CONCAT('v', seq, ';'), 15) FROM seq_1_to_30000;
         INSERT INTO gen (id) VALUES (1), (2);
         CREATE VIEW v_children AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;
         CREATE VIEW v_names AS SELECT name FROM v_children;
         DELIMITER //
         CREATE TRIGGER trg BEFORE INSERT ON child FOR EACH ROW BEGIN
           IF NEW.note = ';' THEN SET NEW.note = 'semicolon'; END IF;
         END//
         CREATE PROCEDURE p(IN x INT) BEGIN SELECT x; SELECT 'a;b'; END//
         CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC RETURN x * 2//
         DELIMITER ;
         "
    ))
    .expect("create the dataset");
}

#[test]
fn sql_dump_restores_with_the_mariadb_client_and_with_restore_sql() {
    let rt = runtime();
    let source = start_server().expect("start source MariaDB");
    let dest = start_server().expect("start target MariaDB");
    setup(&source);
    let (src_target, dst_target) = (target(&source), target(&dest));
    let sql = rt.block_on(async {
        tokio::time::timeout(TEST_TIMEOUT, async {
            let opts = DumpOptions {
                databases: Some(vec!["s1".into()]),
                ..DumpOptions::default()
            };
            let dump = prepare_sql_dump(&src_target, &opts).await.expect("prepare");
            let entry = dump.entry();
            assert_eq!(entry.path, SQL_DUMP_PATH);
            let bytes = tokio::task::spawn_blocking(move || {
                let mut v = Vec::new();
                (entry.open)().unwrap().read_to_end(&mut v).unwrap();
                v
            })
            .await
            .unwrap();
            let report = dump.finish().await.expect("finish");
            assert_eq!(report.tables, TABLES.len());
            assert_eq!(report.rows, 3 + 3 + 3 + 30_000 + 2);
            assert_eq!(report.bytes, bytes.len() as u64);
            bytes
        })
        .await
        .expect("test timed out")
    });
    // Statements stay under the limit: 30 000 rows of ~170 bytes need several INSERTs.
    let inserts = sql
        .windows(17)
        .filter(|w| w == b"INSERT INTO `big`")
        .count();
    assert!(inserts >= 4, "{inserts} INSERT statements for `big`");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dumpfile.sql");
    std::fs::write(&file, &sql).unwrap();
    dest.sql_file(&file)
        .expect("the mariadb client restores our dump");
    assert_same((&source, "s1"), (&dest, "s1"), &TABLES);

    rt.block_on(async {
        tokio::time::timeout(TEST_TIMEOUT, async {
            let opts = RestoreOptions {
                rename: vec![("s1".into(), "copy".into())],
                ..Default::default()
            };
            let report = restore_sql(
                &dst_target,
                Box::new(std::io::Cursor::new(sql)),
                &opts,
                RestoreProgress::shared(),
            )
            .await
            .expect("restore_sql reads our dump");
            assert_eq!(report.rows, 3 + 3 + 3 + 30_000 + 2);
        })
        .await
        .expect("test timed out")
    });
    assert_same((&source, "s1"), (&dest, "copy"), &TABLES);
}

#[test]
fn sql_dump_that_is_never_read_fails() {
    let rt = runtime();
    let source = start_server().expect("start MariaDB");
    source
        .sql("CREATE DATABASE s1; CREATE TABLE s1.t (id INT);")
        .unwrap();
    let target = target(&source);
    rt.block_on(async {
        tokio::time::timeout(TEST_TIMEOUT, async {
            let dump = prepare_sql_dump(&target, &DumpOptions::default())
                .await
                .unwrap();
            let err = dump.finish().await.unwrap_err();
            assert!(err.to_string().contains("was never read"), "{err}");

            let opts = DumpOptions {
                databases: Some(vec!["nope".into()]),
                ..DumpOptions::default()
            };
            let err = prepare_sql_dump(&target, &opts).await.unwrap_err();
            assert!(err.to_string().contains("`nope` does not exist"), "{err}");
        })
        .await
        .expect("test timed out")
    });
}
