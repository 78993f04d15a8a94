//! The `sql` format: ONE snapshot entry `/dumpfile.sql` streaming mysqldump-syntax SQL, as
//! KubeStash's SingleStore addon writes it (`restic dump latest /dumpfile.sql | mysql`).
//!
//! Layout: header `SET`s; per database `CREATE DATABASE IF NOT EXISTS` + `USE`, then per
//! table `DROP TABLE IF EXISTS` + `SHOW CREATE TABLE` + `INSERT INTO t VALUES (...),\n(...);`
//! (at most [`MAX_INSERT_BYTES`] per statement); after all tables of all databases, per
//! database: views (dependency order), triggers, routines and events, each dropped first and
//! wrapped in `DELIMITER` with its creation-time `sql_mode`; footer restoring the session.
//!
//! One connection reads everything sequentially: on MySQL/MariaDB inside one
//! `START TRANSACTION WITH CONSISTENT SNAPSHOT` (like `mysqldump --single-transaction`); on
//! SingleStore table by table (its isolation is READ COMMITTED).
//!
//! Call protocol (as `dump.rs`): [`prepare_sql_dump`] (async) connects and validates;
//! [`SqlDump::entry`] gives the lazy entry, opened from any non-async thread; the entry's
//! producer runs on the runtime and feeds a bounded channel; [`SqlDump::finish`] fails unless
//! the producer succeeded and the reader reached end of file (rustic skips failed files).

use std::fmt::Write as _;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use mysql_async::prelude::Queryable;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::conn::{exec_drop, Conn, DbTarget, Error, Result};
use crate::consistency::{self, ConsistencyPlan};
use crate::db_rename::create_database_if_not_exists;
use crate::discover::{self, DatabaseInfo, TableInfo};
use crate::dump::{DumpEntry, DumpOptions, DumpProgress, DumpReport};
use crate::flavor::{self, ServerInfo};
use crate::manifest::{Consistency, ObjectKind};
use crate::row_format::{qualified, quote_ident, quote_string};
use crate::schema::{order_views, show_create, DdlKind, ObjectStatement};
use crate::sql_value::{render_value, value_kind, ValueKind};

/// Path of the single file of a `sql` snapshot (KubeStash's `--stdin-filename`).
pub const SQL_DUMP_PATH: &str = "/dumpfile.sql";

/// Largest INSERT statement written (well under any server's `max_allowed_packet`).
pub const MAX_INSERT_BYTES: usize = 1 << 20;

/// Bytes gathered before handing a block to the reader.
const BLOCK_BYTES: usize = 256 * 1024;

/// Blocks buffered between the producer and the reader.
const QUEUE_BLOCKS: usize = 8;

/// Shared between the entry's reader, its producer and [`SqlDump::finish`].
struct EntryState {
    conn: Mutex<Option<Conn>>,
    producer: Mutex<Option<tokio::task::JoinHandle<Result<DumpReport>>>>,
    reader_eof: AtomicBool,
    progress: Arc<DumpProgress>,
}

/// A prepared SQL dump (see the module docs for the call protocol).
pub struct SqlDump {
    handle: Handle,
    state: Arc<EntryState>,
    job: Arc<DumpJob>,
}

/// What the producer dumps.
struct DumpJob {
    server: ServerInfo,
    databases: Vec<String>,
    opts: DumpOptions,
    plan: ConsistencyPlan,
}

impl std::fmt::Debug for SqlDump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlDump")
            .field("databases", &self.job.databases)
            .finish()
    }
}

/// Connects, detects the server and checks the database filter; nothing is read yet.
pub async fn prepare_sql_dump(target: &DbTarget, opts: &DumpOptions) -> Result<SqlDump> {
    let mut conn = target.connect().await?;
    // Text must arrive as utf8mb4 to match the header's SET NAMES (binary columns are unaffected).
    exec_drop(&mut conn, "SET character_set_results = utf8mb4").await?;
    let server = flavor::detect(&mut conn).await?;
    let databases =
        discover::list_databases(&mut conn, server.flavor, opts.databases.as_deref()).await?;
    let plan = consistency::plan(server.flavor, opts.consistency);
    Ok(SqlDump {
        handle: Handle::current(),
        state: Arc::new(EntryState {
            conn: Mutex::new(Some(conn)),
            producer: Mutex::new(None),
            reader_eof: AtomicBool::new(false),
            progress: Arc::new(DumpProgress {
                entries_total: 1,
                ..DumpProgress::default()
            }),
        }),
        job: Arc::new(DumpJob {
            server,
            databases,
            opts: opts.clone(),
            plan,
        }),
    })
}

impl SqlDump {
    /// The single entry `/dumpfile.sql`; its opener may be called once, from a non-async thread.
    pub fn entry(&self) -> DumpEntry {
        let state = self.state.clone();
        let job = self.job.clone();
        let handle = self.handle.clone();
        DumpEntry {
            path: SQL_DUMP_PATH.to_string(),
            open: Box::new(move || open_entry(state, job, handle)),
        }
    }

    /// All entries of the snapshot: just [`SqlDump::entry`] (same shape as `Dump::entries`).
    pub fn entries(&self) -> Vec<DumpEntry> {
        vec![self.entry()]
    }

    /// The consistency the dump aims for (the lock may still be refused: see the report).
    pub fn consistency(&self) -> Consistency {
        self.job.plan.achieved
    }

    /// Live counters: rows, SQL bytes, and the one entry's completion.
    pub fn progress(&self) -> Arc<DumpProgress> {
        self.state.progress.clone()
    }

    /// Waits for the producer; fails if it failed or the entry was not read to the end.
    pub async fn finish(self) -> Result<DumpReport> {
        let producer = self
            .state
            .producer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let incomplete = |detail: String| Error::DumpIncomplete { detail };
        let Some(producer) = producer else {
            return Err(incomplete(format!("{SQL_DUMP_PATH} was never read")));
        };
        let report = producer
            .await
            .map_err(|e| incomplete(format!("the SQL producer task failed: {e}")))??;
        if !self.state.reader_eof.load(Ordering::SeqCst) {
            return Err(incomplete(format!(
                "{SQL_DUMP_PATH} was not read to the end"
            )));
        }
        Ok(report)
    }
}

fn open_entry(
    state: Arc<EntryState>,
    job: Arc<DumpJob>,
    handle: Handle,
) -> io::Result<Box<dyn Read + Send>> {
    let conn = state
        .conn
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .ok_or_else(|| io::Error::other(format!("{SQL_DUMP_PATH} can be opened only once")))?;
    let (tx, rx) = mpsc::channel(QUEUE_BLOCKS);
    let producer_state = state.clone();
    let task = handle.spawn(async move {
        let mut out = SqlOut {
            tx,
            buf: Vec::with_capacity(BLOCK_BYTES * 2),
            state: producer_state,
        };
        let res = produce(conn, &job, &mut out).await;
        match &res {
            Ok(_) => out.flush().await?,
            Err(e) => {
                tracing::error!(error = %e, "SQL dump failed");
                let _ = out.tx.send(Err(io::Error::other(e.to_string()))).await;
            }
        }
        res
    });
    *state.producer.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
    Ok(Box::new(ChannelReader {
        rx,
        current: Bytes::new(),
        state,
    }))
}

/// The reader half: blocks on the channel (never call from async code).
struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
    state: Arc<EntryState>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(e),
                None => {
                    if !self.state.reader_eof.swap(true, Ordering::SeqCst) {
                        self.state
                            .progress
                            .entries_done
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// The producer's output buffer.
struct SqlOut {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
    state: Arc<EntryState>,
}

impl SqlOut {
    async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= BLOCK_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let block = Bytes::from(std::mem::take(&mut self.buf));
        self.state
            .progress
            .bytes
            .fetch_add(block.len() as u64, Ordering::Relaxed);
        self.tx
            .send(Ok(block))
            .await
            .map_err(|_| Error::DumpIncomplete {
                detail: format!("the reader of {SQL_DUMP_PATH} went away before the end"),
            })
    }
}

/// Writes the whole dump.
async fn produce(mut conn: Conn, job: &DumpJob, out: &mut SqlOut) -> Result<DumpReport> {
    let consistency = begin_consistent_read(&mut conn, &job.plan).await?;
    out.write(header(&job.server, &format!("{consistency:?}")).as_bytes())
        .await?;
    let mut report = DumpReport {
        databases: 0,
        tables: 0,
        rows: 0,
        bytes: 0,
        consistency,
    };
    let mut infos = Vec::with_capacity(job.databases.len());
    for db in &job.databases {
        let mut info = discover::discover_database(&mut conn, job.server.flavor, db).await?;
        info.tables.retain(|t| job.opts.selects_table(db, &t.name));
        write_database(&mut conn, &info, out, &mut report).await?;
        infos.push(info);
    }
    if job.opts.objects {
        for info in &infos {
            write_objects(&mut conn, info, out).await?;
        }
    }
    out.write(FOOTER.as_bytes()).await?;
    if job
        .plan
        .worker_begin_sql
        .iter()
        .any(|s| s.starts_with("START"))
    {
        exec_drop(&mut conn, "COMMIT").await?;
    }
    let _ = conn.disconnect().await;
    report.databases = infos.len();
    report.bytes = out.state.progress.bytes.load(Ordering::Relaxed) + out.buf.len() as u64;
    Ok(report)
}

/// Takes the plan's consistent point on the one connection; returns what was achieved.
async fn begin_consistent_read(conn: &mut Conn, plan: &ConsistencyPlan) -> Result<Consistency> {
    let mut achieved = plan.achieved;
    let mut locked = false;
    if let Some(lock) = plan.lock_sql {
        match exec_drop(conn, lock).await {
            Ok(()) => locked = true,
            Err(e) => match plan.fallback {
                Some(fallback) => {
                    tracing::warn!(error = %e, "global read lock refused; dumping table by table");
                    achieved = fallback;
                }
                None => return Err(e),
            },
        }
    }
    for sql in &plan.worker_begin_sql {
        exec_drop(conn, sql).await?;
    }
    if locked && !plan.hold_lock {
        // The snapshot transaction now holds the point in time; writers may resume.
        exec_drop(conn, plan.unlock_sql).await?;
    }
    Ok(achieved)
}

/// Header: session settings saved and pinned like mysqldump's.
pub fn header(server: &ServerInfo, consistency: &str) -> String {
    format!(
        "-- Cairn SQL dump {}\n-- Source: {:?} {}; consistency: {}\n\n\
         /*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n\
         /*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;\n\
         /*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;\n\
         /*!40101 SET NAMES utf8mb4 */;\n\
         /*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;\n\
         /*!40103 SET TIME_ZONE='+00:00' */;\n\
         /*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n\
         /*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n\
         /*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n\
         /*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;\n\n",
        env!("CARGO_PKG_VERSION"),
        server.flavor,
        comment_text(&server.version),
        comment_text(consistency),
    )
}

/// Text for a `-- ` comment line: a line break inside a name (legal in a quoted MySQL
/// identifier) would end the comment and turn the rest of the name into a statement
/// when the dump is replayed, so CR and LF are written as `\r` and `\n`.
pub fn comment_text(text: &str) -> String {
    text.replace('\r', "\\r").replace('\n', "\\n")
}

/// Footer: restores the session settings saved by [`header`].
pub const FOOTER: &str = "\n/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n\
/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n\
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n\
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;\n\
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n\
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;\n\
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;\n\
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;\n\n-- Dump completed\n";

async fn write_database(
    conn: &mut Conn,
    info: &DatabaseInfo,
    out: &mut SqlOut,
    report: &mut DumpReport,
) -> Result<()> {
    let db = &info.name;
    let ddl = show_create(conn, DdlKind::Database, db, db).await?;
    let create = create_database_if_not_exists(ddl.sql.as_bytes(), db).unwrap_or_else(|| {
        format!("CREATE DATABASE IF NOT EXISTS {}", quote_ident(db)).into_bytes()
    });
    let mut text = format!(
        "--\n-- Current Database: {}\n--\n\n",
        comment_text(&quote_ident(db))
    )
    .into_bytes();
    text.extend_from_slice(&create);
    text.extend_from_slice(format!(";\n\nUSE {};\n\n", quote_ident(db)).as_bytes());
    out.write(&text).await?;
    for table in &info.tables {
        let ddl = show_create(conn, DdlKind::Table, db, &table.name).await?;
        let text = format!(
            "--\n-- Table structure for table {}\n--\n\nDROP TABLE IF EXISTS {t};\n{};\n\n",
            comment_text(&quote_ident(&table.name)),
            ddl.sql,
            t = quote_ident(&table.name)
        );
        out.write(text.as_bytes()).await?;
        report.rows += write_rows(conn, db, table, out).await?;
        report.tables += 1;
    }
    Ok(())
}

/// `INSERT INTO `t` [(cols)] VALUES ` for a table; the column list only when some are generated.
pub fn insert_prefix(table: &TableInfo) -> String {
    let mut s = format!("INSERT INTO {} ", quote_ident(&table.name));
    if table.columns.iter().any(|c| !c.dumped) {
        let cols: Vec<String> = table
            .columns
            .iter()
            .filter(|c| c.dumped)
            .map(|c| quote_ident(&c.name))
            .collect();
        let _ = write!(s, "({}) ", cols.join(","));
    }
    s.push_str("VALUES ");
    s
}

/// Streams a table's rows as multi-row INSERTs; returns the row count.
async fn write_rows(conn: &mut Conn, db: &str, table: &TableInfo, out: &mut SqlOut) -> Result<u64> {
    let kinds: Vec<ValueKind> = table
        .columns
        .iter()
        .filter(|c| c.dumped)
        .map(|c| value_kind(&c.data_type))
        .collect();
    let cols: Vec<String> = table
        .columns
        .iter()
        .filter(|c| c.dumped)
        .map(|c| quote_ident(&c.name))
        .collect();
    let list = if cols.is_empty() {
        "1".to_string()
    } else {
        cols.join(", ")
    };
    let sql = format!("SELECT {list} FROM {}", qualified(db, &table.name));
    let what = || format!("reading rows of {}", qualified(db, &table.name));
    let prefix = insert_prefix(table);
    let mut result = conn
        .query_iter(sql)
        .await
        .map_err(|e| Error::query(what(), e))?;
    let mut rows = 0u64;
    let mut stmt: Vec<u8> = Vec::new();
    let mut row_text = Vec::with_capacity(256);
    while let Some(row) = result.next().await.map_err(|e| Error::query(what(), e))? {
        row_text.clear();
        row_text.push(b'(');
        if !kinds.is_empty() {
            for (i, v) in row.unwrap().iter().enumerate() {
                if i > 0 {
                    row_text.push(b',');
                }
                render_value(
                    kinds.get(i).copied().unwrap_or(ValueKind::Text),
                    v,
                    &mut row_text,
                );
            }
        }
        row_text.push(b')');
        if stmt.is_empty() {
            stmt.extend_from_slice(prefix.as_bytes());
        } else {
            stmt.extend_from_slice(b",\n");
        }
        stmt.extend_from_slice(&row_text);
        rows += 1;
        if stmt.len() >= MAX_INSERT_BYTES {
            stmt.extend_from_slice(b";\n");
            out.write(&stmt).await?;
            stmt.clear();
        }
        out.state.progress.rows.fetch_add(1, Ordering::Relaxed);
    }
    if !stmt.is_empty() {
        stmt.extend_from_slice(b";\n");
        out.write(&stmt).await?;
    }
    out.write(b"\n").await?;
    Ok(rows)
}

/// Views (dependency order), triggers, routines and events of one database.
async fn write_objects(conn: &mut Conn, info: &DatabaseInfo, out: &mut SqlOut) -> Result<()> {
    if info.objects.is_empty() {
        return Ok(());
    }
    let mut views = Vec::new();
    let mut others = Vec::new();
    for o in &info.objects {
        let ddl = show_create(conn, DdlKind::Object(o.kind), &info.name, &o.name).await?;
        let st = ObjectStatement {
            kind: o.kind,
            name: o.name.clone(),
            sql_mode: ddl.sql_mode,
            sql: ddl.sql,
        };
        if o.kind == ObjectKind::View {
            views.push(st);
        } else {
            others.push(st);
        }
    }
    let mut text = format!("USE {};\n\n", quote_ident(&info.name));
    for st in order_views(views).iter().chain(&others) {
        text.push_str(&object_block(st));
    }
    out.write(text.as_bytes()).await
}

/// One object: dropped if it exists, then created under its `sql_mode` inside `DELIMITER`.
pub fn object_block(st: &ObjectStatement) -> String {
    let keyword = match st.kind {
        ObjectKind::View => "VIEW",
        ObjectKind::Trigger => "TRIGGER",
        ObjectKind::Procedure => "PROCEDURE",
        ObjectKind::Function => "FUNCTION",
        ObjectKind::Event => "EVENT",
    };
    let delimiter = [";;", "//", "$$", ";;;;", "$$$$"]
        .into_iter()
        .find(|d| !st.sql.contains(d))
        .unwrap_or(";;");
    let mut s = format!("DROP {keyword} IF EXISTS {};\n", quote_ident(&st.name));
    if let Some(mode) = &st.sql_mode {
        let _ = write!(
            s,
            "/*!50003 SET @saved_sql_mode = @@sql_mode */;\n/*!50003 SET sql_mode = {} */;\n",
            quote_string(mode)
        );
    }
    let _ = write!(
        s,
        "DELIMITER {delimiter}\n{}{delimiter}\nDELIMITER ;\n",
        st.sql
    );
    if st.sql_mode.is_some() {
        s.push_str("/*!50003 SET sql_mode = @saved_sql_mode */;\n");
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flavor::Flavor;
    use crate::manifest::{ColumnEncoding, ColumnEntry};
    use crate::sql_split::StatementSplitter;

    fn column(name: &str, data_type: &str, dumped: bool) -> ColumnEntry {
        ColumnEntry {
            name: name.into(),
            data_type: data_type.into(),
            dumped,
            encoding: ColumnEncoding::Text,
        }
    }

    #[test]
    fn generated_text_is_stable() {
        let server = ServerInfo {
            flavor: Flavor::SingleStore,
            version: "8.5.7".into(),
        };
        let table = TableInfo {
            name: "t`1".into(),
            engine: String::new(),
            rows_estimate: 0,
            bytes_estimate: 0,
            columns: vec![column("id", "int(11)", true), column("g", "int(11)", false)],
            primary_key: vec!["id".into()],
        };
        let trigger = ObjectStatement {
            kind: ObjectKind::Procedure,
            name: "p".into(),
            sql_mode: Some("STRICT_ALL_TABLES".into()),
            sql: "CREATE PROCEDURE `p`() AS BEGIN SELECT 1; SELECT ';;'; END".into(),
        };
        let text = format!(
            "{}{}\n{}{}",
            header(&server, "PerTable").replace(env!("CARGO_PKG_VERSION"), "X"),
            insert_prefix(&table),
            object_block(&trigger),
            FOOTER
        );
        insta::assert_snapshot!("sql_dump_text", text);
    }

    #[test]
    fn object_blocks_split_back_into_their_statements() {
        let st = ObjectStatement {
            kind: ObjectKind::Trigger,
            name: "trg".into(),
            sql_mode: None,
            sql: "CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = ';;'; SET NEW.b = 1; END".into(),
        };
        let text = object_block(&st);
        let got: Vec<String> = StatementSplitter::new(text.as_bytes())
            .map(|s| s.unwrap().text_lossy().into_owned())
            .collect();
        assert_eq!(got, ["DROP TRIGGER IF EXISTS `trg`".to_string(), st.sql]);
    }
}
