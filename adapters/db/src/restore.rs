//! Native restore: schema first, then every data chunk in parallel through
//! `LOAD DATA LOCAL INFILE` streamed from the snapshot, then secondary objects, then
//! (optionally) verification.
//!
//! Order: read `/manifest.json` → plan (filters, renames) → refuse existing tables unless
//! `drop_existing` → `CREATE DATABASE IF NOT EXISTS` → `CREATE TABLE` (with `USE target`) →
//! chunks over `parallel` connections (`foreign_key_checks = 0`, and `unique_checks = 0` on MySQL; on
//! MySQL/MariaDB each chunk is one transaction, rolled back if its stream fails) →
//! plain secondary keys of InnoDB tables added after their rows (deferred_keys) →
//! SingleStore `AGGREGATOR SYNC AUTO_INCREMENT` → views, triggers, routines, events (objects
//! files are mysql-client SQL: `DELIMITER` lines are honoured) → verification.
//!
//! Every chunk's loaded row count is checked against the manifest, so a short or failed stream
//! fails the restore naming the table and file; nothing is ever silently partial.

use std::collections::{BTreeSet, VecDeque};
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mysql_async::prelude::Queryable;
use serde::Serialize;

use crate::conn::{self, Conn, DbTarget, SESSION_SQL_MODE};
use crate::db_rename::{create_database_if_not_exists, has_keyword, rename_qualifiers};
use crate::deferred_keys;
use crate::flavor::{self, Flavor};
use crate::infile::{infile_stream, OpenReader};
use crate::manifest::{Manifest, ManifestError, ObjectKind, TableEntry, MANIFEST_PATH};
pub use crate::restore_plan::RestoreOptions;
use crate::restore_plan::{
    drop_statement, plan_restore, post_load_statements, refuse_system_targets, session_statements,
    PlanError, RestorePlan,
};
pub use crate::restore_progress::{ProgressSnapshot, RestoreProgress};
use crate::row_format::{load_data_sql, qualified, quote_ident, quote_string};
use crate::schema::parse_objects;
use crate::sql_split::{SplitError, StatementSplitter};
use crate::verify::{verify_tables, VerifyJob};

/// Largest schema or manifest file read into memory.
const MAX_METADATA_BYTES: u64 = 256 << 20;

/// Read access to the files of one snapshot; implemented over the restic repository.
pub trait SnapshotSource: Send + Sync + 'static {
    /// Opens a file by absolute path; blocking (call from `spawn_blocking`).
    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send>>;
    /// Whether the file exists; blocking.
    fn exists(&self, path: &str) -> bool;
    /// How to name the snapshot in messages (e.g. its short id).
    fn describe(&self) -> String {
        "the snapshot".to_string()
    }
}

/// Result alias for restores.
pub type Result<T, E = RestoreError> = std::result::Result<T, E>;

/// Why a restore failed; each message names the object and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The snapshot has no manifest.
    #[error("{snapshot} is not a Cairn native snapshot: it has no {MANIFEST_PATH}; if it holds /dumpfile.sql, restore it with the sql format")]
    NotNative {
        /// The snapshot, as the source names it.
        snapshot: String,
    },
    /// The manifest is unreadable.
    #[error("{snapshot}: {source}")]
    Manifest {
        /// The snapshot.
        snapshot: String,
        /// Why.
        #[source]
        source: ManifestError,
    },
    /// A file of the snapshot could not be read.
    #[error(
        "cannot read {path} from {snapshot}: {source}; check the repository with `cairn check`"
    )]
    ReadFile {
        /// Path inside the snapshot.
        path: String,
        /// The snapshot.
        snapshot: String,
        /// Underlying error.
        #[source]
        source: io::Error,
    },
    /// Filters or renames do not fit the snapshot.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Target tables exist and `drop_existing` is off.
    #[error("the target already has {tables}; use --drop-existing to replace them")]
    TablesExist {
        /// The existing tables, qualified and comma-separated.
        tables: String,
    },
    /// Connecting or a metadata query failed.
    #[error(transparent)]
    Db(Box<conn::Error>),
    /// A schema or object statement failed.
    #[error("creating {object} failed: {source}; fix the cause (privileges, server version, existing objects) and restore again")]
    Schema {
        /// What was being created, with the file it came from.
        object: String,
        /// Server or driver error.
        #[source]
        source: Box<mysql_async::Error>,
    },
    /// An objects file is damaged.
    #[error("cannot read the objects file {path}: {reason}; the snapshot is damaged or from an incompatible version")]
    ObjectsFile {
        /// File inside the snapshot.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// A statement file could not be split.
    #[error("cannot parse {path}: {source}")]
    Split {
        /// File inside the snapshot.
        path: String,
        /// Why.
        #[source]
        source: SplitError,
    },
    /// Loading a data chunk failed.
    #[error("loading {path} into {table} failed: {source}{hint}; table {table} is incomplete: fix the cause and restore again with --drop-existing")]
    ChunkLoad {
        /// Qualified target table.
        table: String,
        /// Data file inside the snapshot.
        path: String,
        /// Server, driver or stream error.
        #[source]
        source: Box<mysql_async::Error>,
        /// Extra advice for known causes (may be empty).
        hint: &'static str,
    },
    /// A chunk loaded a different number of rows than the snapshot recorded.
    #[error("loading {path} into {table} gave {loaded} rows, the snapshot recorded {expected}; duplicate keys in the target or a damaged snapshot; restore again with --drop-existing")]
    ChunkRows {
        /// Qualified target table.
        table: String,
        /// Data file.
        path: String,
        /// Rows the server loaded.
        loaded: u64,
        /// Rows in the manifest.
        expected: u64,
    },
    /// A SQL-format statement failed.
    #[error("statement {number} (line {line}) failed: {source}{excerpt}; fix the cause and restore again")]
    Statement {
        /// 1-based statement number in the dump.
        number: u64,
        /// Line where it starts.
        line: u64,
        /// Start of the statement, or empty when it may hold a secret.
        excerpt: String,
        /// Server error.
        #[source]
        source: Box<mysql_async::Error>,
    },
    /// Loading failed; the tables it left incomplete were dropped.
    #[error("{source}; the restore dropped the tables it could not load completely ({dropped}), so none is left half-restored")]
    Incomplete {
        /// The failure.
        #[source]
        source: Box<RestoreError>,
        /// The dropped tables, qualified and comma-separated.
        dropped: String,
    },
    /// An option that this restore format cannot honour.
    #[error("{0}")]
    Unsupported(String),
    /// A bug: a worker task panicked or was cancelled.
    #[error("internal error during restore: {0}; please report it")]
    Internal(String),
}

impl From<conn::Error> for RestoreError {
    fn from(e: conn::Error) -> Self {
        RestoreError::Db(Box::new(e))
    }
}

impl RestoreError {
    /// Short, stable label for metrics and Kubernetes event reasons.
    pub fn category(&self) -> &'static str {
        match self {
            RestoreError::NotNative { .. } => "NotNativeSnapshot",
            RestoreError::Manifest { .. } => "BadManifest",
            RestoreError::ReadFile { .. } => "SnapshotRead",
            RestoreError::Plan(_) => "InvalidFilter",
            RestoreError::TablesExist { .. } => "TablesExist",
            RestoreError::Db(e) => e.category(),
            RestoreError::Schema { .. } => "SchemaFailed",
            RestoreError::Split { .. } | RestoreError::ObjectsFile { .. } => "BadSql",
            RestoreError::ChunkLoad { .. } | RestoreError::ChunkRows { .. } => "LoadFailed",
            RestoreError::Statement { .. } => "StatementFailed",
            RestoreError::Incomplete { source, .. } => source.category(),
            RestoreError::Unsupported(_) => "Unsupported",
            RestoreError::Internal(_) => "Internal",
        }
    }
}

/// What a restore did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RestoreReport {
    /// Databases restored.
    pub databases: usize,
    /// Tables created and loaded.
    pub tables: usize,
    /// Rows loaded.
    pub rows: u64,
    /// Bytes read from the snapshot (data files, or the SQL text).
    pub bytes: u64,
    /// Views, triggers, routines and events created (native), or statements run (sql).
    pub objects: usize,
    /// SQL statements executed (sql format only).
    pub statements: u64,
    /// Server warnings raised while loading.
    pub warnings: u64,
    /// `Some(true)` when every table matched the snapshot, `None` when not verified.
    pub verified: Option<bool>,
    /// One line per table that does not match the snapshot.
    pub mismatches: Vec<String>,
}

/// Restores a native snapshot into `target` (see the module docs for the order), updating
/// `progress` as it goes (pass [`RestoreProgress::shared`] when no progress bar is shown).
pub async fn restore_native(
    target: &DbTarget,
    source: Arc<dyn SnapshotSource>,
    opts: &RestoreOptions,
    progress: Arc<RestoreProgress>,
) -> Result<RestoreReport> {
    let manifest = read_manifest(&source).await?;
    let plan = plan_restore(&manifest, opts)?;
    progress
        .tables_total
        .store(plan.table_count() as u64, Ordering::Relaxed);
    progress
        .rows_total
        .store(plan.row_count(), Ordering::Relaxed);
    let mut control = target.connect().await?;
    let flavor = flavor::detect(&mut control).await?.flavor;
    refuse_system_targets(&plan, flavor)?;
    tracing::info!(
        snapshot = %source.describe(),
        databases = plan.databases.len(),
        tables = plan.table_count(),
        ?flavor,
        "native restore planned"
    );
    run_session_statements(&mut control, flavor).await?;
    handle_existing(&mut control, &plan, opts.drop_existing).await?;
    let schema = create_schema(&mut control, &source, &plan, flavor).await?;
    let auto_increment = schema.auto_increment;

    let loaded = load_all(
        target,
        &source,
        flavor,
        &plan,
        schema.deferred_keys,
        opts.parallel,
        &progress,
    )
    .await?;

    for sql in post_load_statements(flavor, &auto_increment) {
        exec_schema(
            &mut control,
            &sql,
            "the AUTO_INCREMENT counters".to_string(),
        )
        .await?;
    }
    let objects = create_objects(
        &mut control,
        &source,
        &plan,
        opts.drop_existing,
        flavor,
        manifest.server.flavor,
    )
    .await?;
    let _ = control.disconnect().await;

    let mut report = RestoreReport {
        databases: plan.databases.len(),
        tables: plan.table_count(),
        rows: loaded.rows,
        bytes: progress.snapshot().bytes,
        objects,
        warnings: loaded.warnings,
        ..Default::default()
    };
    if opts.verify {
        let jobs = plan
            .databases
            .iter()
            .flat_map(|d| {
                d.tables.iter().map(|t| VerifyJob {
                    database: d.target.clone(),
                    table: Arc::new(t.clone()),
                })
            })
            .collect();
        report.mismatches = verify_tables(target, jobs, manifest.row_digest, opts.parallel).await?;
        report.verified = Some(report.mismatches.is_empty());
    }
    tracing::info!(
        tables = report.tables,
        rows = report.rows,
        bytes = report.bytes,
        verified = ?report.verified,
        "native restore finished"
    );
    Ok(report)
}

/// Reads a whole (small) file of the snapshot on a blocking thread.
async fn read_file(source: &Arc<dyn SnapshotSource>, path: &str) -> Result<Vec<u8>> {
    let src = source.clone();
    let p = path.to_string();
    let res = tokio::task::spawn_blocking(move || -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        src.open(&p)?
            .take(MAX_METADATA_BYTES)
            .read_to_end(&mut buf)?;
        Ok(buf)
    })
    .await
    .map_err(|e| RestoreError::Internal(format!("reading {path}: {e}")))?;
    res.map_err(|source_err| RestoreError::ReadFile {
        path: path.to_string(),
        snapshot: source.describe(),
        source: source_err,
    })
}

async fn read_manifest(source: &Arc<dyn SnapshotSource>) -> Result<Manifest> {
    let src = source.clone();
    let exists = tokio::task::spawn_blocking(move || src.exists(MANIFEST_PATH))
        .await
        .map_err(|e| RestoreError::Internal(format!("checking {MANIFEST_PATH}: {e}")))?;
    if !exists {
        return Err(RestoreError::NotNative {
            snapshot: source.describe(),
        });
    }
    let bytes = read_file(source, MANIFEST_PATH).await?;
    Manifest::from_json(&bytes).map_err(|e| RestoreError::Manifest {
        snapshot: source.describe(),
        source: e,
    })
}

async fn run_session_statements(conn: &mut Conn, flavor: Flavor) -> Result<()> {
    for sql in session_statements(flavor) {
        conn::exec_drop(conn, &sql).await?;
    }
    Ok(())
}

async fn exec_schema(conn: &mut Conn, sql: &str, object: String) -> Result<()> {
    conn.query_drop(sql)
        .await
        .map_err(|source| RestoreError::Schema {
            object,
            source: Box::new(source),
        })
}

/// Refuses (or drops) target tables and views that the restore would create.
async fn handle_existing(conn: &mut Conn, plan: &RestorePlan, drop_existing: bool) -> Result<()> {
    if plan.databases.is_empty() {
        return Ok(());
    }
    let schemas: Vec<String> = plan
        .databases
        .iter()
        .map(|d| quote_string(&d.target))
        .collect();
    let sql = format!(
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ({})",
        schemas.join(", ")
    );
    let rows: Vec<(String, String, String)> = conn
        .query(&sql)
        .await
        .map_err(|e| conn::Error::query("listing existing tables of the target databases", e))?;
    let wanted: BTreeSet<(&str, &str)> = plan
        .databases
        .iter()
        .flat_map(|d| {
            let tables = d.tables.iter().map(|t| t.name.as_str());
            let views = d
                .objects
                .iter()
                .filter(|o| o.kind == ObjectKind::View)
                .map(|o| o.name.as_str());
            tables.chain(views).map(move |n| (d.target.as_str(), n))
        })
        .collect();
    let existing: Vec<&(String, String, String)> = rows
        .iter()
        .filter(|(db, name, _)| wanted.contains(&(db.as_str(), name.as_str())))
        .collect();
    if existing.is_empty() {
        return Ok(());
    }
    if !drop_existing {
        let names: Vec<String> = existing.iter().map(|(d, t, _)| qualified(d, t)).collect();
        return Err(RestoreError::TablesExist {
            tables: format!("{} table(s): {}", names.len(), names.join(", ")),
        });
    }
    for (db, name, kind) in existing {
        let kind = if kind.eq_ignore_ascii_case("VIEW") {
            "VIEW"
        } else {
            "TABLE"
        };
        tracing::info!(table = %qualified(db, name), "dropping existing {}", kind.to_lowercase());
        let sql = drop_statement(kind, db, name);
        exec_schema(conn, &sql, format!("(dropping) {}", qualified(db, name))).await?;
    }
    Ok(())
}

/// Splits a statement file of the snapshot into statements.
fn split_file(path: &str, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    StatementSplitter::new(bytes)
        .map(|s| s.map(|s| s.sql))
        .collect::<std::result::Result<_, _>>()
        .map_err(|source| RestoreError::Split {
            path: path.to_string(),
            source,
        })
}

/// Creates databases and tables; returns the tables that have an AUTO_INCREMENT column.
/// What creating the schema leaves for later phases.
struct CreatedSchema {
    /// `(database, table)` pairs with an AUTO_INCREMENT column.
    auto_increment: Vec<(String, String)>,
    /// Per table in plan order: the `ALTER TABLE` adding its deferred secondary keys.
    deferred_keys: Vec<Option<String>>,
}

async fn create_schema(
    conn: &mut Conn,
    source: &Arc<dyn SnapshotSource>,
    plan: &RestorePlan,
    flavor: Flavor,
) -> Result<CreatedSchema> {
    let mut auto_increment = Vec::new();
    let mut deferred_keys = Vec::new();
    for db in &plan.databases {
        let bytes = read_file(source, &db.schema_path).await?;
        let mut created = false;
        for stmt in split_file(&db.schema_path, &bytes)? {
            if let Some(sql) = create_database_if_not_exists(&stmt, &db.target) {
                run_bytes(conn, &sql, format!("database {}", quote_ident(&db.target))).await?;
                created = true;
            }
        }
        if !created {
            let sql = format!("CREATE DATABASE IF NOT EXISTS {}", quote_ident(&db.target));
            exec_schema(conn, &sql, format!("database {}", quote_ident(&db.target))).await?;
        }
        use_database(conn, &db.target).await?;
        for table in &db.tables {
            let bytes = read_file(source, &table.schema_path).await?;
            let object = format!(
                "table {} from {}",
                qualified(&db.target, &table.name),
                table.schema_path
            );
            let mut deferred = None;
            for stmt in split_file(&table.schema_path, &bytes)? {
                let stmt = rename_qualifiers(&stmt, &plan.renames);
                if has_keyword(&stmt, "auto_increment") {
                    auto_increment.push((db.target.clone(), table.name.clone()));
                }
                match deferred_keys::split(&stmt, flavor) {
                    Some(d) if deferred.is_none() && !table.chunks.is_empty() => {
                        run_bytes(conn, &d.create, object.clone()).await?;
                        deferred = Some(d.alter_sql(&db.target, &table.name));
                    }
                    _ => run_bytes(conn, &stmt, object.clone()).await?,
                }
            }
            deferred_keys.push(deferred);
        }
    }
    auto_increment.dedup();
    Ok(CreatedSchema {
        auto_increment,
        deferred_keys,
    })
}

async fn use_database(conn: &mut Conn, db: &str) -> Result<()> {
    let sql = format!("USE {}", quote_ident(db));
    exec_schema(
        conn,
        &sql,
        format!("(selecting) database {}", quote_ident(db)),
    )
    .await
}

async fn run_bytes(conn: &mut Conn, sql: &[u8], object: String) -> Result<()> {
    conn.query_drop(sql)
        .await
        .map_err(|source| RestoreError::Schema {
            object,
            source: Box::new(source),
        })
}

/// Creates views, triggers, routines and events of every planned database, in manifest order.
///
/// Objects files are length-prefixed (see `schema.rs`); each statement runs under its
/// creation-time `sql_mode`, then the session mode is restored.
async fn create_objects(
    conn: &mut Conn,
    source: &Arc<dyn SnapshotSource>,
    plan: &RestorePlan,
    drop_existing: bool,
    flavor: Flavor,
    source_flavor: Flavor,
) -> Result<usize> {
    let mut count = 0;
    for db in plan.databases.iter().filter(|d| !d.objects.is_empty()) {
        use_database(conn, &db.target).await?;
        let mut paths: Vec<&str> = Vec::new();
        for o in &db.objects {
            if !paths.contains(&o.path.as_str()) {
                paths.push(&o.path);
            }
        }
        for path in paths {
            let bytes = read_file(source, path).await?;
            let statements = std::str::from_utf8(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|text| parse_objects(text).map_err(|e| e.to_string()))
                .map_err(|reason| RestoreError::ObjectsFile {
                    path: path.to_string(),
                    reason,
                })?;
            for st in statements {
                let object = format!(
                    "{} {} from {path}",
                    st.kind.as_str(),
                    qualified(&db.target, &st.name)
                );
                if drop_existing {
                    if let Some(sql) = drop_object_sql(st.kind, &db.target, &st.name, flavor) {
                        exec_schema(conn, &sql, format!("(dropping) {object}")).await?;
                    }
                }
                let mode = object_sql_mode(st.kind, st.sql_mode.as_deref(), source_flavor);
                if let Some(mode) = mode {
                    let sql = format!("SET SESSION sql_mode = {}", quote_string(mode));
                    exec_schema(conn, &sql, format!("(sql_mode of) {object}")).await?;
                }
                let sql = rename_qualifiers(st.sql.as_bytes(), &plan.renames);
                run_bytes(conn, &sql, object.clone()).await?;
                if mode.is_some() {
                    let sql = format!("SET SESSION sql_mode = {}", quote_string(SESSION_SQL_MODE));
                    exec_schema(conn, &sql, format!("(sql_mode after) {object}")).await?;
                }
                count += 1;
            }
        }
    }
    Ok(count)
}

/// The `sql_mode` to create an object under.
///
/// MySQL and MariaDB store a mode with every trigger, routine and event; the objects file
/// omits an empty one, so an absent mode there means `''` (not the session default).
fn object_sql_mode(kind: ObjectKind, recorded: Option<&str>, source: Flavor) -> Option<&str> {
    match (recorded, kind, source) {
        (Some(mode), _, _) => Some(mode),
        (None, ObjectKind::View, _) | (None, _, Flavor::SingleStore) => None,
        (None, _, Flavor::MySql | Flavor::MariaDb) => Some(""),
    }
}

/// `DROP ... IF EXISTS` for an object about to be re-created (views go with the tables).
fn drop_object_sql(kind: ObjectKind, db: &str, name: &str, flavor: Flavor) -> Option<String> {
    let keyword = match kind {
        ObjectKind::View => return None,
        ObjectKind::Trigger | ObjectKind::Event if !flavor.has_triggers_and_events() => {
            return None
        }
        ObjectKind::Trigger => "TRIGGER",
        ObjectKind::Event => "EVENT",
        ObjectKind::Procedure => "PROCEDURE",
        ObjectKind::Function => "FUNCTION",
    };
    Some(drop_statement(keyword, db, name))
}

/// One data file to load.
struct ChunkJob {
    database: String,
    table: Arc<TableEntry>,
    table_index: usize,
    path: String,
    rows: u64,
}

/// Totals of the data phase.
#[derive(Debug, Default)]
struct LoadTotals {
    rows: u64,
    warnings: u64,
}

/// Shared state of the loading workers.
struct LoadShared {
    queue: Mutex<VecDeque<ChunkJob>>,
    remaining: Vec<AtomicUsize>,
    /// Per table: secondary keys to add once its last chunk is in (taken by that worker).
    deferred_keys: Vec<Mutex<Option<String>>>,
    failed: AtomicBool,
    source: Arc<dyn SnapshotSource>,
    progress: Arc<RestoreProgress>,
    flavor: Flavor,
}

/// Loads every chunk over up to `parallel` connections; the first failure stops the others.
async fn load_all(
    target: &DbTarget,
    source: &Arc<dyn SnapshotSource>,
    flavor: Flavor,
    plan: &RestorePlan,
    deferred_keys: Vec<Option<String>>,
    parallel: usize,
    progress: &Arc<RestoreProgress>,
) -> Result<LoadTotals> {
    let mut jobs = VecDeque::new();
    let mut remaining = Vec::new();
    for db in &plan.databases {
        for t in &db.tables {
            let table = Arc::new(t.clone());
            let index = remaining.len();
            remaining.push(AtomicUsize::new(t.chunks.len()));
            if t.chunks.is_empty() {
                progress.tables_done.fetch_add(1, Ordering::Relaxed);
            }
            for c in &t.chunks {
                jobs.push_back(ChunkJob {
                    database: db.target.clone(),
                    table: table.clone(),
                    table_index: index,
                    path: c.path.clone(),
                    rows: c.rows,
                });
            }
        }
    }
    // Largest chunks first: the connections then finish at about the same time.
    jobs.make_contiguous()
        .sort_by_key(|j| std::cmp::Reverse(j.rows));
    progress
        .chunks_total
        .store(jobs.len() as u64, Ordering::Relaxed);
    let workers = parallel.max(1).min(jobs.len());
    let shared = Arc::new(LoadShared {
        queue: Mutex::new(jobs),
        remaining,
        deferred_keys: deferred_keys.into_iter().map(Mutex::new).collect(),
        failed: AtomicBool::new(false),
        source: source.clone(),
        progress: progress.clone(),
        flavor,
    });
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let shared = shared.clone();
        let target = target.clone();
        set.spawn(async move {
            let res = load_worker(&target, &shared).await;
            if res.is_err() {
                shared.failed.store(true, Ordering::SeqCst);
            }
            res
        });
    }
    let mut totals = LoadTotals::default();
    let mut first_err = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(t)) => {
                totals.rows += t.rows;
                totals.warnings += t.warnings;
            }
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(e) => {
                first_err.get_or_insert(RestoreError::Internal(format!("a load task failed: {e}")));
            }
        }
    }
    match first_err {
        Some(e) => Err(drop_incomplete_tables(target, flavor, plan, &shared.remaining, e).await),
        None => Ok(totals),
    }
}

/// After a failed load (every worker has stopped): drops each table this restore created
/// whose chunks did not all load, so no table is left with part of its rows.
async fn drop_incomplete_tables(
    target: &DbTarget,
    flavor: Flavor,
    plan: &RestorePlan,
    remaining: &[AtomicUsize],
    cause: RestoreError,
) -> RestoreError {
    let tables = plan.databases.iter().flat_map(|d| {
        d.tables
            .iter()
            .map(move |t| (d.target.as_str(), t.name.as_str()))
    });
    let incomplete: Vec<String> = tables
        .zip(remaining)
        .filter(|(_, left)| left.load(Ordering::SeqCst) > 0)
        .map(|((db, table), _)| qualified(db, table))
        .collect();
    if incomplete.is_empty() {
        return cause;
    }
    let dropped = async {
        let mut conn = match target.connect().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot connect to drop the partly restored tables");
                return None;
            }
        };
        // foreign_key_checks = 0: a parent table may be dropped before its children.
        if let Err(e) = run_session_statements(&mut conn, flavor).await {
            tracing::warn!(error = %e, "cannot prepare the session that drops partly restored tables");
            return None;
        }
        for table in &incomplete {
            if let Err(e) = conn
                .query_drop(format!("DROP TABLE IF EXISTS {table}"))
                .await
            {
                tracing::warn!(table = %table, error = %e, "cannot drop a partly restored table");
                return None;
            }
        }
        let _ = conn.disconnect().await;
        Some(())
    }
    .await;
    match dropped {
        Some(()) => {
            tracing::warn!(tables = %incomplete.join(", "), "dropped the tables the failed restore left incomplete");
            RestoreError::Incomplete {
                source: Box::new(cause),
                dropped: incomplete.join(", "),
            }
        }
        None => cause,
    }
}

async fn load_worker(target: &DbTarget, shared: &LoadShared) -> Result<LoadTotals> {
    let mut conn = target.connect().await?;
    run_session_statements(&mut conn, shared.flavor).await?;
    let mut totals = LoadTotals::default();
    while !shared.failed.load(Ordering::SeqCst) {
        let job = shared
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front();
        let Some(job) = job else { break };
        let warnings = load_chunk(&mut conn, shared, &job).await?;
        totals.rows += job.rows;
        totals.warnings += warnings;
        shared.progress.add_rows(job.rows);
        shared.progress.chunks_done.fetch_add(1, Ordering::Relaxed);
        if shared.remaining[job.table_index].fetch_sub(1, Ordering::SeqCst) == 1 {
            if let Err(e) = add_deferred_keys(&mut conn, shared, &job).await {
                // Rows without their keys are not a restored table: count it as incomplete.
                shared.remaining[job.table_index].fetch_add(1, Ordering::SeqCst);
                return Err(e);
            }
            shared.progress.tables_done.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(table = %qualified(&job.database, &job.table.name), "table loaded");
        }
    }
    let _ = conn.disconnect().await;
    Ok(totals)
}

/// Adds the secondary keys held back from a table's `CREATE TABLE`, now that its rows are in.
async fn add_deferred_keys(conn: &mut Conn, shared: &LoadShared, job: &ChunkJob) -> Result<()> {
    let alter = shared.deferred_keys[job.table_index]
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let Some(sql) = alter else { return Ok(()) };
    let table = qualified(&job.database, &job.table.name);
    tracing::debug!(table = %table, "adding secondary keys after loading");
    conn.query_drop(&sql)
        .await
        .map_err(|source| RestoreError::Schema {
            object: format!("the secondary keys of table {table} (added after loading)"),
            source: Box::new(source),
        })
}

/// Loads one chunk (in its own transaction where the flavor allows); returns its warnings.
async fn load_chunk(conn: &mut Conn, shared: &LoadShared, job: &ChunkJob) -> Result<u64> {
    let table = qualified(&job.database, &job.table.name);
    let transactional = shared.flavor != Flavor::SingleStore;
    let load_err = |source: mysql_async::Error| RestoreError::ChunkLoad {
        table: table.clone(),
        path: job.path.clone(),
        hint: load_hint(&source),
        source: Box::new(source),
    };
    if transactional {
        conn.query_drop("START TRANSACTION")
            .await
            .map_err(load_err)?;
    }
    let src = shared.source.clone();
    let path = job.path.clone();
    let open: OpenReader = Box::new(move || src.open(&path));
    let label = job.path.clone();
    let progress = shared.progress.clone();
    conn.set_infile_handler(async move { Ok(infile_stream(open, label, progress)) });
    let sql = load_data_sql(&job.database, &job.table, &job.path);
    let outcome = conn.query_drop(&sql).await;
    let loaded = conn.affected_rows();
    let warnings = u64::from(conn.get_warnings());
    let failure = match outcome {
        Err(e) => Some(load_err(e)),
        Ok(()) if loaded != job.rows => Some(RestoreError::ChunkRows {
            table: table.clone(),
            path: job.path.clone(),
            loaded,
            expected: job.rows,
        }),
        Ok(()) => None,
    };
    if let Some(err) = failure {
        if transactional {
            // Best effort: the connection may be gone; the error below is what matters.
            let _ = conn.query_drop("ROLLBACK").await;
        }
        tracing::error!(table = %table, path = %job.path, error = %err, "chunk load failed");
        return Err(err);
    }
    if transactional {
        conn.query_drop("COMMIT").await.map_err(load_err)?;
    }
    if warnings > 0 {
        tracing::warn!(table = %table, path = %job.path, warnings, "the server raised warnings while loading");
    }
    Ok(warnings)
}

/// Advice for well-known LOAD DATA failures.
fn load_hint(e: &mysql_async::Error) -> &'static str {
    match e {
        mysql_async::Error::Server(se) if matches!(se.code, 1148 | 3948 | 4166) => {
            " (the server refuses LOAD DATA LOCAL: enable it with SET GLOBAL local_infile = 1)"
        }
        _ => "",
    }
}
