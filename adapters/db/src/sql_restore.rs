//! Restore of a mysqldump-format SQL stream (KubeStash's `/dumpfile.sql`), like `mysql < dump`.
//!
//! Statements run in order on one connection (mysqldump output is sequential). The text is
//! split on a blocking thread ([`StatementSplitter`]) and handed over a bounded channel, so
//! memory holds a few statements whatever the dump size.
//!
//! Filtering and renaming follow the dump's own `CREATE DATABASE` / `USE` statements
//! (`--databases`/`--all-databases` dumps):
//! - `databases`: statements between `USE db` and the next `USE` run only when `db` is
//!   selected, as `mysql --one-database` does; session `SET` statements always run. A dump
//!   without `USE` (mysqldump of one database without `--databases`) is restored into the
//!   single database named by `databases`, which must exist.
//! - `rename`: `USE`, `CREATE DATABASE` and `DROP DATABASE` names are rewritten, and so are
//!   database qualifiers (`` `old`.`t` ``) elsewhere (see `db_rename` for the limits).
//! - `tables` is refused (use a native snapshot for table-level restores); `drop_existing`
//!   is not needed: mysqldump writes `DROP TABLE IF EXISTS` before each table.
//! - `verify` has nothing to compare against in a SQL dump and is reported as not verified.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};
use std::sync::Arc;

use mysql_async::prelude::Queryable;

use crate::conn::DbTarget;
use crate::db_rename::{
    database_statement, rename_qualifiers, replace_name, starts_with_keyword, DbStatementKind,
};
use crate::restore::{RestoreError, RestoreReport, Result};
use crate::restore_plan::RestoreOptions;
use crate::restore_progress::RestoreProgress;
use crate::row_format::quote_ident;
use crate::sql_split::{SplitError, Statement, StatementSplitter};

/// Statements buffered between the splitting thread and the connection.
const STATEMENT_QUEUE: usize = 4;

/// Longest statement excerpt quoted in an error.
const EXCERPT_CHARS: usize = 120;

/// What to do with one statement of the dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// Run this text (possibly rewritten).
    Run(Cow<'a, [u8]>),
    /// Leave it out (another database's statement).
    Skip,
}

/// Per-statement database filter and rename, driven by the dump's `USE` statements.
#[derive(Debug, Clone, Default)]
pub struct SqlRouter {
    databases: Option<BTreeSet<String>>,
    renames: BTreeMap<String, String>,
    skipping: bool,
}

impl SqlRouter {
    /// A router for `databases` (source names; `None` = all) and `renames` (source → target).
    pub fn new(databases: Option<BTreeSet<String>>, renames: BTreeMap<String, String>) -> Self {
        SqlRouter {
            databases,
            renames,
            skipping: false,
        }
    }

    fn selected(&self, db: &str) -> bool {
        self.databases.as_ref().is_none_or(|d| d.contains(db))
    }

    fn target<'n>(&'n self, db: &'n str) -> &'n str {
        self.renames.get(db).map_or(db, String::as_str)
    }

    /// Decides what to run for one statement, updating the current database.
    pub fn route<'a>(&mut self, sql: &'a [u8]) -> Route<'a> {
        if let Some(st) = database_statement(sql) {
            let selected = self.selected(&st.name);
            if st.kind == DbStatementKind::Use {
                self.skipping = !selected;
            }
            if !selected {
                return Route::Skip;
            }
            let target = self.target(&st.name);
            return if target == st.name {
                Route::Run(Cow::Borrowed(sql))
            } else {
                Route::Run(Cow::Owned(replace_name(sql, st.span, target)))
            };
        }
        if self.skipping && !starts_with_keyword(sql, "set") {
            return Route::Skip;
        }
        if self.renames.is_empty() {
            Route::Run(Cow::Borrowed(sql))
        } else {
            Route::Run(Cow::Owned(rename_qualifiers(sql, &self.renames)))
        }
    }

    /// The database to select before the first statement: the only selected one, renamed.
    pub fn initial_database(&self) -> Option<String> {
        let dbs = self.databases.as_ref()?;
        (dbs.len() == 1).then(|| {
            let db = dbs.iter().next().map(String::as_str).unwrap_or_default();
            self.target(db).to_string()
        })
    }
}

/// Counts bytes read into the progress counters.
struct CountingReader {
    inner: Box<dyn Read + Send>,
    progress: Arc<RestoreProgress>,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.add_bytes(n as u64);
        Ok(n)
    }
}

/// Restores a SQL dump read from `reader` into `target` (see the module docs), updating
/// `progress` (bytes read, rows inserted) as it goes.
pub async fn restore_sql(
    target: &DbTarget,
    reader: Box<dyn Read + Send>,
    opts: &RestoreOptions,
    progress: Arc<RestoreProgress>,
) -> Result<RestoreReport> {
    if opts.tables.is_some() {
        return Err(RestoreError::Unsupported(
            "--tables is not supported for sql-format snapshots (mysqldump output); restore whole databases with --databases, or use a native snapshot".into(),
        ));
    }
    let mut router = SqlRouter::new(
        opts.databases.as_ref().map(|d| d.iter().cloned().collect()),
        opts.rename_map(),
    );
    let mut conn = target.connect().await?;
    if let Some(db) = router.initial_database() {
        // For dumps without USE (one database dumped without --databases); harmless otherwise.
        if let Err(e) = conn.query_drop(format!("USE {}", quote_ident(&db))).await {
            tracing::debug!(database = %db, error = %e, "initial USE failed; relying on the dump's own USE");
        }
    }
    let (tx, mut rx) =
        tokio::sync::mpsc::channel::<std::result::Result<Statement, SplitError>>(STATEMENT_QUEUE);
    let counting = CountingReader {
        inner: reader,
        progress: progress.clone(),
    };
    let splitter = tokio::task::spawn_blocking(move || {
        for item in StatementSplitter::new(counting) {
            if tx.blocking_send(item).is_err() {
                return; // the restore stopped on an error
            }
        }
    });
    let mut report = RestoreReport::default();
    let mut databases = BTreeSet::new();
    let mut number = 0u64;
    while let Some(item) = rx.recv().await {
        let stmt = item.map_err(|source| RestoreError::Split {
            path: "the SQL dump".into(),
            source,
        })?;
        number += 1;
        let sql = match router.route(&stmt.sql) {
            Route::Skip => continue,
            Route::Run(sql) => sql,
        };
        conn.query_drop(sql.as_ref())
            .await
            .map_err(|source| RestoreError::Statement {
                number,
                line: stmt.line,
                excerpt: excerpt(&sql),
                source: Box::new(source),
            })?;
        report.statements += 1;
        report.warnings += u64::from(conn.get_warnings());
        if starts_with_keyword(&sql, "insert") || starts_with_keyword(&sql, "replace") {
            let rows = conn.affected_rows();
            report.rows += rows;
            progress.add_rows(rows);
        } else if let Some(st) = database_statement(&sql) {
            if st.kind != DbStatementKind::Drop {
                databases.insert(st.name);
            }
        } else if starts_with_keyword(&sql, "create") && is_create_table(&sql) {
            report.tables += 1;
        }
    }
    splitter
        .await
        .map_err(|e| RestoreError::Internal(format!("SQL splitter thread: {e}")))?;
    let _ = conn.disconnect().await;
    report.databases = databases.len();
    report.bytes = progress.snapshot().bytes;
    if opts.verify {
        tracing::info!("a SQL dump carries no checksums: the restore is not verified");
    }
    tracing::info!(
        statements = report.statements,
        rows = report.rows,
        bytes = report.bytes,
        "sql restore finished"
    );
    Ok(report)
}

/// `CREATE [TEMPORARY] TABLE` (also `CREATE ROWSTORE/REFERENCE TABLE` on SingleStore).
fn is_create_table(sql: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&sql[..sql.len().min(64)]).to_ascii_uppercase();
    let words: Vec<&str> = head.split_whitespace().take(4).collect();
    words.first() == Some(&"CREATE") && words.iter().skip(1).any(|w| *w == "TABLE")
}

/// The start of a statement for an error message, withheld when it may hold a password.
fn excerpt(sql: &[u8]) -> String {
    let text = String::from_utf8_lossy(sql);
    let upper = text.to_ascii_uppercase();
    if upper.contains("IDENTIFIED") || upper.contains("PASSWORD") {
        return " (statement text withheld: it may contain a password)".to_string();
    }
    let short: String = text.chars().take(EXCERPT_CHARS).collect();
    let more = if text.chars().count() > EXCERPT_CHARS {
        " ..."
    } else {
        ""
    };
    format!(" in `{}{more}`", short.replace('\n', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(router: &mut SqlRouter, sql: &str) -> Option<String> {
        match router.route(sql.as_bytes()) {
            Route::Run(s) => Some(String::from_utf8(s.into_owned()).unwrap()),
            Route::Skip => None,
        }
    }

    fn set(names: &[&str]) -> Option<BTreeSet<String>> {
        Some(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn filters_by_use_and_keeps_session_sets() {
        let mut r = SqlRouter::new(set(&["b"]), BTreeMap::new());
        assert!(run(&mut r, "/*!40101 SET NAMES utf8mb4 */").is_some());
        assert_eq!(
            run(&mut r, "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `a`"),
            None
        );
        assert_eq!(run(&mut r, "USE `a`"), None);
        assert_eq!(run(&mut r, "CREATE TABLE t (x int)"), None);
        assert!(run(&mut r, "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */").is_some());
        assert!(run(&mut r, "CREATE DATABASE `b`").is_some());
        assert!(run(&mut r, "USE `b`").is_some());
        assert!(run(&mut r, "INSERT INTO t VALUES (1)").is_some());
        assert_eq!(r.initial_database().as_deref(), Some("b"));
    }

    #[test]
    fn renames_database_statements_and_qualifiers() {
        let renames = BTreeMap::from([("a".to_string(), "a2".to_string())]);
        let mut r = SqlRouter::new(None, renames);
        assert_eq!(
            run(&mut r, "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `a` /*!40100 DEFAULT CHARACTER SET utf8mb4 */").unwrap(),
            "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `a2` /*!40100 DEFAULT CHARACTER SET utf8mb4 */"
        );
        assert_eq!(run(&mut r, "USE `a`").unwrap(), "USE `a2`");
        assert_eq!(
            run(
                &mut r,
                "/*!50001 VIEW `v` AS select `a`.`t`.`x` AS `x` from `a`.`t` */"
            )
            .unwrap(),
            "/*!50001 VIEW `v` AS select `a2`.`t`.`x` AS `x` from `a2`.`t` */"
        );
        assert_eq!(
            run(&mut r, "INSERT INTO t VALUES ('a.b')").unwrap(),
            "INSERT INTO t VALUES ('a.b')"
        );
    }

    #[test]
    fn excerpts_hide_passwords() {
        assert!(excerpt(b"CREATE USER x IDENTIFIED BY 'hunter2'").contains("withheld"));
        assert_eq!(excerpt(b"SELECT\n1"), " in `SELECT 1`");
        assert!(excerpt("x".repeat(500).as_bytes()).ends_with(" ...`"));
    }

    #[test]
    fn recognises_create_table_forms() {
        assert!(is_create_table(b"CREATE TABLE `t` (a int)"));
        assert!(is_create_table(
            b"CREATE ROWSTORE REFERENCE TABLE `t` (a int)"
        ));
        assert!(!is_create_table(b"CREATE VIEW v AS SELECT 1"));
    }
}
