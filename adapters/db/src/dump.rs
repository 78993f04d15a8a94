//! The native dump: a consistent, parallel, streaming source of snapshot entries.
//!
//! Call protocol: [`prepare_dump`] (async) connects the workers, takes the consistent
//! point and reads all schema; [`Dump::entries`] hands out lazy openers which may be
//! called from any non-async thread (rustic's archiver threads); each data opener
//! borrows a worker connection, streams its rows through a bounded channel and records
//! completion only when its reader reached EOF. The manifest entry blocks until every
//! data entry settled and fails if any failed. [`Dump::finish`] releases the locks and
//! transactions and fails if any entry failed or was never read to the end: rustic
//! skips failed files silently, so that error is what keeps a partial backup out.

use std::collections::BTreeMap;
use std::io::{self, Cursor, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use bytes::{Buf, Bytes};
use mysql_async::prelude::Queryable;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, Semaphore};

use crate::checksum::{row_values, RowDigest, TableChecksum};
use crate::chunk::read_key_ranges;
use crate::conn::{exec_drop, Conn, DbTarget, Error, Result};
use crate::consistency::{self, ConsistencyMode, UNLOCK_SQL};
use crate::discover::{self, DatabaseInfo, TableInfo};
use crate::flavor::{self, ServerInfo};
use crate::manifest::{
    self, ChunkEntry, Consistency, DatabaseEntry, Manifest, ObjectEntry, ObjectKind, TableEntry,
    MANIFEST_PATH,
};
use crate::row_format::{encode_row, qualified, select_sql};
use crate::schema::{self, DdlKind, ObjectStatement};

/// Default target size of one data file: small enough that a few big tables still spread
/// over every restore connection, large enough that per-file costs stay negligible.
pub const DEFAULT_CHUNK_BYTES: u64 = 32 << 20;
/// Bytes buffered before a block is handed to the reader.
const BLOCK_BYTES: usize = 256 * 1024;
/// Blocks in flight per entry: bounds memory to about `BLOCK_BYTES * CHANNEL_DEPTH` + one row.
const CHANNEL_DEPTH: usize = 8;
/// How often a blocked manifest reader logs what it waits for.
const WAIT_LOG_INTERVAL: Duration = Duration::from_secs(30);

/// Engines whose tables a snapshot transaction does not cover.
const NON_TRANSACTIONAL_ENGINES: &[&str] = &[
    "myisam",
    "aria",
    "memory",
    "csv",
    "archive",
    "mrg_myisam",
    "merge",
];

/// What to dump and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpOptions {
    /// Databases to dump; `None` = every non-system database.
    pub databases: Option<Vec<String>>,
    /// Only these tables (`db.table`, or `table` in any database); `None` = all.
    pub tables: Option<Vec<String>>,
    /// Tables to skip (`db.table`, or `table` in any database).
    pub exclude_tables: Vec<String>,
    /// Worker connections reading in parallel.
    pub parallel: usize,
    /// Consistency wanted.
    pub consistency: ConsistencyMode,
    /// Target rows per data file for tables with an integer primary key.
    pub chunk_rows: u64,
    /// Target size per data file (from the server's size estimate); whichever of
    /// `chunk_rows` and this gives smaller files wins. 0 = rows only.
    pub chunk_bytes: u64,
    /// Dump views, triggers, routines and events.
    pub objects: bool,
    /// Chunk key steps of the previous snapshot by `(database, table)`
    /// ([`crate::manifest::Manifest::key_steps`]): kept while they still fit, so a server
    /// size estimate that moved a few per cent does not re-cut every range.
    pub previous_steps: BTreeMap<(String, String), u64>,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            databases: None,
            tables: None,
            exclude_tables: Vec::new(),
            parallel: std::thread::available_parallelism().map_or(2, |n| n.get()),
            consistency: ConsistencyMode::Auto,
            chunk_rows: 1_000_000,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            objects: true,
            previous_steps: BTreeMap::new(),
        }
    }
}

impl DumpOptions {
    /// Whether a table passes the `tables` / `exclude_tables` filters.
    pub fn selects_table(&self, db: &str, table: &str) -> bool {
        let matches = |pattern: &String| match pattern.split_once('.') {
            Some((d, t)) => (d == db && t == table) || pattern == table,
            None => pattern == table,
        };
        let included = self.tables.as_ref().is_none_or(|ts| ts.iter().any(matches));
        included && !self.exclude_tables.iter().any(matches)
    }
}

/// Live counters for a progress bar.
#[derive(Debug, Default)]
pub struct DumpProgress {
    /// Rows read so far.
    pub rows: AtomicU64,
    /// Data bytes produced so far.
    pub bytes: AtomicU64,
    /// Data entries read to EOF.
    pub entries_done: AtomicUsize,
    /// Data entries that failed.
    pub entries_failed: AtomicUsize,
    /// Data entries in total.
    pub entries_total: usize,
}

/// Opens an entry for reading; called once, from a non-async thread.
pub type Opener = Box<dyn FnOnce() -> io::Result<Box<dyn Read + Send>> + Send>;

/// One file of the snapshot.
pub struct DumpEntry {
    /// Absolute path inside the snapshot.
    pub path: String,
    /// Opens the file's content stream.
    pub open: Opener,
}

impl std::fmt::Debug for DumpEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DumpEntry")
            .field("path", &self.path)
            .finish()
    }
}

/// Outcome of a successful dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpReport {
    /// Databases dumped.
    pub databases: usize,
    /// Tables dumped.
    pub tables: usize,
    /// Rows dumped.
    pub rows: u64,
    /// Data bytes (row lines) produced.
    pub bytes: u64,
    /// Consistency achieved.
    pub consistency: Consistency,
}

/// Result of one data entry, carried to the tracker when its reader hits EOF.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ChunkStats {
    checksum: TableChecksum,
    bytes: u64,
    /// Rows already added to the progress counter.
    rows_reported: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum EntryState {
    Pending,
    Running,
    Complete(ChunkStats),
    Failed(String),
}

/// Completion state of every data entry; the manifest reader waits on it.
struct Tracker {
    states: Mutex<Vec<EntryState>>,
    changed: Condvar,
}

impl Tracker {
    fn lock(&self) -> MutexGuard<'_, Vec<EntryState>> {
        self.states.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, i: usize, f: impl FnOnce(&EntryState) -> Option<EntryState>) {
        let mut states = self.lock();
        if let Some(next) = f(&states[i]) {
            states[i] = next;
            self.changed.notify_all();
        }
    }

    fn start(&self, i: usize) {
        self.set(i, |s| {
            matches!(s, EntryState::Pending).then_some(EntryState::Running)
        });
    }

    fn complete(&self, i: usize, stats: ChunkStats) -> bool {
        let mut done = false;
        self.set(i, |s| {
            done = matches!(s, EntryState::Running);
            done.then_some(EntryState::Complete(stats))
        });
        done
    }

    fn fail(&self, i: usize, reason: String) -> bool {
        let mut failed = false;
        self.set(i, |s| {
            failed = matches!(s, EntryState::Pending | EntryState::Running);
            failed.then_some(EntryState::Failed(reason))
        });
        failed
    }

    /// Blocks until no entry is pending or running.
    fn wait_settled(&self) -> Vec<EntryState> {
        let mut states = self.lock();
        loop {
            let open = states
                .iter()
                .filter(|s| matches!(s, EntryState::Pending | EntryState::Running))
                .count();
            if open == 0 {
                return states.clone();
            }
            let (next, timeout) = self
                .changed
                .wait_timeout(states, WAIT_LOG_INTERVAL)
                .unwrap_or_else(|e| e.into_inner());
            states = next;
            if timeout.timed_out() {
                tracing::info!(open, "manifest waits for data entries to finish");
            }
        }
    }
}

/// Worker connections; a failed connection is discarded, never reused.
struct WorkerPool {
    idle: Mutex<Vec<Conn>>,
    available: Semaphore,
    live: AtomicUsize,
}

impl WorkerPool {
    fn new(conns: Vec<Conn>) -> Self {
        WorkerPool {
            available: Semaphore::new(conns.len()),
            live: AtomicUsize::new(conns.len()),
            idle: Mutex::new(conns),
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Conn>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn acquire(&self) -> std::result::Result<Conn, String> {
        let no_worker =
            || "no worker connection left (all failed, or the dump was finished)".to_string();
        let permit = self.available.acquire().await.map_err(|_| no_worker())?;
        permit.forget();
        self.idle().pop().ok_or_else(no_worker)
    }

    fn release(&self, conn: Conn) {
        self.idle().push(conn);
        self.available.add_permits(1);
    }

    fn discard(&self, conn: Conn) {
        drop(conn);
        if self.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.available.close();
        }
    }

    fn close(&self) -> Vec<Conn> {
        self.available.close();
        std::mem::take(&mut *self.idle())
    }
}

/// One data file to produce.
#[derive(Debug, Clone)]
struct ChunkPlan {
    path: String,
    db: usize,
    table: usize,
    sql: String,
    label: String,
}

struct Shared {
    pool: WorkerPool,
    tracker: Tracker,
    chunks: Vec<ChunkPlan>,
    skeleton: Manifest,
    progress: Arc<DumpProgress>,
    manifest_served: AtomicBool,
}

/// A prepared dump: consistent point taken, schema read, chunks planned.
pub struct Dump {
    handle: Handle,
    shared: Arc<Shared>,
    control: Option<Conn>,
    lock_held: bool,
    worker_transactions: bool,
    static_files: Vec<(String, Bytes)>,
}

impl std::fmt::Debug for Dump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dump")
            .field("consistency", &self.shared.skeleton.consistency)
            .field("entries", &self.shared.chunks.len())
            .finish()
    }
}

/// Connects, detects the server, reads schema, takes the consistent point and plans chunks.
pub async fn prepare_dump(target: &DbTarget, opts: &DumpOptions) -> Result<Dump> {
    let handle = Handle::current();
    let mut control = target.connect().await?;
    let server = flavor::detect(&mut control).await?;
    tracing::info!(flavor = ?server.flavor, version = %server.version, "dump source detected");
    let names =
        discover::list_databases(&mut control, server.flavor, opts.databases.as_deref()).await?;
    let mut infos = Vec::with_capacity(names.len());
    let mut static_files = Vec::new();
    let mut databases = Vec::with_capacity(names.len());
    for db in &names {
        let mut info = discover::discover_database(&mut control, server.flavor, db).await?;
        info.tables.retain(|t| opts.selects_table(db, &t.name));
        let entry = read_database_schema(&mut control, &mut info, opts, &mut static_files).await?;
        databases.push(entry);
        infos.push(info);
    }

    let workers =
        futures::future::try_join_all((0..opts.parallel.max(1)).map(|_| target.connect())).await?;
    let (mut workers, control, lock_held, mut achieved, worker_transactions) =
        take_consistent_point(target, server.flavor, opts, control, workers).await?;
    if achieved == Consistency::ConsistentSnapshot {
        achieved = downgrade_for_engines(&infos, achieved);
    }

    let chunks = plan_chunks(&mut workers[0], &infos, &mut databases, opts).await?;
    let progress = Arc::new(DumpProgress {
        entries_total: chunks.len(),
        ..DumpProgress::default()
    });
    let skeleton = Manifest {
        format: manifest::FORMAT.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        server,
        consistency: achieved,
        row_digest: RowDigest::CURRENT,
        databases,
    };
    tracing::info!(consistency = ?achieved, entries = chunks.len(), "dump prepared");
    Ok(Dump {
        handle,
        shared: Arc::new(Shared {
            pool: WorkerPool::new(workers),
            tracker: Tracker {
                states: Mutex::new(vec![EntryState::Pending; chunks.len()]),
                changed: Condvar::new(),
            },
            chunks,
            skeleton,
            progress,
            manifest_served: AtomicBool::new(false),
        }),
        control: Some(control),
        lock_held: lock_held && achieved == Consistency::GlobalReadLock,
        worker_transactions,
        static_files,
    })
}

/// Reads database, table and object DDL; returns the manifest skeleton of the database.
async fn read_database_schema(
    control: &mut Conn,
    info: &mut DatabaseInfo,
    opts: &DumpOptions,
    static_files: &mut Vec<(String, Bytes)>,
) -> Result<DatabaseEntry> {
    let db = info.name.clone();
    let ddl = schema::show_create(control, DdlKind::Database, &db, "").await?;
    let schema_path = manifest::database_schema_path(&db);
    static_files.push((schema_path.clone(), schema::statement_file(&ddl.sql).into()));
    let mut tables = Vec::with_capacity(info.tables.len());
    for t in &mut info.tables {
        let ddl = schema::show_create(control, DdlKind::Table, &db, &t.name).await?;
        for computed in schema::computed_columns(&ddl.sql) {
            if let Some(c) = t.columns.iter_mut().find(|c| c.name == computed) {
                c.dumped = false;
            }
        }
        let path = manifest::table_schema_path(&db, &t.name);
        static_files.push((path.clone(), schema::statement_file(&ddl.sql).into()));
        tables.push(TableEntry {
            name: t.name.clone(),
            schema_path: path,
            columns: t.columns.clone(),
            rows: 0,
            checksum: String::new(),
            chunks: Vec::new(),
            primary_key: t.primary_key.clone(),
            engine: t.engine.clone(),
            key_step: None,
        });
    }
    let objects = if opts.objects {
        read_objects(control, info, static_files).await?
    } else {
        Vec::new()
    };
    Ok(DatabaseEntry {
        name: db,
        schema_path,
        tables,
        objects,
    })
}

/// Reads secondary objects into their files; returns them in creation order.
async fn read_objects(
    control: &mut Conn,
    info: &DatabaseInfo,
    static_files: &mut Vec<(String, Bytes)>,
) -> Result<Vec<ObjectEntry>> {
    let mut by_file: Vec<(ObjectKind, Vec<ObjectStatement>)> = Vec::new();
    for group in [
        &[ObjectKind::Procedure, ObjectKind::Function][..],
        &[ObjectKind::View],
        &[ObjectKind::Trigger],
        &[ObjectKind::Event],
    ] {
        let mut statements = Vec::new();
        for o in info.objects.iter().filter(|o| group.contains(&o.kind)) {
            let ddl =
                schema::show_create(control, DdlKind::Object(o.kind), &info.name, &o.name).await?;
            statements.push(ObjectStatement {
                kind: o.kind,
                name: o.name.clone(),
                sql_mode: ddl.sql_mode,
                sql: ddl.sql,
            });
        }
        if group == [ObjectKind::View] {
            statements = schema::order_views(statements);
        }
        if !statements.is_empty() {
            by_file.push((group[0], statements));
        }
    }
    let mut entries = Vec::new();
    for (kind, statements) in by_file {
        let path = manifest::objects_path(&info.name, kind);
        entries.extend(statements.iter().map(|s| ObjectEntry {
            kind: s.kind,
            name: s.name.clone(),
            path: path.clone(),
        }));
        static_files.push((path, schema::render_objects(&statements).into()));
    }
    Ok(entries)
}

type ConsistentPoint = (Vec<Conn>, Conn, bool, Consistency, bool);

/// Runs the consistency plan; returns workers, control, lock held, achieved, transactions open.
async fn take_consistent_point(
    target: &DbTarget,
    flavor: flavor::Flavor,
    opts: &DumpOptions,
    mut control: Conn,
    mut workers: Vec<Conn>,
) -> Result<ConsistentPoint> {
    let plan = consistency::plan(flavor, opts.consistency);
    let mut achieved = plan.achieved;
    let mut lock_held = false;
    if let Some(lock) = plan.lock_sql {
        match exec_drop(&mut control, lock).await {
            Ok(()) => lock_held = true,
            Err(e) => match plan.fallback {
                Some(fallback) => {
                    tracing::warn!(error = %e, "global read lock refused; dumping each table on its own");
                    achieved = fallback;
                }
                None => {
                    return Err(Error::Consistency {
                        detail: format!(
                            "{lock} on {}:{} as `{}` failed ({e}); grant the RELOAD privilege \
                             to the backup user or choose --consistency no-lock",
                            target.host, target.port, target.user
                        ),
                    })
                }
            },
        }
    }
    for w in &mut workers {
        for sql in &plan.worker_begin_sql {
            if let Err(e) = exec_drop(w, sql).await {
                if lock_held {
                    let _ = exec_drop(&mut control, UNLOCK_SQL).await;
                }
                return Err(e);
            }
        }
    }
    if lock_held && !plan.hold_lock {
        exec_drop(&mut control, UNLOCK_SQL).await?;
        lock_held = false;
    }
    if achieved == Consistency::PerTable && workers.len() == 1 && !plan.worker_begin_sql.is_empty()
    {
        // A single snapshot transaction reads every table at one point in time.
        achieved = Consistency::ConsistentSnapshot;
    }
    let transactions = !plan.worker_begin_sql.is_empty();
    Ok((workers, control, lock_held, achieved, transactions))
}

/// Snapshot transactions do not cover non-transactional engines: say so honestly.
fn downgrade_for_engines(infos: &[DatabaseInfo], achieved: Consistency) -> Consistency {
    let loose: Vec<String> = infos
        .iter()
        .flat_map(|d| {
            d.tables
                .iter()
                .filter(|t| {
                    NON_TRANSACTIONAL_ENGINES.contains(&t.engine.to_ascii_lowercase().as_str())
                })
                .map(move |t| qualified(&d.name, &t.name))
        })
        .collect();
    if loose.is_empty() {
        return achieved;
    }
    tracing::warn!(tables = %loose.join(", "), "non-transactional tables are read without a snapshot; consistency is per table");
    Consistency::PerTable
}

/// Plans data files; reads key bounds inside the snapshot on `conn`.
async fn plan_chunks(
    conn: &mut Conn,
    infos: &[DatabaseInfo],
    databases: &mut [DatabaseEntry],
    opts: &DumpOptions,
) -> Result<Vec<ChunkPlan>> {
    let mut plans = Vec::new();
    for (di, info) in infos.iter().enumerate() {
        for (ti, table) in info.tables.iter().enumerate() {
            let chunk_rows = rows_per_chunk(table, opts.chunk_rows, opts.chunk_bytes);
            let previous = opts
                .previous_steps
                .get(&(info.name.clone(), table.name.clone()))
                .map(|&s| i128::from(s));
            let plan = read_key_ranges(
                conn,
                &info.name,
                &table.name,
                table.integer_key(),
                table.rows_estimate,
                chunk_rows,
                previous,
            )
            .await?;
            let entry = &mut databases[di].tables[ti];
            entry.key_step = plan.step.and_then(|s| u64::try_from(s).ok());
            for (ci, range) in plan.ranges.iter().enumerate() {
                let path = manifest::data_path(&info.name, &table.name, ci + 1);
                entry.chunks.push(ChunkEntry {
                    path: path.clone(),
                    rows: 0,
                });
                plans.push(ChunkPlan {
                    label: format!("{} ({path})", qualified(&info.name, &table.name)),
                    sql: select_sql(&info.name, entry, range.as_ref()),
                    path,
                    db: di,
                    table: ti,
                });
            }
        }
    }
    Ok(plans)
}

/// Rows per data file: `chunk_rows`, lowered so a file holds about `chunk_bytes`.
fn rows_per_chunk(table: &TableInfo, chunk_rows: u64, chunk_bytes: u64) -> u64 {
    if chunk_bytes == 0 || table.rows_estimate == 0 || table.bytes_estimate == 0 {
        return chunk_rows;
    }
    let row_bytes = (table.bytes_estimate / table.rows_estimate).max(1);
    // Never below 10 000 rows: tiny files cost more per row than they gain.
    let by_size = (chunk_bytes / row_bytes).max(10_000);
    if chunk_rows == 0 {
        by_size
    } else {
        chunk_rows.min(by_size)
    }
}

impl Dump {
    /// Every snapshot entry, sorted by path: data files, the manifest, schema files.
    pub fn entries(&self) -> Vec<DumpEntry> {
        let mut out = Vec::with_capacity(self.shared.chunks.len() + self.static_files.len() + 1);
        for (i, chunk) in self.shared.chunks.iter().enumerate() {
            let shared = Arc::clone(&self.shared);
            let handle = self.handle.clone();
            out.push(DumpEntry {
                path: chunk.path.clone(),
                open: Box::new(move || open_chunk(shared, handle, i)),
            });
        }
        let shared = Arc::clone(&self.shared);
        out.push(DumpEntry {
            path: MANIFEST_PATH.to_string(),
            open: Box::new(move || open_manifest(shared)),
        });
        for (path, bytes) in &self.static_files {
            let bytes = bytes.clone();
            out.push(DumpEntry {
                path: path.clone(),
                open: Box::new(move || Ok(Box::new(Cursor::new(bytes)) as Box<dyn Read + Send>)),
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// The dumped databases (rows and checksums are filled in the manifest entry).
    pub fn databases(&self) -> &[DatabaseEntry] {
        &self.shared.skeleton.databases
    }

    /// Consistency achieved.
    pub fn consistency(&self) -> Consistency {
        self.shared.skeleton.consistency
    }

    /// The source server.
    pub fn server(&self) -> &ServerInfo {
        &self.shared.skeleton.server
    }

    /// Live progress counters.
    pub fn progress(&self) -> Arc<DumpProgress> {
        Arc::clone(&self.shared.progress)
    }

    /// Releases locks and transactions; fails if any entry failed or was not read to EOF.
    pub async fn finish(mut self) -> Result<DumpReport> {
        let states = self.shared.tracker.lock().clone();
        for mut conn in self.shared.pool.close() {
            if self.worker_transactions {
                let _ = conn.query_drop("ROLLBACK").await;
            }
            let _ = conn.disconnect().await;
        }
        if let Some(mut control) = self.control.take() {
            if self.lock_held {
                if let Err(e) = exec_drop(&mut control, UNLOCK_SQL).await {
                    tracing::warn!(error = %e, "releasing the global read lock failed; it ends with the connection");
                }
            }
            let _ = control.disconnect().await;
        }
        self.report(&states)
    }

    fn report(&self, states: &[EntryState]) -> Result<DumpReport> {
        let mut problems = Vec::new();
        let (mut rows, mut bytes) = (0, 0);
        for (chunk, state) in self.shared.chunks.iter().zip(states) {
            match state {
                EntryState::Complete(s) => {
                    rows += s.checksum.rows;
                    bytes += s.bytes;
                }
                EntryState::Pending => problems.push(format!("{}: never read", chunk.label)),
                EntryState::Running => {
                    problems.push(format!("{}: not read to the end", chunk.label))
                }
                EntryState::Failed(reason) => problems.push(format!("{}: {reason}", chunk.label)),
            }
        }
        if !self.shared.manifest_served.load(Ordering::SeqCst) {
            problems.push(format!("{MANIFEST_PATH}: never written"));
        }
        if !problems.is_empty() {
            let total = problems.len();
            problems.truncate(10);
            if total > problems.len() {
                problems.push(format!("and {} more", total - 10));
            }
            return Err(Error::DumpIncomplete {
                detail: format!("{total} entries failed: {}", problems.join("; ")),
            });
        }
        let skeleton = &self.shared.skeleton;
        Ok(DumpReport {
            databases: skeleton.databases.len(),
            tables: skeleton.databases.iter().map(|d| d.tables.len()).sum(),
            rows,
            bytes,
            consistency: skeleton.consistency,
        })
    }
}

fn open_chunk(shared: Arc<Shared>, handle: Handle, i: usize) -> io::Result<Box<dyn Read + Send>> {
    let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
    shared.tracker.start(i);
    handle.spawn(produce_chunk(Arc::clone(&shared), i, tx));
    Ok(Box::new(ChunkReader {
        rx,
        shared,
        index: i,
        current: Bytes::new(),
        finished: false,
        failure: None,
    }))
}

fn open_manifest(shared: Arc<Shared>) -> io::Result<Box<dyn Read + Send>> {
    let states = shared.tracker.wait_settled();
    let manifest = build_manifest(&shared, &states)?;
    shared.manifest_served.store(true, Ordering::SeqCst);
    Ok(Box::new(Cursor::new(manifest.to_json())))
}

fn build_manifest(shared: &Shared, states: &[EntryState]) -> io::Result<Manifest> {
    let mut manifest = shared.skeleton.clone();
    let mut failed = Vec::new();
    let mut sums = vec![Vec::<TableChecksum>::new(); manifest.databases.len()];
    for (d, db) in manifest.databases.iter().enumerate() {
        sums[d] = vec![TableChecksum::default(); db.tables.len()];
    }
    for (chunk, state) in shared.chunks.iter().zip(states) {
        match state {
            EntryState::Complete(stats) => {
                sums[chunk.db][chunk.table].merge(stats.checksum);
                let table = &mut manifest.databases[chunk.db].tables[chunk.table];
                if let Some(c) = table.chunks.iter_mut().find(|c| c.path == chunk.path) {
                    c.rows = stats.checksum.rows;
                }
            }
            _ => failed.push(chunk.label.clone()),
        }
    }
    if !failed.is_empty() {
        return Err(io::Error::other(format!(
            "not writing {MANIFEST_PATH}: {} data entries failed ({}); the backup must be discarded",
            failed.len(),
            failed.join(", ")
        )));
    }
    for (d, db) in manifest.databases.iter_mut().enumerate() {
        for (t, table) in db.tables.iter_mut().enumerate() {
            table.rows = sums[d][t].rows;
            table.checksum = sums[d][t].to_string();
        }
    }
    Ok(manifest)
}

enum Msg {
    Data(Bytes),
    End(ChunkStats),
    Failed(String),
}

/// Runs on the tokio runtime: borrows a worker, streams one chunk into the channel.
async fn produce_chunk(shared: Arc<Shared>, i: usize, tx: mpsc::Sender<Msg>) {
    let chunk = &shared.chunks[i];
    let outcome = match shared.pool.acquire().await {
        Err(e) => Err(e),
        Ok(mut conn) => match stream_rows(&mut conn, &chunk.sql, &tx, &shared.progress).await {
            Ok(stats) => {
                shared.pool.release(conn);
                Ok(stats)
            }
            Err(e) => {
                shared.pool.discard(conn);
                Err(e)
            }
        },
    };
    match outcome {
        Ok(stats) => {
            let _ = tx.send(Msg::End(stats)).await;
        }
        Err(reason) => {
            let reason = format!("reading {} failed: {reason}", chunk.label);
            tracing::error!(error = %reason, "dump entry failed");
            if shared.tracker.fail(i, reason.clone()) {
                shared
                    .progress
                    .entries_failed
                    .fetch_add(1, Ordering::Relaxed);
            }
            let _ = tx.send(Msg::Failed(reason)).await;
        }
    }
}

async fn stream_rows(
    conn: &mut Conn,
    sql: &str,
    tx: &mpsc::Sender<Msg>,
    progress: &DumpProgress,
) -> std::result::Result<ChunkStats, String> {
    let mut result = conn.query_iter(sql).await.map_err(read_error)?;
    let mut stats = ChunkStats::default();
    let mut block = Vec::with_capacity(BLOCK_BYTES + 64 * 1024);
    while let Some(row) = result.next().await.map_err(read_error)? {
        // Encoded straight into the block; the digest reads it back from there.
        let start = block.len();
        encode_row(&row_values(row), &mut block);
        stats.checksum.add_line(RowDigest::CURRENT, &block[start..]);
        block.push(b'\n');
        if block.len() >= BLOCK_BYTES {
            send_block(&mut block, tx, &mut stats, progress).await?;
        }
    }
    if !block.is_empty() {
        send_block(&mut block, tx, &mut stats, progress).await?;
    }
    Ok(stats)
}

/// Why reading rows failed, in words a user can act on.
fn read_error(e: mysql_async::Error) -> String {
    match e {
        // The driver reports a dropped connection as a bare I/O error ("bytes remaining on
        // stream"), which says nothing about the cause.
        mysql_async::Error::Io(io) => format!(
            "the connection to the server was lost ({io}); was the server restarted or the \
             connection killed? back up again once it is reachable"
        ),
        other => other.to_string(),
    }
}

async fn send_block(
    block: &mut Vec<u8>,
    tx: &mpsc::Sender<Msg>,
    stats: &mut ChunkStats,
    progress: &DumpProgress,
) -> std::result::Result<(), String> {
    let next = Vec::with_capacity(block.capacity());
    let data = Bytes::from(std::mem::replace(block, next));
    let n = data.len() as u64;
    tx.send(Msg::Data(data))
        .await
        .map_err(|_| "the reader stopped before the end of the data".to_string())?;
    stats.bytes += n;
    progress.bytes.fetch_add(n, Ordering::Relaxed);
    // Counted per block, not per row: one shared counter bumped by every worker per row
    // costs more than the progress bar gains.
    progress
        .rows
        .fetch_add(stats.checksum.rows - stats.rows_reported, Ordering::Relaxed);
    stats.rows_reported = stats.checksum.rows;
    Ok(())
}

/// Blocking reader over one chunk's channel; records completion at EOF.
struct ChunkReader {
    rx: mpsc::Receiver<Msg>,
    shared: Arc<Shared>,
    index: usize,
    current: Bytes,
    finished: bool,
    failure: Option<String>,
}

impl ChunkReader {
    fn fail(&mut self, reason: String) -> io::Error {
        if self.shared.tracker.fail(self.index, reason.clone()) {
            self.shared
                .progress
                .entries_failed
                .fetch_add(1, Ordering::Relaxed);
        }
        self.failure = Some(reason.clone());
        io::Error::other(reason)
    }
}

impl Read for ChunkReader {
    /// Fills `buf` completely unless the data ends: rustic's chunker shrinks its read buffer to
    /// the length of any short read, so one short read would make every later read tiny.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            if !self.current.is_empty() {
                let n = (buf.len() - filled).min(self.current.len());
                buf[filled..filled + n].copy_from_slice(&self.current[..n]);
                self.current.advance(n);
                filled += n;
                continue;
            }
            if self.finished || (self.failure.is_some() && filled > 0) {
                break;
            }
            if let Some(reason) = &self.failure {
                return Err(io::Error::other(reason.clone()));
            }
            match self.rx.blocking_recv() {
                Some(Msg::Data(data)) => self.current = data,
                Some(Msg::End(stats)) => {
                    if self.shared.tracker.complete(self.index, stats) {
                        self.shared
                            .progress
                            .entries_done
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    self.finished = true;
                }
                // Data already copied is handed out first; the error comes with the next call.
                Some(Msg::Failed(reason)) if filled > 0 => {
                    let _ = self.fail(reason);
                }
                Some(Msg::Failed(reason)) => return Err(self.fail(reason)),
                None => {
                    let label = self.shared.chunks[self.index].label.clone();
                    let err = self.fail(format!("{label}: the dump task ended without finishing"));
                    if filled == 0 {
                        return Err(err);
                    }
                }
            }
        }
        Ok(filled)
    }
}

impl Drop for ChunkReader {
    fn drop(&mut self) {
        if !self.finished && self.failure.is_none() {
            let label = self.shared.chunks[self.index].label.clone();
            let _ = self.fail(format!("{label}: not read to the end"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_filters() {
        let opts = DumpOptions {
            tables: Some(vec!["shop.orders".into(), "users".into()]),
            exclude_tables: vec!["crm.users".into()],
            ..DumpOptions::default()
        };
        assert!(opts.selects_table("shop", "orders"));
        assert!(!opts.selects_table("crm", "orders"));
        assert!(opts.selects_table("shop", "users"));
        assert!(!opts.selects_table("crm", "users"));
        assert!(DumpOptions::default().selects_table("a", "b"));
    }

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn dump_and_its_futures_are_send() {
        let target = DbTarget::new("127.0.0.1", 1, "u");
        let opts = DumpOptions::default();
        let prepare = prepare_dump(&target, &opts);
        assert_send(&prepare);
        fn dump_is_send_and_sync<T: Send + Sync>() {}
        dump_is_send_and_sync::<Dump>();
        dump_is_send_and_sync::<DumpProgress>();
        fn entry_is_send<T: Send>() {}
        entry_is_send::<DumpEntry>();
    }

    #[test]
    fn tracker_settles_and_first_outcome_wins() {
        let t = Tracker {
            states: Mutex::new(vec![EntryState::Pending; 2]),
            changed: Condvar::new(),
        };
        t.start(0);
        assert!(t.complete(0, ChunkStats::default()));
        assert!(!t.fail(0, "late".into()));
        t.start(1);
        assert!(t.fail(1, "boom".into()));
        assert!(!t.complete(1, ChunkStats::default()));
        let states = t.wait_settled();
        assert!(matches!(states[0], EntryState::Complete(_)));
        assert_eq!(states[1], EntryState::Failed("boom".into()));
    }
}
