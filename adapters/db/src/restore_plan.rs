//! What a native restore will do, decided purely from the manifest and the options.
//!
//! Filters: `databases` names source databases; `tables` entries are `db.table` or `table`
//! (a bare table name matches in every selected database). With a table filter, secondary
//! objects (views, triggers, routines, events) are not restored: they may depend on tables
//! that are left out. Renames map a source database to a target name; every name a filter
//! mentions must exist in the snapshot, so a typo fails instead of restoring nothing.

use std::collections::{BTreeMap, BTreeSet};

use crate::flavor::Flavor;
use crate::manifest::{Manifest, ObjectEntry, TableEntry, MANIFEST_PATH};
use crate::row_format::{qualified, quote_ident};

/// What to restore and how (the `cairn restore` flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Source databases to restore (`None` = all in the snapshot).
    pub databases: Option<Vec<String>>,
    /// Tables to restore, `db.table` or `table` (`None` = all).
    pub tables: Option<Vec<String>>,
    /// `--rename-database OLD:NEW` pairs.
    pub rename: Vec<(String, String)>,
    /// Connections loading data at the same time.
    pub parallel: usize,
    /// Drop target tables (and views, triggers, routines, events) that already exist.
    pub drop_existing: bool,
    /// Re-read restored tables and compare row counts and checksums with the snapshot.
    pub verify: bool,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        RestoreOptions {
            databases: None,
            tables: None,
            rename: Vec::new(),
            parallel: 4,
            drop_existing: false,
            verify: false,
        }
    }
}

impl RestoreOptions {
    /// The rename pairs as a map from source to target name.
    pub fn rename_map(&self) -> BTreeMap<String, String> {
        self.rename.iter().cloned().collect()
    }
}

/// A filter or rename that does not fit the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// `--databases` names a database the snapshot does not hold.
    #[error("database `{name}` is not in the snapshot (it holds: {available}); check --databases")]
    UnknownDatabase {
        /// Requested name.
        name: String,
        /// Databases in the snapshot.
        available: String,
    },
    /// `--tables` names a table that no selected database holds.
    #[error("table `{name}` is not in the selected databases of the snapshot; check --tables (use db.table or table)")]
    UnknownTable {
        /// Requested name.
        name: String,
    },
    /// `--rename-database` names a source database that is not restored.
    #[error(
        "--rename-database {from}:{to}: `{from}` is not among the restored databases ({available})"
    )]
    UnknownRename {
        /// Source name.
        from: String,
        /// Target name.
        to: String,
        /// Databases being restored.
        available: String,
    },
    /// Two databases would be restored into the same target.
    #[error("two databases would be restored into `{target}`; check --rename-database")]
    DuplicateTarget {
        /// Target name.
        target: String,
    },
    /// A database would be restored into a system database (`mysql`, `sys`, ...).
    #[error("database {database:?} of the snapshot would be restored into {target:?}, a system database of {flavor}; cairn never restores into system databases: leave it out with --databases, or restore it under another name with --rename-database {database}:NEW")]
    SystemDatabase {
        /// Name in the snapshot.
        database: String,
        /// Target name.
        target: String,
        /// Flavor whose system database it is.
        flavor: &'static str,
    },
    /// The manifest is not one cairn writes: a hostile or damaged snapshot.
    #[error("{MANIFEST_PATH} {problem}; the snapshot is damaged or was not written by cairn")]
    DamagedManifest {
        /// What is wrong, naming the database, table or file.
        problem: String,
    },
}

/// One database to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDatabase {
    /// Name in the snapshot.
    pub source: String,
    /// Name on the target server (after renames).
    pub target: String,
    /// Path of its `database.sql`.
    pub schema_path: String,
    /// Tables to create and load.
    pub tables: Vec<TableEntry>,
    /// Secondary objects to create after the data (empty when a table filter is set).
    pub objects: Vec<ObjectEntry>,
}

/// Everything a native restore will create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestorePlan {
    /// Databases in manifest order.
    pub databases: Vec<PlannedDatabase>,
    /// Source → target names of renamed databases.
    pub renames: BTreeMap<String, String>,
}

impl RestorePlan {
    /// Number of tables to load.
    pub fn table_count(&self) -> usize {
        self.databases.iter().map(|d| d.tables.len()).sum()
    }

    /// Rows the manifest says will be loaded.
    pub fn row_count(&self) -> u64 {
        self.databases
            .iter()
            .flat_map(|d| &d.tables)
            // Saturating: the counts come from the snapshot, which may be hostile.
            .fold(0u64, |sum, t| sum.saturating_add(t.rows))
    }
}

/// Applies filters and renames to a manifest.
pub fn plan_restore(manifest: &Manifest, opts: &RestoreOptions) -> Result<RestorePlan, PlanError> {
    check_manifest(manifest)?;
    let all: Vec<&str> = manifest.databases.iter().map(|d| d.name.as_str()).collect();
    let listing = |names: &[&str]| names.join(", ");
    let selected_dbs: BTreeSet<&str> = match &opts.databases {
        None => all.iter().copied().collect(),
        Some(wanted) => {
            for w in wanted {
                if !all.contains(&w.as_str()) {
                    return Err(PlanError::UnknownDatabase {
                        name: w.clone(),
                        available: listing(&all),
                    });
                }
            }
            wanted.iter().map(String::as_str).collect()
        }
    };
    let table_filter = match &opts.tables {
        None => None,
        Some(wanted) => Some(resolve_tables(manifest, &selected_dbs, wanted)?),
    };
    let renames = opts.rename_map();
    let mut databases = Vec::new();
    for db in manifest
        .databases
        .iter()
        .filter(|d| selected_dbs.contains(d.name.as_str()))
    {
        let tables: Vec<TableEntry> = db
            .tables
            .iter()
            .filter(|t| {
                table_filter
                    .as_ref()
                    .is_none_or(|f| f.contains(&(db.name.clone(), t.name.clone())))
            })
            .cloned()
            .collect();
        if table_filter.is_some() && tables.is_empty() {
            continue;
        }
        databases.push(PlannedDatabase {
            source: db.name.clone(),
            target: renames.get(&db.name).unwrap_or(&db.name).clone(),
            schema_path: db.schema_path.clone(),
            tables,
            objects: if table_filter.is_some() {
                Vec::new()
            } else {
                db.objects.clone()
            },
        });
    }
    check_renames(&databases, &renames)?;
    let plan = RestorePlan { databases, renames };
    refuse_system_targets(&plan, manifest.server.flavor)?;
    Ok(plan)
}

/// Refuses a plan that writes into a system database of `flavor`. [`plan_restore`]
/// checks the snapshot's flavor; the restore checks again with the target server's,
/// whose system databases may differ (`memsql` on SingleStore, `sys` on MySQL).
pub fn refuse_system_targets(plan: &RestorePlan, flavor: Flavor) -> Result<(), PlanError> {
    match plan
        .databases
        .iter()
        .find(|d| flavor.is_system_database(&d.target))
    {
        Some(d) => Err(PlanError::SystemDatabase {
            database: d.source.clone(),
            target: d.target.clone(),
            flavor: match flavor {
                Flavor::MySql => "MySQL",
                Flavor::MariaDb => "MariaDB",
                Flavor::SingleStore => "SingleStore",
            },
        }),
        None => Ok(()),
    }
}

/// Structural checks of a manifest read from a snapshot, which may be hostile: every
/// path a plain absolute snapshot path (reads go through the snapshot's tree, so `..`
/// cannot leave it, but such a manifest was not written by cairn and is refused rather
/// than guessed at), no database or table listed twice (it would be created and loaded
/// twice).
fn check_manifest(manifest: &Manifest) -> Result<(), PlanError> {
    let damaged = |problem: String| Err(PlanError::DamagedManifest { problem });
    let mut dbs = BTreeSet::new();
    for db in &manifest.databases {
        if !dbs.insert(db.name.as_str()) {
            return damaged(format!("lists database {:?} twice", db.name));
        }
        let mut tables = BTreeSet::new();
        for t in &db.tables {
            if !tables.insert(t.name.as_str()) {
                return damaged(format!(
                    "lists table {:?} of database {:?} twice",
                    t.name, db.name
                ));
            }
        }
        let paths = std::iter::once(&db.schema_path)
            .chain(db.tables.iter().map(|t| &t.schema_path))
            .chain(
                db.tables
                    .iter()
                    .flat_map(|t| t.chunks.iter().map(|c| &c.path)),
            )
            .chain(db.objects.iter().map(|o| &o.path));
        if let Some(bad) = paths.into_iter().find(|p| !is_snapshot_path(p)) {
            return damaged(format!(
                "names the file {bad:?} in database {:?}: not a plain absolute path inside \
                 the snapshot (it must start with `/` and have no empty, `.` or `..` segment)",
                db.name
            ));
        }
    }
    Ok(())
}

/// `/a/b/c`: absolute, no empty, `.` or `..` segments, no NUL.
fn is_snapshot_path(path: &str) -> bool {
    path.strip_prefix('/').is_some_and(|rest| {
        !path.contains('\0') && rest.split('/').all(|s| !matches!(s, "" | "." | ".."))
    })
}

/// Resolves `db.table` / `table` filter entries to (database, table) pairs.
fn resolve_tables(
    manifest: &Manifest,
    dbs: &BTreeSet<&str>,
    wanted: &[String],
) -> Result<BTreeSet<(String, String)>, PlanError> {
    let mut out = BTreeSet::new();
    for w in wanted {
        let mut found = false;
        for db in manifest
            .databases
            .iter()
            .filter(|d| dbs.contains(d.name.as_str()))
        {
            for t in &db.tables {
                let qualified_match = w
                    .strip_prefix(db.name.as_str())
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|name| name == t.name);
                if qualified_match || *w == t.name {
                    out.insert((db.name.clone(), t.name.clone()));
                    found = true;
                }
            }
        }
        if !found {
            return Err(PlanError::UnknownTable { name: w.clone() });
        }
    }
    Ok(out)
}

fn check_renames(
    databases: &[PlannedDatabase],
    renames: &BTreeMap<String, String>,
) -> Result<(), PlanError> {
    for (from, to) in renames {
        if !databases.iter().any(|d| &d.source == from) {
            return Err(PlanError::UnknownRename {
                from: from.clone(),
                to: to.clone(),
                available: databases
                    .iter()
                    .map(|d| d.source.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let mut targets = BTreeSet::new();
    for d in databases {
        if !targets.insert(d.target.as_str()) {
            return Err(PlanError::DuplicateTarget {
                target: d.target.clone(),
            });
        }
    }
    Ok(())
}

/// Session statements for every connection that creates or loads tables.
pub fn session_statements(flavor: Flavor) -> Vec<String> {
    match flavor {
        // SingleStore has no foreign keys; UNIQUE_CHECKS only produces warnings there.
        Flavor::SingleStore => Vec::new(),
        // MariaDB (10.6+) turns both checks off into its bulk-load path for empty tables,
        // which sorts through temporary files: measured 1.7x the server CPU of a plain
        // LOAD DATA of rows already in key order. Unique checks stay on there.
        Flavor::MariaDb => vec!["SET SESSION foreign_key_checks = 0".to_string()],
        Flavor::MySql => vec![
            "SET SESSION foreign_key_checks = 0".to_string(),
            "SET SESSION unique_checks = 0".to_string(),
        ],
    }
}

/// Statements run after all data is loaded, for `(target database, table)` pairs whose
/// definition has an AUTO_INCREMENT column.
///
/// SingleStore does not advance a sharded table's counter when explicit ids are loaded, so
/// the counter is synchronised on every aggregator (singlestore.md §5).
pub fn post_load_statements(
    flavor: Flavor,
    auto_increment_tables: &[(String, String)],
) -> Vec<String> {
    match flavor {
        Flavor::SingleStore => auto_increment_tables
            .iter()
            .map(|(db, t)| format!("AGGREGATOR SYNC AUTO_INCREMENT ON {} ALL", qualified(db, t)))
            .collect(),
        Flavor::MySql | Flavor::MariaDb => Vec::new(),
    }
}

/// `DROP ... IF EXISTS` for an existing object of `kind` (`TABLE`, `VIEW`, `TRIGGER`...).
pub fn drop_statement(kind: &str, db: &str, name: &str) -> String {
    format!(
        "DROP {kind} IF EXISTS {}.{}",
        quote_ident(db),
        quote_ident(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{ChunkEntry, Consistency, DatabaseEntry, ObjectKind, ServerInfo, FORMAT};

    fn table(name: &str) -> TableEntry {
        TableEntry {
            name: name.into(),
            schema_path: format!("/schema/x/tables/{name}.sql"),
            columns: vec![],
            rows: 2,
            checksum: "0".repeat(16),
            chunks: vec![ChunkEntry {
                path: format!("/data/x/{name}/000001.tsv"),
                rows: 2,
            }],
            primary_key: vec![],
            engine: String::new(),
            key_step: None,
        }
    }

    fn manifest() -> Manifest {
        let db = |name: &str, tables: &[&str]| DatabaseEntry {
            name: name.into(),
            schema_path: format!("/schema/{name}/database.sql"),
            tables: tables.iter().map(|t| table(t)).collect(),
            objects: vec![ObjectEntry {
                kind: ObjectKind::View,
                name: "v".into(),
                path: format!("/schema/{name}/views.sql"),
            }],
        };
        Manifest {
            format: FORMAT.into(),
            tool_version: "0".into(),
            server: ServerInfo {
                flavor: Flavor::MariaDb,
                version: "10.11".into(),
            },
            consistency: Consistency::ConsistentSnapshot,
            row_digest: Default::default(),
            databases: vec![
                db("shop", &["orders", "users"]),
                db("crm", &["users", "notes"]),
            ],
        }
    }

    fn names(plan: &RestorePlan) -> Vec<String> {
        plan.databases
            .iter()
            .flat_map(|d| {
                d.tables
                    .iter()
                    .map(move |t| format!("{}->{}.{}", d.source, d.target, t.name))
            })
            .collect()
    }

    #[test]
    fn restores_everything_by_default() {
        let plan = plan_restore(&manifest(), &RestoreOptions::default()).unwrap();
        assert_eq!(plan.table_count(), 4);
        assert_eq!(plan.row_count(), 8);
        assert!(plan.databases.iter().all(|d| d.objects.len() == 1));
    }

    #[test]
    fn filters_databases_and_tables() {
        let opts = RestoreOptions {
            databases: Some(vec!["shop".into()]),
            tables: Some(vec!["users".into()]),
            ..Default::default()
        };
        let plan = plan_restore(&manifest(), &opts).unwrap();
        assert_eq!(names(&plan), ["shop->shop.users"]);
        assert!(plan.databases[0].objects.is_empty());
        let opts = RestoreOptions {
            tables: Some(vec!["crm.users".into(), "orders".into()]),
            ..Default::default()
        };
        let plan = plan_restore(&manifest(), &opts).unwrap();
        assert_eq!(names(&plan), ["shop->shop.orders", "crm->crm.users"]);
    }

    #[test]
    fn renames_targets() {
        let opts = RestoreOptions {
            rename: vec![("shop".into(), "shop_copy".into())],
            databases: Some(vec!["shop".into()]),
            ..Default::default()
        };
        let plan = plan_restore(&manifest(), &opts).unwrap();
        assert_eq!(plan.databases[0].target, "shop_copy");
    }

    #[test]
    fn rejects_unknown_names_and_collisions() {
        let bad_db = RestoreOptions {
            databases: Some(vec!["nope".into()]),
            ..Default::default()
        };
        let err = plan_restore(&manifest(), &bad_db).unwrap_err();
        assert_eq!(
            err.to_string(),
            "database `nope` is not in the snapshot (it holds: shop, crm); check --databases"
        );
        let bad_table = RestoreOptions {
            tables: Some(vec!["shop.notes".into()]),
            ..Default::default()
        };
        assert!(matches!(
            plan_restore(&manifest(), &bad_table),
            Err(PlanError::UnknownTable { .. })
        ));
        let collide = RestoreOptions {
            rename: vec![("shop".into(), "crm".into())],
            ..Default::default()
        };
        assert!(matches!(
            plan_restore(&manifest(), &collide),
            Err(PlanError::DuplicateTarget { .. })
        ));
        let stray = RestoreOptions {
            rename: vec![("nope".into(), "x".into())],
            ..Default::default()
        };
        assert!(matches!(
            plan_restore(&manifest(), &stray),
            Err(PlanError::UnknownRename { .. })
        ));
    }

    #[test]
    fn singlestore_post_load_statements() {
        let tables = vec![
            ("shop".to_string(), "orders".to_string()),
            ("we`ird".to_string(), "t".to_string()),
        ];
        insta::assert_yaml_snapshot!(
            "singlestore_post_load",
            post_load_statements(Flavor::SingleStore, &tables)
        );
        assert!(post_load_statements(Flavor::MariaDb, &tables).is_empty());
        insta::assert_yaml_snapshot!("mysql_session", session_statements(Flavor::MySql));
        assert!(session_statements(Flavor::SingleStore).is_empty());
        // Unique checks stay on for MariaDB: see session_statements.
        assert_eq!(
            session_statements(Flavor::MariaDb),
            vec!["SET SESSION foreign_key_checks = 0"]
        );
    }
}
