//! `cairn get KIND [NAME]`: stored objects as a table with the CRD's printer columns,
//! or as YAML/JSON. Secret values are never printed.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::manifest_kind::ManifestKind;
use crate::store::StateDir;
use crate::table;
use crate::table_select::{redact, select, ViewError};

/// Output format of `cairn get`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Printer columns.
    #[default]
    Table,
    /// Printer columns including the low-priority ones.
    Wide,
    /// The stored objects as YAML.
    Yaml,
    /// The stored objects as JSON.
    Json,
}

/// What to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetQuery {
    /// The kind.
    pub kind: ManifestKind,
    /// One object (`name` or `namespace/name`), or all.
    pub name: Option<String>,
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Output format.
    pub output: OutputFormat,
}

/// Renders the view; `now` is the reference for ages.
pub fn get(state: &StateDir, query: &GetQuery, now: DateTime<Utc>) -> Result<String, ViewError> {
    let rows = select(
        state,
        query.kind,
        query.name.as_deref(),
        query.namespace.as_deref(),
    )?;
    let redacted: Vec<Value> = rows.iter().map(|(_, v)| redact(query.kind, v)).collect();
    let document = match (&query.name, redacted.as_slice()) {
        (Some(_), [one]) => one.clone(),
        _ => json!({"apiVersion": "v1", "kind": "List", "items": redacted}),
    };
    Ok(match query.output {
        OutputFormat::Yaml => serde_yaml::to_string(&document).unwrap_or_default(),
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
            text.push('\n');
            text
        }
        OutputFormat::Table | OutputFormat::Wide => {
            if rows.is_empty() {
                let scope = query.namespace.as_deref().map_or_else(
                    || "the state directory".to_owned(),
                    |ns| format!("namespace {ns}"),
                );
                return Ok(format!("No {} found in {scope}.\n", query.kind.plural()));
            }
            let show_namespace = query.kind.namespaced() && query.namespace.is_none();
            let cells: Vec<_> = rows.iter().map(|(k, _)| *k).zip(redacted.iter()).collect();
            table::render(
                query.kind,
                &cells,
                query.output == OutputFormat::Wide,
                show_namespace,
                now,
            )
        }
    })
}
