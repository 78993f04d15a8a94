//! Dump side against a real private MariaDB: fidelity, chunking, consistency, failures.
//!
//! Each test starts its own server (stopped on drop) and bounds its run time.

use std::collections::BTreeMap;
use std::io::Read;

use cairn_db::checksum::{table_checksum, TableChecksum};
use cairn_db::conn::{DbTarget, Secret};
use cairn_db::consistency::ConsistencyMode;
use cairn_db::dump::{prepare_dump, DumpEntry, DumpOptions, DumpReport};
use cairn_db::manifest::{Consistency, Manifest, TableEntry, MANIFEST_PATH};
use cairn_db::row_format::{load_data_sql, quote_ident};
use cairn_db::schema::parse_objects;
use cairn_testkit::MariaDb;
use mysql_async::prelude::Queryable;

mod support;
use support::{runtime, target, TEST_TIMEOUT};

/// Reference parser for LOAD DATA's default text format (independent of the crate's decoder).
fn parse_tsv(data: &[u8]) -> Vec<Vec<Option<Vec<u8>>>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = Vec::new();
    let mut escaped_n = false;
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\\' => {
                let c = data[i + 1];
                if c == b'N' && field.is_empty() {
                    escaped_n = true;
                } else {
                    field.push(match c {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'0' => 0,
                        other => other,
                    });
                }
                i += 2;
                continue;
            }
            b'\t' | b'\n' => {
                row.push((!escaped_n).then(|| std::mem::take(&mut field)));
                field.clear();
                escaped_n = false;
                if data[i] == b'\n' {
                    rows.push(std::mem::take(&mut row));
                }
            }
            b => field.push(b),
        }
        i += 1;
    }
    assert!(row.is_empty() && field.is_empty(), "data must end with LF");
    rows
}

/// Reads every entry the way rustic does: each on its own blocking thread, to EOF.
async fn read_all(entries: Vec<DumpEntry>) -> BTreeMap<String, std::io::Result<Vec<u8>>> {
    let tasks: Vec<_> = entries
        .into_iter()
        .map(|e| {
            tokio::task::spawn_blocking(move || {
                let read = (e.open)().and_then(|mut r| {
                    let mut v = Vec::new();
                    r.read_to_end(&mut v).map(|_| v)
                });
                (e.path, read)
            })
        })
        .collect();
    let mut out = BTreeMap::new();
    for t in tasks {
        let (path, read) = t.await.unwrap();
        out.insert(path, read);
    }
    out
}

async fn dump_and_read(
    target: &DbTarget,
    opts: &DumpOptions,
) -> (BTreeMap<String, Vec<u8>>, Manifest, DumpReport) {
    let dump = prepare_dump(target, opts).await.expect("prepare_dump");
    let files = read_all(dump.entries()).await;
    let report = dump.finish().await.expect("finish");
    let files: BTreeMap<_, _> = files
        .into_iter()
        .map(|(p, r)| {
            let bytes = r.unwrap_or_else(|e| panic!("reading {p}: {e}"));
            (p, bytes)
        })
        .collect();
    let manifest = Manifest::from_json(&files[MANIFEST_PATH]).expect("manifest");
    (files, manifest, report)
}

fn table<'a>(m: &'a Manifest, db: &str, t: &str) -> &'a TableEntry {
    m.databases
        .iter()
        .find(|d| d.name == db)
        .and_then(|d| d.tables.iter().find(|x| x.name == t))
        .unwrap_or_else(|| panic!("{db}.{t} missing from manifest"))
}

fn table_rows(files: &BTreeMap<String, Vec<u8>>, t: &TableEntry) -> Vec<Vec<Option<Vec<u8>>>> {
    t.chunks
        .iter()
        .flat_map(|c| parse_tsv(&files[&c.path]))
        .collect()
}

const WEIRD_DB: &str = "we`ird db";

fn setup_fidelity(db: &MariaDb) {
    let all_bytes: String = (0..=255u8).map(|b| format!("{b:02X}")).collect();
    db.sql(&format!(
        "SET sql_mode = '';
         CREATE DATABASE `we``ird db` CHARACTER SET utf8mb4;
         USE `we``ird db`;
         CREATE TABLE kinds (
           id INT PRIMARY KEY,
           s VARCHAR(100) CHARACTER SET utf8mb4 NULL,
           b VARBINARY(300) NULL,
           blb LONGBLOB NULL,
           j JSON NULL,
           d DECIMAL(65,30) NULL,
           dt DATETIME(6) NULL,
           ts TIMESTAMP(6) NULL DEFAULT NULL,
           bt BIT(10) NULL,
           e ENUM('a','b c','') NULL,
           st SET('x','y','z') NULL,
           zd DATE NULL,
           zdt DATETIME NULL,
           g INT AS (id * 2) VIRTUAL,
           gs VARCHAR(10) AS (CONCAT('g', id)) STORED,
           dbl DOUBLE NULL,
           f FLOAT NULL,
           lat CHAR(4) CHARACTER SET latin1 NULL
         ) ENGINE=InnoDB;
         INSERT INTO kinds (id) VALUES (1);
         INSERT INTO kinds (id, s, b, blb, j, e, st) VALUES (2, '', '', '', '{{}}', '', '');
         SET time_zone = '+02:00';
         INSERT INTO kinds (id, s, b, j, d, dt, ts, bt, e, st, zd, zdt, dbl, f, lat) VALUES
           (3, CONCAT('tab\\there\\nnl\\\\bs\\rcr', CHAR(0), 'nul \\\\N 😀 ünï'), X'{all_bytes}',
            '{{\"k\": [1, 2.5, \"é\"]}}', '12345678901234567890123456789012345.123456789012345678901234567890',
            '2024-02-29 23:59:59.999999', '2024-01-01 12:00:00.5', b'1010101010', 'b c', 'x,z',
            '0000-00-00', '0000-00-00 00:00:00', 0.1 + 0.2, 1.1, 'café');
         INSERT INTO kinds (id, blb) VALUES (4, REPEAT('large row ', 600000));
         CREATE TABLE `select` (`from` INT, `a b` TEXT, `x``y` INT) ENGINE=InnoDB;
         INSERT INTO `select` VALUES (1, 'one', 1), (1, 'one', 1), (NULL, NULL, NULL);
         CREATE TABLE `ünïcödé tåble` (id BIGINT UNSIGNED PRIMARY KEY, v TEXT);
         INSERT INTO `ünïcödé tåble` VALUES (18446744073709551615, 'max');
         CREATE TABLE empty (id INT PRIMARY KEY) ENGINE=InnoDB;
         CREATE TABLE aria_t (id INT PRIMARY KEY) ENGINE=Aria;
         INSERT INTO aria_t VALUES (7);
         "
    ))
    .expect("create fidelity tables");
}

#[test]
fn dump_preserves_every_value_and_loads_back() {
    let rt = runtime();
    let db = MariaDb::start().expect("start MariaDB");
    setup_fidelity_tables(&db);
    let target = target(&db);
    rt.block_on(async {
        tokio::time::timeout(TEST_TIMEOUT, async {
            let opts = DumpOptions {
                databases: Some(vec![WEIRD_DB.to_string()]),
                parallel: 3,
                ..DumpOptions::default()
            };
            let (files, manifest, report) = dump_and_read(&target, &opts).await;
            // Aria tables are outside the snapshot transaction: the manifest says so.
            assert_eq!(manifest.consistency, Consistency::PerTable);
            assert_eq!(report.tables, 5);
            check_values(&files, &manifest);
            check_objects(&files, &manifest);
            check_checksums(&target, &files, &manifest).await;
            load_back_and_compare(&db, &target, &files, &manifest).await;
        })
        .await
        .expect("test timed out");
    });
}

fn setup_fidelity_tables(db: &MariaDb) {
    setup_fidelity(db);
    db.sql_in(
        WEIRD_DB,
        "CREATE VIEW z_base AS SELECT id, s FROM kinds;
         CREATE VIEW a_top AS SELECT id FROM z_base;
         CREATE TRIGGER trg BEFORE INSERT ON empty FOR EACH ROW SET NEW.id = NEW.id + 0;
         DELIMITER //
         CREATE PROCEDURE p(IN x INT) BEGIN SELECT x; SELECT x + 1; END//
         DELIMITER ;
         CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
         CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DO DELETE FROM empty WHERE id < 0;",
    )
    .expect("create objects");
}

fn check_values(files: &BTreeMap<String, Vec<u8>>, m: &Manifest) {
    let kinds = table(m, WEIRD_DB, "kinds");
    let dumped: Vec<&str> = kinds.dumped_columns().map(|c| c.name.as_str()).collect();
    assert!(
        !dumped.contains(&"g") && !dumped.contains(&"gs"),
        "generated columns are not dumped"
    );
    let col = |name: &str| dumped.iter().position(|c| *c == name).unwrap();
    let mut rows = table_rows(files, kinds);
    rows.sort_by_key(|r| String::from_utf8(r[0].clone().unwrap()).unwrap());
    assert_eq!(rows.len(), 4);
    assert_eq!(kinds.rows, 4);
    // Row 1: all NULL; row 2: empty strings are not NULL.
    assert!(rows[0][1..].iter().all(Option::is_none));
    assert_eq!(rows[1][col("s")], Some(vec![]));
    assert_eq!(rows[1][col("b")], Some(vec![]));
    assert_eq!(rows[1][col("e")], Some(vec![]));
    let r = &rows[2];
    let text = |c: &str| String::from_utf8(r[col(c)].clone().unwrap()).unwrap();
    assert_eq!(
        r[col("s")].clone().unwrap(),
        "tab\there\nnl\\bs\rcr\0nul \\N 😀 ünï".as_bytes()
    );
    assert_eq!(
        r[col("b")].clone().unwrap(),
        (0..=255u8).collect::<Vec<_>>()
    );
    assert_eq!(
        text("d"),
        "12345678901234567890123456789012345.123456789012345678901234567890"
    );
    assert_eq!(text("dt"), "2024-02-29 23:59:59.999999");
    assert_eq!(
        text("ts"),
        "2024-01-01 10:00:00.500000",
        "TIMESTAMP is dumped in UTC"
    );
    assert_eq!(text("bt"), "682");
    assert_eq!(text("e"), "b c");
    assert_eq!(text("st"), "x,z");
    assert_eq!(text("zd"), "0000-00-00");
    assert_eq!(text("zdt"), "0000-00-00 00:00:00");
    assert!(text("j").contains("\"é\""));
    assert_eq!(
        r[col("lat")].clone().unwrap(),
        b"caf\xe9",
        "latin1 bytes unconverted"
    );
    assert_eq!(rows[3][col("blb")].as_ref().unwrap().len(), 6_000_000);

    let sel = table(m, WEIRD_DB, "select");
    let rows = table_rows(files, sel);
    assert_eq!(rows.len(), 3, "duplicate rows of a keyless table are kept");
    assert!(rows.contains(&vec![None, None, None]));
    let uni = table(m, WEIRD_DB, "ünïcödé tåble");
    assert_eq!(
        table_rows(files, uni)[0][0],
        Some(b"18446744073709551615".to_vec())
    );
    let empty = table(m, WEIRD_DB, "empty");
    assert_eq!(empty.rows, 0);
    assert_eq!(files[&empty.chunks[0].path], b"");
    assert!(files
        .keys()
        .any(|p| p.starts_with("/data/we%60ird%20db/%C3%BCn")));
}

fn check_objects(files: &BTreeMap<String, Vec<u8>>, m: &Manifest) {
    let d = m.databases.iter().find(|d| d.name == WEIRD_DB).unwrap();
    let names: Vec<_> = d.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["p", "f", "z_base", "a_top", "trg", "ev"]);
    let views = std::str::from_utf8(&files["/schema/we%60ird%20db/views.sql"]).unwrap();
    let parsed = parse_objects(views).unwrap();
    assert_eq!(parsed[0].name, "z_base", "views are ordered by dependency");
    let routines = std::str::from_utf8(&files["/schema/we%60ird%20db/routines.sql"]).unwrap();
    let parsed = parse_objects(routines).unwrap();
    assert!(parsed
        .iter()
        .any(|o| o.sql.contains("SELECT x; SELECT x + 1;")));
    let create = std::str::from_utf8(&files[&table(m, WEIRD_DB, "kinds").schema_path]).unwrap();
    assert!(
        create.starts_with("CREATE TABLE `kinds`") && create.ends_with("utf8mb4_general_ci;\n"),
        "{create}"
    );
}

async fn check_checksums(target: &DbTarget, files: &BTreeMap<String, Vec<u8>>, m: &Manifest) {
    let mut conn = target.connect().await.unwrap();
    for d in &m.databases {
        for t in &d.tables {
            let mut from_files = TableChecksum::default();
            for c in &t.chunks {
                for line in files[&c.path].split_inclusive(|&b| b == b'\n') {
                    from_files.add_line(m.row_digest, &line[..line.len() - 1]);
                }
            }
            assert_eq!(from_files.to_string(), t.checksum, "{}", t.name);
            assert_eq!(from_files.rows, t.rows, "{}", t.name);
            let live = table_checksum(&mut conn, &d.name, t, m.row_digest)
                .await
                .unwrap();
            assert_eq!(live, from_files, "{}", t.name);
        }
    }
    conn.disconnect().await.unwrap();
}

/// Creates a copy database from the schema files, LOADs every data file, compares CHECKSUM TABLE.
async fn load_back_and_compare(
    db: &MariaDb,
    target: &DbTarget,
    files: &BTreeMap<String, Vec<u8>>,
    m: &Manifest,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, (path, bytes)) in files.iter().enumerate() {
        if path.starts_with("/data/") {
            let p = dir.path().join(format!("{i}.tsv"));
            std::fs::write(&p, bytes).unwrap();
            paths.push((path.clone(), p));
        }
    }
    let opts = target
        .opts()
        .local_infile_handler(Some(mysql_async::WhiteListFsHandler::new(
            paths.iter().map(|(_, p)| p.clone()),
        )));
    let mut conn = mysql_async::Conn::new(opts).await.unwrap();
    let copy = "copy db";
    conn.query_drop(format!("CREATE DATABASE {}", quote_ident(copy)))
        .await
        .unwrap();
    conn.query_drop(format!("USE {}", quote_ident(copy)))
        .await
        .unwrap();
    let d = m.databases.iter().find(|d| d.name == WEIRD_DB).unwrap();
    for t in &d.tables {
        let ddl = std::str::from_utf8(&files[&t.schema_path]).unwrap();
        conn.query_drop(ddl.trim_end_matches(";\n")).await.unwrap();
        for c in &t.chunks {
            let local = &paths.iter().find(|(p, _)| p == &c.path).unwrap().1;
            let sql = load_data_sql(copy, t, local.to_str().unwrap());
            conn.query_drop(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        assert_eq!(
            db.checksum_table(copy, &t.name).unwrap(),
            db.checksum_table(WEIRD_DB, &t.name).unwrap(),
            "CHECKSUM TABLE differs for {}",
            t.name
        );
    }
    conn.disconnect().await.unwrap();
}

#[test]
fn dump_chunks_big_tables_and_reads_one_point_in_time() {
    let rt = runtime();
    let db = MariaDb::start().expect("start MariaDB");
    db.sql(
        "CREATE DATABASE shop;
         USE shop;
         CREATE TABLE shop.orders (id INT PRIMARY KEY, note VARCHAR(20)) ENGINE=InnoDB;
         INSERT INTO shop.orders SELECT seq, CONCAT('n', seq) FROM seq_1_to_20000;
         CREATE TABLE shop.events (id INT, v INT) ENGINE=InnoDB;
         INSERT INTO shop.events SELECT seq, seq FROM seq_1_to_3000;
         ANALYZE TABLE shop.orders;",
    )
    .unwrap();
    let target = target(&db);
    rt.block_on(async {
        tokio::time::timeout(TEST_TIMEOUT, async {
            let opts = DumpOptions {
                parallel: 2,
                chunk_rows: 3000,
                ..DumpOptions::default()
            };
            let dump = prepare_dump(&target, &opts).await.unwrap();
            assert_eq!(dump.consistency(), Consistency::ConsistentSnapshot);
            // Writes after the consistent point must not appear in the dump.
            db.sql("INSERT INTO shop.orders VALUES (30000, 'late'); DELETE FROM shop.events WHERE id <= 10;")
                .unwrap();
            let progress = dump.progress();
            let files = read_all(dump.entries()).await;
            let report = dump.finish().await.unwrap();
            assert_eq!(report.rows, 23_000);
            assert_eq!(progress.rows.load(std::sync::atomic::Ordering::Relaxed), 23_000);
            let files: BTreeMap<_, _> = files.into_iter().map(|(p, r)| (p, r.unwrap())).collect();
            let m = Manifest::from_json(&files[MANIFEST_PATH]).unwrap();
            let orders = table(&m, "shop", "orders");
            assert!(orders.chunks.len() >= 4, "{:?}", orders.chunks);
            let mut ids: Vec<u64> = table_rows(&files, orders)
                .iter()
                .map(|r| std::str::from_utf8(r[0].as_ref().unwrap()).unwrap().parse().unwrap())
                .collect();
            ids.sort_unstable();
            assert_eq!(ids, (1..=20_000).collect::<Vec<_>>());
            assert_eq!(orders.chunks.iter().map(|c| c.rows).sum::<u64>(), 20_000);
            assert_eq!(table(&m, "shop", "events").chunks.len(), 1, "no key: one chunk");
            assert_eq!(table(&m, "shop", "events").rows, 3000);

            // Without the lock, parallel workers promise nothing across tables.
            let no_lock = DumpOptions {
                consistency: ConsistencyMode::NoLock,
                ..opts
            };
            let (_, m, report) = dump_and_read(&target, &no_lock).await;
            assert_eq!(m.consistency, Consistency::PerTable);
            assert_eq!(report.rows, 20_000 + 1 + 2990);
        })
        .await
        .expect("test timed out");
    });
}

#[test]
fn dump_fails_when_a_connection_drops_or_an_entry_is_never_read() {
    let rt = runtime();
    let db = MariaDb::start().expect("start MariaDB");
    db.sql(
        "CREATE DATABASE big;
         USE big;
         CREATE TABLE big.t (id INT PRIMARY KEY, pad CHAR(200)) ENGINE=InnoDB;
         INSERT INTO big.t SELECT seq, REPEAT('p', 200) FROM seq_1_to_100000;
         CREATE TABLE big.small (id INT PRIMARY KEY);",
    )
    .unwrap();
    let target = target(&db);
    rt.block_on(async {
        tokio::time::timeout(TEST_TIMEOUT, async {
            let opts = DumpOptions {
                parallel: 2,
                ..DumpOptions::default()
            };
            // 1. A worker connection killed mid-table.
            let dump = prepare_dump(&target, &opts).await.unwrap();
            let mut entries = dump.entries();
            let big = entries.remove(entries.iter().position(|e| e.path == "/data/big/t/000001.tsv").unwrap());
            let mut reader = tokio::task::spawn_blocking(move || {
                let mut r = (big.open)().unwrap();
                let mut first = [0u8; 1024];
                r.read_exact(&mut first).unwrap();
                r
            })
            .await
            .unwrap();
            let mut admin = target.connect().await.unwrap();
            let id: u64 = loop {
                let id: Option<u64> = admin
                    .query_first("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT `id`, `pad` FROM `big`.`t`%'")
                    .await
                    .unwrap();
                if let Some(id) = id {
                    break id;
                }
                tokio::task::yield_now().await;
            };
            admin.query_drop(format!("KILL CONNECTION {id}")).await.unwrap();
            let err = tokio::task::spawn_blocking(move || {
                let mut sink = Vec::new();
                reader.read_to_end(&mut sink).unwrap_err()
            })
            .await
            .unwrap();
            assert!(err.to_string().contains("`big`.`t`"), "{err}");
            let rest = read_all(entries).await;
            let manifest_err = rest[MANIFEST_PATH].as_ref().unwrap_err().to_string();
            assert!(manifest_err.contains("`big`.`t`"), "{manifest_err}");
            let err = dump.finish().await.unwrap_err().to_string();
            assert!(err.contains("`big`.`t`") && err.contains("discarded"), "{err}");

            // 2. An entry nobody reads.
            let dump = prepare_dump(&target, &opts).await.unwrap();
            let entries: Vec<_> = dump
                .entries()
                .into_iter()
                .filter(|e| e.path != "/data/big/small/000001.tsv" && e.path != MANIFEST_PATH)
                .collect();
            let read = read_all(entries).await;
            assert!(read.values().all(Result::is_ok));
            let err = dump.finish().await.unwrap_err().to_string();
            assert!(err.contains("`big`.`small`") && err.contains("never read"), "{err}");
            admin.disconnect().await.unwrap();
        })
        .await
        .expect("test timed out");
    });
}

#[test]
fn sessions_are_pinned_and_connect_errors_say_what_to_do() {
    let rt = runtime();
    let db = MariaDb::start().expect("start MariaDB");
    rt.block_on(async {
        let mut conn = target(&db).connect().await.unwrap();
        let pinned: Option<(String, String, String, String)> = conn
            .query_first(
                "SELECT @@time_zone, @@character_set_results, @@character_set_client, @@sql_mode",
            )
            .await
            .unwrap();
        let (tz, results, client, mode) = pinned.unwrap();
        assert_eq!(
            (tz.as_str(), results.as_str(), client.as_str()),
            ("+00:00", "binary", "utf8mb4")
        );
        assert!(
            !mode.contains("NO_ZERO_DATE") && mode.contains("NO_AUTO_VALUE_ON_ZERO"),
            "{mode}"
        );
        conn.disconnect().await.unwrap();
        let wrong = target(&db).with_password(Some(Secret::new("wrong")));
        let err = wrong.connect().await.unwrap_err().to_string();
        assert!(err.contains("MYSQL_PWD") && !err.contains("wrong"), "{err}");
        let port = cairn_testkit::free_port().unwrap();
        let err = DbTarget::new("127.0.0.1", port, "root")
            .connect()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("is the server running"), "{err}");
    });
}

proptest::proptest! {
    /// The crate's encoder against the independent reference parser above.
    #[test]
    fn encoded_rows_parse_back_with_the_reference_parser(
        rows in proptest::collection::vec(
            proptest::collection::vec(proptest::option::of(proptest::collection::vec(proptest::num::u8::ANY, 0..24)), 1..6),
            0..8,
        )
    ) {
        let mut file = Vec::new();
        for row in &rows {
            let values: Vec<mysql_async::Value> = row
                .iter()
                .map(|v| v.clone().map_or(mysql_async::Value::NULL, mysql_async::Value::Bytes))
                .collect();
            cairn_db::row_format::encode_row(&values, &mut file);
            file.push(b'\n');
        }
        proptest::prop_assert_eq!(parse_tsv(&file), rows);
    }
}
