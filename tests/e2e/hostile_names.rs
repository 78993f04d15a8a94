//! Names an attacker controls never become SQL: a database, tables, columns, a view and a
//! trigger named with backticks, quotes, semicolons, `--`, `/*`, backslashes, unicode and
//! 64 characters are backed up and restored (native under a new, equally hostile name, and
//! the SQL format in place) by the `cairn` binary, the data matches, and the sentinel
//! database `victim` that every name tries to drop is still there.

use crate::cli::Cairn;
use anyhow::Result;
use cairn_testkit::MariaDb;

/// The database under attack-shaped names.
const HOSTILE_DB: &str = "x`; DROP DATABASE victim; --";
/// The name a native restore gives it.
const RESTORED_DB: &str = "y'); DROP DATABASE victim; /*";

/// Base tables (the last is 64 characters, MariaDB's limit).
fn tables() -> Vec<String> {
    vec![
        "t`; DROP DATABASE victim; --".to_owned(),
        "q'uote\"dq".to_owned(),
        "semi;colon -- dash /* c */".to_owned(),
        "ünïcødé ñame".to_owned(),
        // MariaDB refuses line breaks in table names ("Incorrect table name"); a backslash
        // and a comment terminator are the nearest it accepts.
        "back\\slash */ DROP DATABASE victim; /*".to_owned(),
        "L".repeat(64),
    ]
}

const VIEW: &str = "v`; DROP DATABASE victim; --";
const TRIGGER: &str = "tr`'; DROP DATABASE victim; --";

fn q(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn lit(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

fn create_hostile(db: &MariaDb) -> Result<()> {
    db.sql(
        "CREATE DATABASE victim; CREATE TABLE victim.keep (id INT PRIMARY KEY); \
         INSERT INTO victim.keep VALUES (42);",
    )?;
    let mut sql = format!("CREATE DATABASE {0}; USE {0};\n", q(HOSTILE_DB));
    for (i, t) in tables().iter().enumerate() {
        sql.push_str(&format!(
            "CREATE TABLE {} (id INT PRIMARY KEY, {} VARCHAR(100), {} VARCHAR(100), {} INT);\n",
            q(t),
            q("c`1"),
            q("c'2;--"),
            q("c/*3*/")
        ));
        sql.push_str(&format!(
            "INSERT INTO {} VALUES (1, {}, {}, {i}), (2, {}, NULL, NULL);\n",
            q(t),
            lit("'); DROP DATABASE victim; --"),
            lit("`x`\n\\N\t*/"),
            lit("ünï 🦀"),
        ));
    }
    let first = q(&tables()[0]);
    sql.push_str(&format!(
        "CREATE VIEW {} AS SELECT id, {} FROM {first};\n",
        q(VIEW),
        q("c`1")
    ));
    sql.push_str(&format!(
        "CREATE TRIGGER {} BEFORE INSERT ON {first} FOR EACH ROW SET NEW.{c} = NEW.{c};\n",
        q(TRIGGER),
        c = q("c/*3*/")
    ));
    db.sql(&sql)?;
    Ok(())
}

fn checksums(db: &MariaDb, database: &str) -> Result<Vec<String>> {
    tables()
        .iter()
        .map(|t| db.checksum_table(database, t))
        .collect()
}

fn assert_victim_alive(db: &MariaDb) -> Result<()> {
    assert_eq!(
        db.sql("SELECT id FROM victim.keep")?,
        "42",
        "victim survived"
    );
    Ok(())
}

fn count_objects(db: &MariaDb, database: &str) -> Result<String> {
    db.sql(&format!(
        "SELECT (SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = {0}), \
         (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = {0}), \
         (SELECT COUNT(*) FROM {1}.{2})",
        lit(database),
        q(database),
        q(VIEW)
    ))
}

#[test]
fn hostile_identifiers_round_trip_and_the_victim_survives() -> Result<()> {
    let db = MariaDb::start()?;
    create_hostile(&db)?;
    let source = checksums(&db, HOSTILE_DB)?;
    let dir = tempfile::tempdir()?;
    let cairn = Cairn::new(dir.path(), "pw", db.password())?;
    let repo = dir.path().join("repo");
    let repo = repo.to_str().unwrap();
    cairn.run(&["init", "--repo", repo])?.expect_ok("init");

    // Native: back up the hostile database, restore it under another hostile name.
    let databases = format!("{HOSTILE_DB},victim");
    cairn
        .run(&[
            "backup",
            "--db",
            &db.url(),
            "--repo",
            repo,
            "--databases",
            &databases,
        ])?
        .expect_ok("native backup");
    let rename = format!("{HOSTILE_DB}:{RESTORED_DB}");
    let restore = cairn
        .run(&[
            "restore",
            "--db",
            &db.url(),
            "--repo",
            repo,
            "--databases",
            HOSTILE_DB,
            "--rename-database",
            &rename,
            "--json",
        ])?
        .expect_ok("native restore")
        .json();
    assert_eq!(restore["verified"], true, "{restore}");
    assert_victim_alive(&db)?;
    assert_eq!(checksums(&db, RESTORED_DB)?, source);
    assert_eq!(count_objects(&db, RESTORED_DB)?, "1\t1\t2");

    // SQL format: dump, drop the database, replay the dump in place.
    cairn
        .run(&[
            "backup",
            "--db",
            &db.url(),
            "--repo",
            repo,
            "--databases",
            HOSTILE_DB,
            "--format",
            "sql",
        ])?
        .expect_ok("sql backup");
    db.sql(&format!("DROP DATABASE {}", q(HOSTILE_DB)))?;
    cairn
        .run(&["restore", "--db", &db.url(), "--repo", repo])?
        .expect_ok("sql restore");
    assert_victim_alive(&db)?;
    assert_eq!(checksums(&db, HOSTILE_DB)?, source);
    assert_eq!(count_objects(&db, HOSTILE_DB)?, "1\t1\t2");

    // A snapshot holding a system database is never restored into it.
    cairn
        .run(&[
            "backup",
            "--db",
            &db.url(),
            "--repo",
            repo,
            "--databases",
            "mysql",
        ])?
        .expect_ok("backup of mysql");
    let refused = cairn.run(&["restore", "--db", &db.url(), "--repo", repo])?;
    assert!(!refused.ok, "a restore into `mysql` was not refused");
    let line = refused.error_line();
    assert!(
        line.contains("a system database of MariaDB")
            && line.contains("--rename-database mysql:NEW"),
        "{line}"
    );
    assert_victim_alive(&db)
}
