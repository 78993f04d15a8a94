//! Reading DDL (`SHOW CREATE ...`) and the schema files of a native snapshot.
//!
//! Table and database files hold the server's statement byte for byte plus `;\n`.
//! Objects files (views, triggers, routines, events) hold several statements, each
//! preceded by a header giving its exact length, so bodies containing `;`, `DELIMITER`
//! or anything else never need splitting heuristics:
//!
//! ```text
//! -- cairn:object <kind> <encoded name> length=<bytes>[ sql_mode=<mode>]
//! <statement, exactly <bytes> bytes>
//! <LF>
//! ```

use std::fmt::Write as _;

use crate::conn::{Conn, Error, Result};
use crate::discover::{cell_text, fetch_rows};
use crate::manifest::{decode_segment, encode_segment, ObjectKind};
use crate::row_format::{qualified, quote_ident};

/// Header prefix of every statement in an objects file.
pub const OBJECT_HEADER: &str = "-- cairn:object ";

/// What a `SHOW CREATE` statement is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DdlKind {
    /// `SHOW CREATE DATABASE`.
    Database,
    /// `SHOW CREATE TABLE`.
    Table,
    /// A secondary object.
    Object(ObjectKind),
}

impl DdlKind {
    fn keyword(self) -> &'static str {
        match self {
            DdlKind::Database => "DATABASE",
            DdlKind::Table => "TABLE",
            DdlKind::Object(ObjectKind::View) => "VIEW",
            DdlKind::Object(ObjectKind::Trigger) => "TRIGGER",
            DdlKind::Object(ObjectKind::Procedure) => "PROCEDURE",
            DdlKind::Object(ObjectKind::Function) => "FUNCTION",
            DdlKind::Object(ObjectKind::Event) => "EVENT",
        }
    }

    /// Name of the result column holding the statement.
    pub fn statement_column(self) -> &'static str {
        match self {
            DdlKind::Database => "Create Database",
            DdlKind::Table => "Create Table",
            DdlKind::Object(ObjectKind::View) => "Create View",
            DdlKind::Object(ObjectKind::Trigger) => "SQL Original Statement",
            DdlKind::Object(ObjectKind::Procedure) => "Create Procedure",
            DdlKind::Object(ObjectKind::Function) => "Create Function",
            DdlKind::Object(ObjectKind::Event) => "Create Event",
        }
    }
}

/// The `SHOW CREATE` statement for an object (`name` is ignored for databases).
pub fn show_create_sql(kind: DdlKind, db: &str, name: &str) -> String {
    match kind {
        DdlKind::Database => format!("SHOW CREATE DATABASE {}", quote_ident(db)),
        _ => format!("SHOW CREATE {} {}", kind.keyword(), qualified(db, name)),
    }
}

/// A statement read from the server, with the `sql_mode` it was created under (if reported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ddl {
    /// The statement text, verbatim.
    pub sql: String,
    /// Creation-time `sql_mode` (triggers, routines, events).
    pub sql_mode: Option<String>,
}

/// Runs `SHOW CREATE ...` and returns the statement verbatim.
pub async fn show_create(conn: &mut Conn, kind: DdlKind, db: &str, name: &str) -> Result<Ddl> {
    let sql = show_create_sql(kind, db, name);
    let rows = fetch_rows(conn, &sql, &sql).await?;
    let row = rows.into_iter().next().ok_or_else(|| Error::Unexpected {
        what: sql.clone(),
        detail: "no row returned; was the object dropped during the backup?".into(),
    })?;
    let columns = row.columns_ref();
    let find = |wanted: &str| {
        columns
            .iter()
            .position(|c| c.name_str().eq_ignore_ascii_case(wanted))
    };
    let stmt_idx = find(kind.statement_column()).unwrap_or(1);
    let statement = cell_text(&row, stmt_idx, &sql)?.ok_or_else(|| Error::Unexpected {
        what: sql.clone(),
        detail: "the statement is NULL: the backup user lacks privileges to see its \
                 definition; grant SELECT (and SHOW_ROUTINE / SHOW VIEW) on the database"
            .into(),
    })?;
    let sql_mode = match find("sql_mode") {
        Some(i) => cell_text(&row, i, &sql)?,
        None => None,
    };
    Ok(Ddl {
        sql: statement,
        sql_mode,
    })
}

/// Contents of a `database.sql` or `tables/<t>.sql` file.
pub fn statement_file(ddl: &str) -> String {
    format!("{ddl};\n")
}

/// One statement of an objects file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectStatement {
    /// Kind.
    pub kind: ObjectKind,
    /// Real name.
    pub name: String,
    /// Creation-time `sql_mode`, to set before running the statement.
    pub sql_mode: Option<String>,
    /// The statement, verbatim.
    pub sql: String,
}

/// Renders an objects file (see the module docs).
pub fn render_objects(statements: &[ObjectStatement]) -> String {
    let mut out = String::new();
    for s in statements {
        let _ = write!(
            out,
            "{OBJECT_HEADER}{} {} length={}",
            s.kind.as_str(),
            encode_segment(&s.name),
            s.sql.len()
        );
        if let Some(mode) = s.sql_mode.as_deref().filter(|m| valid_mode(m)) {
            let _ = write!(out, " sql_mode={mode}");
        }
        out.push('\n');
        out.push_str(&s.sql);
        out.push('\n');
    }
    out
}

fn valid_mode(mode: &str) -> bool {
    !mode.is_empty() && !mode.contains(char::is_whitespace)
}

/// Error parsing an objects file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("objects file damaged at byte {offset}: {reason}; the snapshot cannot be restored as is")]
pub struct ObjectsFileError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What was wrong.
    pub reason: String,
}

/// Parses an objects file written by [`render_objects`].
pub fn parse_objects(text: &str) -> Result<Vec<ObjectStatement>, ObjectsFileError> {
    let mut out = Vec::new();
    let mut pos = 0;
    let err = |offset: usize, reason: &str| ObjectsFileError {
        offset,
        reason: reason.to_string(),
    };
    while pos < text.len() {
        let line_end = text[pos..]
            .find('\n')
            .map(|i| pos + i)
            .ok_or_else(|| err(pos, "header line without LF"))?;
        let header = text[pos..line_end]
            .strip_prefix(OBJECT_HEADER)
            .ok_or_else(|| err(pos, "expected `-- cairn:object` header"))?;
        let mut words = header.split(' ');
        let kind = words
            .next()
            .and_then(ObjectKind::parse)
            .ok_or_else(|| err(pos, "unknown object kind"))?;
        let name = words
            .next()
            .and_then(decode_segment)
            .ok_or_else(|| err(pos, "bad object name"))?;
        let mut length = None;
        let mut sql_mode = None;
        for w in words {
            if let Some(v) = w.strip_prefix("length=") {
                length = v.parse::<usize>().ok();
            } else if let Some(v) = w.strip_prefix("sql_mode=") {
                sql_mode = Some(v.to_string());
            }
        }
        let length = length.ok_or_else(|| err(pos, "missing length="))?;
        let start = line_end + 1;
        // The length comes from the snapshot, which may be hostile: no overflow.
        let end = start.saturating_add(length);
        let sql = text
            .get(start..end)
            .ok_or_else(|| err(start, "statement shorter than its length"))?;
        if text.as_bytes().get(end) != Some(&b'\n') {
            return Err(err(end, "missing LF after statement"));
        }
        out.push(ObjectStatement {
            kind,
            name,
            sql_mode,
            sql: sql.to_string(),
        });
        pos = end + 1;
    }
    Ok(out)
}

/// Orders views so that a view comes after the views its text references.
pub fn order_views(mut views: Vec<ObjectStatement>) -> Vec<ObjectStatement> {
    views.sort_by(|a, b| a.name.cmp(&b.name));
    let mut ordered: Vec<ObjectStatement> = Vec::with_capacity(views.len());
    while !views.is_empty() {
        let ready = views.iter().position(|v| {
            !views
                .iter()
                .any(|o| o.name != v.name && v.sql.contains(&quote_ident(&o.name)))
        });
        // A reference cycle cannot exist between views; fall back to name order anyway.
        ordered.push(views.remove(ready.unwrap_or(0)));
    }
    ordered
}

/// Names of SingleStore computed columns (`` `c` as <expr> PERSISTED <type> ``) in a
/// `SHOW CREATE TABLE` text.
pub fn computed_columns(ddl: &str) -> Vec<String> {
    ddl.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("  `")?;
            let (name, after) = split_quoted(rest)?;
            after.starts_with(" as ").then_some(name)
        })
        .collect()
}

/// Splits `name` + rest after an opening backtick, undoubling inner backticks.
fn split_quoted(s: &str) -> Option<(String, &str)> {
    let mut name = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '`' {
            if matches!(chars.peek(), Some((_, '`'))) {
                chars.next();
                name.push('`');
            } else {
                return Some((name, &s[i + 1..]));
            }
        } else {
            name.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stmt(kind: ObjectKind, name: &str, sql: &str) -> ObjectStatement {
        ObjectStatement {
            kind,
            name: name.into(),
            sql_mode: None,
            sql: sql.into(),
        }
    }

    #[test]
    fn objects_file_round_trips() {
        let items = vec![
            ObjectStatement {
                sql_mode: Some("STRICT_TRANS_TABLES,NO_ZERO_DATE".into()),
                ..stmt(
                    ObjectKind::Procedure,
                    "p 1",
                    "CREATE PROCEDURE `p 1`()\nBEGIN\n  SELECT 1;\nEND",
                )
            },
            stmt(ObjectKind::View, "v", "CREATE VIEW `v` AS select 1 AS `1`"),
        ];
        let text = render_objects(&items);
        insta::assert_snapshot!("objects_file", text);
        assert_eq!(parse_objects(&text).unwrap(), items);
    }

    #[test]
    fn objects_file_rejects_damage() {
        let text = render_objects(&[stmt(ObjectKind::View, "v", "CREATE VIEW v AS select 1")]);
        assert!(parse_objects(&text[..text.len() - 3]).is_err());
        assert!(parse_objects("garbage\n").is_err());
    }

    #[test]
    fn show_create_statements() {
        insta::assert_snapshot!(
            "show_create_sql",
            [
                show_create_sql(DdlKind::Database, "d`b", ""),
                show_create_sql(DdlKind::Table, "db", "order"),
                show_create_sql(DdlKind::Object(ObjectKind::View), "db", "v"),
                show_create_sql(DdlKind::Object(ObjectKind::Trigger), "db", "t"),
                show_create_sql(DdlKind::Object(ObjectKind::Procedure), "db", "p"),
                show_create_sql(DdlKind::Object(ObjectKind::Function), "db", "f"),
                show_create_sql(DdlKind::Object(ObjectKind::Event), "db", "e"),
            ]
            .join("\n")
        );
    }

    #[test]
    fn views_follow_their_dependencies() {
        let views = vec![
            stmt(
                ObjectKind::View,
                "a",
                "CREATE VIEW `a` AS select * from `db`.`c`",
            ),
            stmt(ObjectKind::View, "b", "CREATE VIEW `b` AS select 1"),
            stmt(
                ObjectKind::View,
                "c",
                "CREATE VIEW `c` AS select * from `db`.`b`",
            ),
        ];
        let names: Vec<_> = order_views(views).into_iter().map(|v| v.name).collect();
        assert_eq!(names, ["b", "c", "a"]);
    }

    #[test]
    fn finds_singlestore_computed_columns() {
        let ddl = "CREATE TABLE `daily` (\n  `m_sum` decimal(12,2) DEFAULT NULL,\n  `kva` as m_sum/1000/24/.9 PERSISTED decimal(12,2),\n  `$_id` as BSON_NORMALIZE_NO_ARRAY(`_id`) PERSISTED longblob COMMENT 'KAI_AUTO',\n  `w``x` int\n)";
        assert_eq!(computed_columns(ddl), ["kva", "$_id"]);
    }

    proptest! {
        #[test]
        fn objects_file_round_trips_any_text(name in any::<String>(), sql in any::<String>(), mode in proptest::option::of("[A-Z_,]{1,30}")) {
            let items = vec![ObjectStatement { kind: ObjectKind::Trigger, name, sql_mode: mode, sql }];
            prop_assert_eq!(parse_objects(&render_objects(&items)).unwrap(), items);
        }
    }
}
