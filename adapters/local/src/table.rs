//! Tables as `kubectl get` prints them: NAME (and NAMESPACE when listing several
//! namespaces) plus the CRD's printer columns; dates as ages; `-o wide` adds the
//! columns with a priority.

use cairn_core::world::ObjectKey;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::manifest_kind::ManifestKind;
use crate::table_age::age;

/// One printer column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// Header as declared (`Deletion-Policy`); printed uppercase.
    pub name: String,
    /// Simple JSONPath (`.status.phase`).
    pub json_path: String,
    /// `string`, `boolean`, `integer`, `number` or `date`.
    pub type_: String,
    /// 0 = always shown; higher only with `-o wide`.
    pub priority: i32,
}

/// The printer columns of `kind` (from its CRD; fixed for Secret and Namespace).
pub fn columns(kind: ManifestKind) -> Vec<Column> {
    let fixed = |cols: &[(&str, &str, &str)]| {
        cols.iter()
            .map(|(name, path, type_)| Column {
                name: (*name).to_owned(),
                json_path: (*path).to_owned(),
                type_: (*type_).to_owned(),
                priority: 0,
            })
            .collect()
    };
    match kind {
        ManifestKind::Api(k) => cairn_core::crd::crd_for(k)
            .spec
            .versions
            .first()
            .and_then(|v| v.additional_printer_columns.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|c| Column {
                name: c.name,
                json_path: c.json_path,
                type_: c.type_,
                priority: c.priority.unwrap_or(0),
            })
            .collect(),
        ManifestKind::Secret => fixed(&[
            ("Type", ".type", "string"),
            ("Data", ".data", "count"),
            ("Age", ".metadata.creationTimestamp", "date"),
        ]),
        ManifestKind::Namespace => fixed(&[("Age", ".metadata.creationTimestamp", "date")]),
    }
}

/// Evaluates a simple dotted JSONPath (`.a.b`, `.a[0].b`) against `value`.
pub fn json_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = value;
    for part in path
        .trim_start_matches('.')
        .split('.')
        .filter(|p| !p.is_empty())
    {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        if !key.is_empty() {
            node = node.get(key)?;
        }
        if let Some(i) = index {
            node = node.get(i)?;
        }
    }
    Some(node)
}

/// A cell's text for `column` of `object`.
pub fn cell(object: &Value, column: &Column, now: DateTime<Utc>) -> String {
    let Some(v) = json_path(object, &column.json_path) else {
        return String::new();
    };
    match (column.type_.as_str(), v) {
        ("date", Value::String(s)) => s
            .parse::<DateTime<Utc>>()
            .map_or_else(|_| s.clone(), |t| age(t, now)),
        ("count", Value::Object(m)) => m.len().to_string(),
        ("count", Value::Array(a)) => a.len().to_string(),
        (_, Value::String(s)) => s.clone(),
        (_, Value::Null) => String::new(),
        (_, other) => other.to_string(),
    }
}

/// Renders rows of `(key, object)` of `kind` as an aligned table.
pub fn render(
    kind: ManifestKind,
    rows: &[(&ObjectKey, &Value)],
    wide: bool,
    show_namespace: bool,
    now: DateTime<Utc>,
) -> String {
    let columns: Vec<Column> = columns(kind)
        .into_iter()
        .filter(|c| wide || c.priority == 0)
        .collect();
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut header = Vec::new();
    if show_namespace {
        header.push("NAMESPACE".to_owned());
    }
    header.push("NAME".to_owned());
    header.extend(columns.iter().map(|c| c.name.to_uppercase()));
    table.push(header);
    for (key, object) in rows {
        let mut row = Vec::new();
        if show_namespace {
            row.push(key.namespace.clone());
        }
        row.push(key.name.clone());
        row.extend(columns.iter().map(|c| cell(object, c, now)));
        table.push(row);
    }
    align(&table)
}

/// Left-aligned columns separated by three spaces, as kubectl's tabwriter does.
pub fn align(table: &[Vec<String>]) -> String {
    let width = table.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..width)
        .map(|i| {
            table
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in table {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] - cell.chars().count() + 3;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
