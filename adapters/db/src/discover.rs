//! Discovery of databases, tables, columns, keys and secondary objects via `information_schema`.
//!
//! Queries are plain text with quoted literals (no prepared statements), so they run
//! unchanged on MySQL, MariaDB and SingleStore.

use mysql_async::prelude::Queryable;
use mysql_async::{Row, Value};

use crate::conn::{Conn, Error, Result};
use crate::flavor::Flavor;
use crate::manifest::{ColumnEntry, ObjectKind};
use crate::row_format::{encoding_for, quote_string};

/// A base table as discovered (before its data is dumped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// Table name.
    pub name: String,
    /// Storage engine (empty if unknown).
    pub engine: String,
    /// Row estimate from `information_schema.TABLES.TABLE_ROWS` (0 if unknown).
    pub rows_estimate: u64,
    /// Size estimate from `information_schema.TABLES.DATA_LENGTH` (0 if unknown).
    pub bytes_estimate: u64,
    /// Columns in table order.
    pub columns: Vec<ColumnEntry>,
    /// Primary key columns in key order.
    pub primary_key: Vec<String>,
}

impl TableInfo {
    /// The primary key column if the key is a single integer column (usable for range chunks).
    pub fn integer_key(&self) -> Option<&str> {
        integer_key(&self.primary_key, &self.columns)
    }
}

/// The primary key column if the key is a single integer column.
pub fn integer_key<'a>(primary_key: &'a [String], columns: &[ColumnEntry]) -> Option<&'a str> {
    let [only] = primary_key else {
        return None;
    };
    let col = columns.iter().find(|c| &c.name == only)?;
    is_integer_type(&col.data_type).then_some(only.as_str())
}

/// A secondary object (view, trigger, routine, event) by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectName {
    /// Kind.
    pub kind: ObjectKind,
    /// Name.
    pub name: String,
}

/// Everything discovered in one database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseInfo {
    /// Database name.
    pub name: String,
    /// Base tables sorted by name.
    pub tables: Vec<TableInfo>,
    /// Secondary objects sorted by kind, then name.
    pub objects: Vec<ObjectName>,
}

/// True for integer column types (`int(11) unsigned`, `bigint`, ...).
pub fn is_integer_type(column_type: &str) -> bool {
    let base = column_type
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(
        base.as_str(),
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint"
    )
}

/// True when `information_schema.COLUMNS` marks a column generated (not dumped).
pub fn is_generated(extra: &str, generation_expression: &str) -> bool {
    let extra = extra.to_ascii_lowercase();
    extra.contains("generated")
        || extra.contains("persisted")
        || extra.contains("computed")
        || !generation_expression.trim().is_empty()
}

/// SQL listing databases.
pub fn databases_sql() -> &'static str {
    "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME"
}

/// SQL listing tables and views of one database.
pub fn tables_sql(db: &str) -> String {
    format!(
        "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS, DATA_LENGTH FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = {} ORDER BY TABLE_NAME",
        quote_string(db)
    )
}

/// SQL listing columns of one database (SingleStore has no `GENERATION_EXPRESSION`:
/// its computed columns are found in the `SHOW CREATE TABLE` text instead).
pub fn columns_sql(flavor: Flavor, db: &str) -> String {
    let generation = match flavor {
        Flavor::SingleStore => "''",
        Flavor::MySql | Flavor::MariaDb => "GENERATION_EXPRESSION",
    };
    format!(
        "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, EXTRA, {generation} \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {} \
         ORDER BY TABLE_NAME, ORDINAL_POSITION",
        quote_string(db)
    )
}

/// SQL listing primary key columns of one database.
pub fn primary_keys_sql(db: &str) -> String {
    format!(
        "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = {} AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_NAME, SEQ_IN_INDEX",
        quote_string(db)
    )
}

/// SQL listing routines (name, `PROCEDURE`/`FUNCTION`) of one database.
pub fn routines_sql(db: &str) -> String {
    format!(
        "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES \
         WHERE ROUTINE_SCHEMA = {} ORDER BY ROUTINE_NAME",
        quote_string(db)
    )
}

/// SQL listing triggers of one database.
pub fn triggers_sql(db: &str) -> String {
    format!(
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = {} \
         ORDER BY TRIGGER_NAME",
        quote_string(db)
    )
}

/// SQL listing events of one database.
pub fn events_sql(db: &str) -> String {
    format!(
        "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = {} \
         ORDER BY EVENT_NAME",
        quote_string(db)
    )
}

/// Runs a query and collects its rows, naming `what` on failure.
pub(crate) async fn fetch_rows(conn: &mut Conn, sql: &str, what: &str) -> Result<Vec<Row>> {
    conn.query::<Row, _>(sql)
        .await
        .map_err(|e| Error::query(what.to_string(), e))
}

/// A cell as UTF-8 text (`None` for NULL).
pub(crate) fn cell_text(row: &Row, idx: usize, what: &str) -> Result<Option<String>> {
    match row.as_ref(idx) {
        None | Some(Value::NULL) => Ok(None),
        Some(Value::Bytes(b)) => {
            String::from_utf8(b.clone())
                .map(Some)
                .map_err(|_| Error::Unexpected {
                    what: what.to_string(),
                    detail: format!("column {idx} is not UTF-8"),
                })
        }
        Some(other) => Ok(Some(other.as_sql(true).trim_matches('\'').to_string())),
    }
}

/// A cell as text, NULL as empty.
pub(crate) fn cell_string(row: &Row, idx: usize, what: &str) -> Result<String> {
    Ok(cell_text(row, idx, what)?.unwrap_or_default())
}

/// Lists user databases: `wanted` if given (each must exist), else all non-system ones.
pub async fn list_databases(
    conn: &mut Conn,
    flavor: Flavor,
    wanted: Option<&[String]>,
) -> Result<Vec<String>> {
    let what = "listing databases (information_schema.SCHEMATA)";
    let rows = fetch_rows(conn, databases_sql(), what).await?;
    let mut all = Vec::with_capacity(rows.len());
    for row in &rows {
        all.push(cell_string(row, 0, what)?);
    }
    select_databases(flavor, &all, wanted)
}

/// Pure part of [`list_databases`]: filters and validates names.
pub fn select_databases(
    flavor: Flavor,
    all: &[String],
    wanted: Option<&[String]>,
) -> Result<Vec<String>> {
    let mut out: Vec<String> = match wanted {
        Some(wanted) => {
            for w in wanted {
                if !all.contains(w) {
                    return Err(Error::Unexpected {
                        what: "selecting databases to dump".into(),
                        detail: format!(
                            "database `{w}` does not exist on the server; check --databases"
                        ),
                    });
                }
            }
            wanted
                .iter()
                .filter(|w| !w.eq_ignore_ascii_case("information_schema"))
                .cloned()
                .collect()
        }
        None => all
            .iter()
            .filter(|d| !flavor.is_system_database(d))
            .cloned()
            .collect(),
    };
    out.sort();
    out.dedup();
    Ok(out)
}

/// Discovers tables, columns, keys and object names of one database.
pub async fn discover_database(conn: &mut Conn, flavor: Flavor, db: &str) -> Result<DatabaseInfo> {
    let what = format!("listing tables of `{db}` (information_schema.TABLES)");
    let mut tables = Vec::new();
    let mut objects = Vec::new();
    for row in fetch_rows(conn, &tables_sql(db), &what).await? {
        let name = cell_string(&row, 0, &what)?;
        let kind = cell_string(&row, 1, &what)?;
        match kind.as_str() {
            "VIEW" | "SYSTEM VIEW" => objects.push(ObjectName {
                kind: ObjectKind::View,
                name,
            }),
            "BASE TABLE" | "SYSTEM VERSIONED" => tables.push(TableInfo {
                name,
                engine: cell_string(&row, 2, &what)?,
                rows_estimate: cell_string(&row, 3, &what)?.parse().unwrap_or(0),
                bytes_estimate: cell_string(&row, 4, &what)?.parse().unwrap_or(0),
                columns: Vec::new(),
                primary_key: Vec::new(),
            }),
            other => {
                tracing::warn!(database = db, table = %name, kind = other, "skipping table of unsupported type")
            }
        }
    }
    let what = format!("listing columns of `{db}` (information_schema.COLUMNS)");
    for row in fetch_rows(conn, &columns_sql(flavor, db), &what).await? {
        let table = cell_string(&row, 0, &what)?;
        let Some(t) = tables.iter_mut().find(|t| t.name == table) else {
            continue;
        };
        let data_type = cell_string(&row, 2, &what)?;
        let column_type = cell_string(&row, 3, &what)?;
        let generated = is_generated(&cell_string(&row, 4, &what)?, &cell_string(&row, 5, &what)?);
        t.columns.push(ColumnEntry {
            name: cell_string(&row, 1, &what)?,
            encoding: encoding_for(&data_type),
            data_type: if column_type.is_empty() {
                data_type
            } else {
                column_type
            },
            dumped: !generated,
        });
    }
    let what = format!("listing primary keys of `{db}` (information_schema.STATISTICS)");
    for row in fetch_rows(conn, &primary_keys_sql(db), &what).await? {
        let table = cell_string(&row, 0, &what)?;
        if let Some(t) = tables.iter_mut().find(|t| t.name == table) {
            t.primary_key.push(cell_string(&row, 1, &what)?);
        }
    }
    objects.extend(discover_objects(conn, flavor, db).await?);
    objects.sort();
    Ok(DatabaseInfo {
        name: db.to_string(),
        tables,
        objects,
    })
}

/// Routines, triggers and events of one database (views come from the table list).
async fn discover_objects(conn: &mut Conn, flavor: Flavor, db: &str) -> Result<Vec<ObjectName>> {
    let mut out = Vec::new();
    let what = format!("listing routines of `{db}` (information_schema.ROUTINES)");
    for row in fetch_rows(conn, &routines_sql(db), &what).await? {
        let name = cell_string(&row, 0, &what)?;
        let kind = match cell_string(&row, 1, &what)?.to_ascii_uppercase().as_str() {
            "PROCEDURE" => ObjectKind::Procedure,
            _ => ObjectKind::Function,
        };
        out.push(ObjectName { kind, name });
    }
    if !flavor.has_triggers_and_events() {
        return Ok(out);
    }
    let what = format!("listing triggers of `{db}` (information_schema.TRIGGERS)");
    for row in fetch_rows(conn, &triggers_sql(db), &what).await? {
        out.push(ObjectName {
            kind: ObjectKind::Trigger,
            name: cell_string(&row, 0, &what)?,
        });
    }
    let what = format!("listing events of `{db}` (information_schema.EVENTS)");
    for row in fetch_rows(conn, &events_sql(db), &what).await? {
        out.push(ObjectName {
            kind: ObjectKind::Event,
            name: cell_string(&row, 0, &what)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_integer_types() {
        assert!(is_integer_type("int(11) unsigned"));
        assert!(is_integer_type("BIGINT(20)"));
        assert!(!is_integer_type("decimal(10,0)"));
        assert!(!is_integer_type("varchar(10)"));
    }

    #[test]
    fn recognises_generated_columns() {
        assert!(is_generated("VIRTUAL GENERATED", ""));
        assert!(is_generated("STORED GENERATED", ""));
        assert!(is_generated("", "`a` + 1"));
        assert!(is_generated("computed", ""));
        assert!(!is_generated("auto_increment", ""));
        assert!(!is_generated("on update current_timestamp()", ""));
    }

    #[test]
    fn selects_databases() {
        let all: Vec<String> = [
            "cluster",
            "app",
            "memsql",
            "information_schema",
            "b",
            "cluster_77",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            select_databases(Flavor::SingleStore, &all, None).unwrap(),
            vec!["app", "b"]
        );
        let wanted = vec!["b".to_string()];
        assert_eq!(
            select_databases(Flavor::SingleStore, &all, Some(&wanted)).unwrap(),
            vec!["b"]
        );
        let missing = vec!["nope".to_string()];
        let err = select_databases(Flavor::MySql, &all, Some(&missing)).unwrap_err();
        assert!(err.to_string().contains("`nope`"));
    }

    #[test]
    fn integer_key_needs_single_integer_column() {
        let col = |n: &str, t: &str| ColumnEntry {
            name: n.into(),
            data_type: t.into(),
            dumped: true,
            encoding: encoding_for(t),
        };
        let mut t = TableInfo {
            name: "t".into(),
            engine: String::new(),
            rows_estimate: 0,
            bytes_estimate: 0,
            columns: vec![col("id", "bigint(20) unsigned"), col("s", "varchar(3)")],
            primary_key: vec!["id".into()],
        };
        assert_eq!(t.integer_key(), Some("id"));
        t.primary_key.push("s".into());
        assert_eq!(t.integer_key(), None);
        t.primary_key = vec!["s".into()];
        assert_eq!(t.integer_key(), None);
    }

    #[test]
    fn discovery_statements() {
        insta::assert_snapshot!(
            "discovery_sql",
            [
                databases_sql().to_string(),
                tables_sql("it's"),
                columns_sql(Flavor::MariaDb, "d"),
                columns_sql(Flavor::SingleStore, "d"),
                primary_keys_sql("d"),
                routines_sql("d"),
                triggers_sql("d"),
                events_sql("d"),
            ]
            .join("\n")
        );
    }
}
