//! SQL-format restore against a real private MariaDB: `mariadb-dump` output of a tricky
//! dataset restored through `restore_sql` gives equal `CHECKSUM TABLE` and equal dump text.
//!
//! Each test starts its own server (stopped on drop) and bounds its run time.

use std::process::Command;

use cairn_db::restore::{RestoreError, RestoreOptions, RestoreProgress};
use cairn_db::sql_restore::restore_sql;
use cairn_testkit::MariaDb;

mod support;
use support::{runtime, start_server, target, TEST_TIMEOUT};

/// Runs `mariadb-dump` with `args` over the server's socket and returns its raw output.
fn mariadb_dump(db: &MariaDb, args: &[&str]) -> Vec<u8> {
    let out = Command::new("mariadb-dump")
        .arg("--no-defaults")
        .arg(format!("--socket={}", db.socket().display()))
        .arg("-uroot")
        .args(args)
        .env("MYSQL_PWD", db.password())
        .output()
        .expect("run mariadb-dump");
    assert!(
        out.status.success(),
        "mariadb-dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Comparable text of one database: no dates, comments or its name; binary as hex.
fn dump_text(db: &MariaDb, name: &str) -> String {
    let out = mariadb_dump(
        db,
        &[
            "--skip-dump-date",
            "--skip-comments",
            "--hex-blob",
            "--order-by-primary",
            "--skip-extended-insert",
            "--routines",
            "--triggers",
            "--events",
            name,
        ],
    );
    String::from_utf8(out).expect("hex-blob dump is UTF-8")
}

fn assert_same_database(db: &MariaDb, a: &str, b: &str, tables: &[&str]) {
    for t in tables {
        assert_eq!(
            db.checksum_table(a, t).unwrap(),
            db.checksum_table(b, t).unwrap(),
            "CHECKSUM TABLE {t}"
        );
    }
    let (ta, tb) = (dump_text(db, a), dump_text(db, b));
    for (i, (la, lb)) in ta.lines().zip(tb.lines()).enumerate() {
        assert_eq!(la, lb, "dumps of `{a}` and `{b}` differ at line {}", i + 1);
    }
    assert_eq!(ta.lines().count(), tb.lines().count());
}

const TABLES: [&str; 4] = ["parent", "child", "kinds", "big"];

fn setup(db: &MariaDb) {
    let all_bytes: String = (0..=255u8).map(|b| format!("{b:02X}")).collect();
    db.sql(&format!(
        "SET sql_mode = 'NO_ENGINE_SUBSTITUTION';
         CREATE DATABASE s1 CHARACTER SET utf8mb4;
         CREATE DATABASE s2;
         CREATE TABLE s2.other (id INT PRIMARY KEY);
         INSERT INTO s2.other VALUES (1);
         USE s1;
         CREATE TABLE parent (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) UNIQUE);
         CREATE TABLE child (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT NOT NULL,
           note TEXT, FOREIGN KEY (parent_id) REFERENCES parent(id));
         CREATE TABLE kinds (id INT PRIMARY KEY, s TEXT NULL, b BLOB NULL, j JSON NULL,
           d DECIMAL(30,10) NULL, dt DATETIME(6) NULL, bt BIT(10) NULL, zd DATE NULL,
           g INT AS (id * 2) VIRTUAL, dbl DOUBLE NULL, pt POINT NULL, lat CHAR(4) CHARACTER SET latin1 NULL);
         CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(200));
         INSERT INTO parent (name) VALUES ('a'), ('b;c'), ('d''e');
         INSERT INTO child (parent_id, note) VALUES (1, 'x;y'), (3, NULL),
           (3, 'tab\\tnl\\nDELIMITER ;;\\n-- not a comment\\n/* nor this */ # nor this');
         INSERT INTO kinds (id) VALUES (1);
         INSERT INTO kinds VALUES (2, CONCAT('q''\"`\\\\N', CHAR(0), CHAR(26), ' 😀 ;'), X'{all_bytes}',
           '{{\"k\": [1, \"é;\"]}}', '-12345678901234567890.0123456789', '2024-02-29 23:59:59.999999',
           b'1010101010', '0000-00-00', DEFAULT, 0.1 + 0.2, POINT(1.5, -2), 'café');
         INSERT INTO big SELECT seq, REPEAT(CONCAT('v', seq, ';'), 20) FROM seq_1_to_20000;
         CREATE VIEW v_children AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;
         DELIMITER //
         CREATE TRIGGER trg BEFORE INSERT ON child FOR EACH ROW BEGIN
           IF NEW.note = ';' THEN SET NEW.note = 'semicolon'; END IF;
         END//
         CREATE PROCEDURE p(IN x INT) BEGIN SELECT x; SELECT 'a;b'; END//
         DELIMITER ;
         "
    ))
    .expect("create the dataset");
}

#[test]
fn mariadb_dump_output_restores_filtered_and_renamed() {
    let rt = runtime();
    let db = start_server().expect("start MariaDB");
    setup(&db);
    let target = target(&db);
    // Default options: extended inserts, raw binary strings (no --hex-blob), all objects.
    let dump = mariadb_dump(
        &db,
        &[
            "--skip-dump-date",
            "--routines",
            "--triggers",
            "--events",
            "--single-transaction",
            "--max-allowed-packet=64K",
            "--net-buffer-length=16K",
            "--databases",
            "s1",
            "s2",
        ],
    );
    rt.block_on(async {
        tokio::time::timeout(TEST_TIMEOUT, async {
            let opts = RestoreOptions {
                databases: Some(vec!["s1".into()]),
                rename: vec![("s1".into(), "r1".into()), ("s2".into(), "r2".into())],
                ..Default::default()
            };
            let report = restore_sql(
                &target,
                Box::new(std::io::Cursor::new(dump.clone())),
                &opts,
                RestoreProgress::shared(),
            )
            .await
            .expect("restore_sql");
            assert_eq!(report.rows, 3 + 3 + 2 + 20_000);
            assert_eq!(report.tables, 4);
            assert_eq!(report.databases, 1);
            assert_eq!(report.bytes, dump.len() as u64);
            assert_same_database(&db, "s1", "r1", &TABLES);
            let r2 = db
                .sql("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'r2'")
                .unwrap();
            assert_eq!(r2, "0", "the filtered-out database was restored");

            // Without filters the dump replaces the source databases in place.
            let report = restore_sql(
                &target,
                Box::new(std::io::Cursor::new(dump)),
                &RestoreOptions::default(),
                RestoreProgress::shared(),
            )
            .await
            .expect("restore_sql in place");
            assert_eq!(report.databases, 2);
            assert_same_database(&db, "s1", "r1", &TABLES);
        })
        .await
        .expect("test timed out");
    });
}

#[test]
fn failing_statement_is_named_by_number_and_line() {
    let rt = runtime();
    let db = start_server().expect("start MariaDB");
    let target = target(&db);
    rt.block_on(async {
        tokio::time::timeout(TEST_TIMEOUT, async {
            let sql = "CREATE DATABASE t1;\nUSE t1;\n-- comment\nCREATE TABLE a (id INT);\nINSERT INTO a VALUES (1),\n(2);\nINSERT INTO missing VALUES (1);\n";
            let err = restore_sql(&target, Box::new(sql.as_bytes()), &RestoreOptions::default(), RestoreProgress::shared())
                .await
                .unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, RestoreError::Statement { number: 5, line: 7, .. }), "{msg}");
            assert!(msg.contains("INSERT INTO missing") && msg.contains("doesn't exist"), "{msg}");

            let opts = RestoreOptions {
                tables: Some(vec!["a".into()]),
                ..Default::default()
            };
            let err = restore_sql(&target, Box::new(&b""[..]), &opts, RestoreProgress::shared()).await.unwrap_err();
            assert!(matches!(err, RestoreError::Unsupported(_)), "{err}");

            let err = restore_sql(&target, Box::new(&b"SELECT 'open"[..]), &RestoreOptions::default(), RestoreProgress::shared())
                .await
                .unwrap_err();
            assert!(err.to_string().contains("ends inside a string"), "{err}");
        })
        .await
        .expect("test timed out");
    });
}
