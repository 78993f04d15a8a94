//! The native snapshot manifest (`/manifest.json`) and the paths of every snapshot file.
//!
//! See `docs/format.md`. The manifest carries real names; paths carry names made safe by
//! [`encode_segment`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::checksum::RowDigest;

pub use crate::flavor::{Flavor, ServerInfo};

/// Path of the manifest inside the snapshot.
pub const MANIFEST_PATH: &str = "/manifest.json";

/// Value of [`Manifest::format`] written by this version.
pub const FORMAT: &str = "cairn-native/1";

/// Everything a restore needs to know about a native snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format identifier, `cairn-native/1`.
    pub format: String,
    /// Version of the tool that wrote the snapshot.
    pub tool_version: String,
    /// The source server.
    pub server: ServerInfo,
    /// The consistency actually achieved.
    pub consistency: Consistency,
    /// Digest of the per-row sums in table checksums (absent = SHA-256, the first format).
    #[serde(default)]
    pub row_digest: RowDigest,
    /// Dumped databases, sorted by name.
    pub databases: Vec<DatabaseEntry>,
}

/// How consistent the dumped data is across tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Consistency {
    /// One point in time for all tables (transactional engines), readers in snapshot transactions.
    ConsistentSnapshot,
    /// A global read lock was held for the whole data dump.
    GlobalReadLock,
    /// Each table (chunk) is read on its own; no cross-table guarantee.
    PerTable,
}

/// One database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseEntry {
    /// Real database name.
    pub name: String,
    /// Path of `database.sql` (CREATE DATABASE).
    pub schema_path: String,
    /// Base tables, sorted by name.
    pub tables: Vec<TableEntry>,
    /// Views, triggers, routines, events, in creation order.
    pub objects: Vec<ObjectEntry>,
}

/// Kind of a secondary object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectKind {
    /// `CREATE VIEW`.
    View,
    /// `CREATE TRIGGER`.
    Trigger,
    /// `CREATE PROCEDURE`.
    Procedure,
    /// `CREATE FUNCTION`.
    Function,
    /// `CREATE EVENT`.
    Event,
}

impl ObjectKind {
    /// The lowercase word used in objects files and manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::View => "view",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Function => "function",
            ObjectKind::Event => "event",
        }
    }

    /// Parses [`ObjectKind::as_str`] output.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "view" => ObjectKind::View,
            "trigger" => ObjectKind::Trigger,
            "procedure" => ObjectKind::Procedure,
            "function" => ObjectKind::Function,
            "event" => ObjectKind::Event,
            _ => return None,
        })
    }

    /// The objects file (inside `/schema/<db>/`) holding this kind.
    pub fn file_name(self) -> &'static str {
        match self {
            ObjectKind::View => "views.sql",
            ObjectKind::Trigger => "triggers.sql",
            ObjectKind::Procedure | ObjectKind::Function => "routines.sql",
            ObjectKind::Event => "events.sql",
        }
    }
}

/// A view, trigger, routine or event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectEntry {
    /// Kind.
    pub kind: ObjectKind,
    /// Real name.
    pub name: String,
    /// Objects file that holds its statement.
    pub path: String,
}

/// One base table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    /// Real table name.
    pub name: String,
    /// Path of the `SHOW CREATE TABLE` file.
    pub schema_path: String,
    /// All columns in table order; `dumped` says which appear in the data files.
    pub columns: Vec<ColumnEntry>,
    /// Rows dumped.
    pub rows: u64,
    /// Order-independent checksum of the dumped rows (see `checksum.rs`).
    pub checksum: String,
    /// Data files, in order.
    pub chunks: Vec<ChunkEntry>,
    /// Primary key columns, in key order (empty when the table has none).
    #[serde(default)]
    pub primary_key: Vec<String>,
    /// Storage engine as reported by the server (empty if unknown).
    #[serde(default)]
    pub engine: String,
    /// The power-of-two key step between chunk boundaries, when the table was split; the
    /// next backup keeps it so its ranges, and so its files, stay the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_step: Option<u64>,
}

impl Manifest {
    /// The chunk key step of every split table, by `(database, table)`.
    pub fn key_steps(&self) -> BTreeMap<(String, String), u64> {
        self.databases
            .iter()
            .flat_map(|d| {
                d.tables
                    .iter()
                    .filter_map(move |t| t.key_step.map(|s| ((d.name.clone(), t.name.clone()), s)))
            })
            .collect()
    }
}

impl TableEntry {
    /// Columns present in the data files, in file order.
    pub fn dumped_columns(&self) -> impl Iterator<Item = &ColumnEntry> {
        self.columns.iter().filter(|c| c.dumped)
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnEntry {
    /// Real column name.
    pub name: String,
    /// Full column type (`COLUMN_TYPE`, e.g. `bit(3)`, `decimal(65,30)`).
    pub data_type: String,
    /// False for generated columns, which the server recomputes.
    pub dumped: bool,
    /// How the value is written to and loaded from the data files.
    pub encoding: ColumnEncoding,
}

/// How a column's value is represented in the data files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ColumnEncoding {
    /// The server's text-protocol bytes, unchanged.
    Text,
    /// BIT: selected as its unsigned integer, loaded with `CAST(@v AS UNSIGNED)`.
    BitAsUnsigned,
    /// Spatial and other binary-internal types: selected with `HEX()`, loaded with `UNHEX()`.
    Hex,
}

/// One data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkEntry {
    /// Absolute path inside the snapshot.
    pub path: String,
    /// Rows in this file.
    pub rows: u64,
}

impl Manifest {
    /// Serializes as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Parses a manifest, rejecting unknown formats.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ManifestError> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(ManifestError::Parse)?;
        if m.format != FORMAT {
            return Err(ManifestError::UnknownFormat(m.format));
        }
        Ok(m)
    }
}

/// Errors reading a manifest.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not valid manifest JSON.
    #[error(
        "cannot parse {MANIFEST_PATH}: {0}; the snapshot is damaged or not a cairn native snapshot"
    )]
    Parse(#[source] serde_json::Error),
    /// Written by an incompatible version.
    #[error("{MANIFEST_PATH} has format `{0}`, this cairn reads `{FORMAT}`; restore with a matching cairn version")]
    UnknownFormat(String),
}

/// Makes a name safe as one path segment: bytes outside `[A-Za-z0-9_.$-]`, `%` and a
/// leading `.` become `%XX` (uppercase hex of the UTF-8 bytes). Injective.
pub fn encode_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, b) in name.bytes().enumerate() {
        let plain = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'-' | b'.');
        if plain && !(i == 0 && b == b'.') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Inverse of [`encode_segment`]; `None` if `seg` is not a valid encoding.
pub fn decode_segment(seg: &str) -> Option<String> {
    let bytes = seg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = seg.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `/schema/<db>/database.sql`.
pub fn database_schema_path(db: &str) -> String {
    format!("/schema/{}/database.sql", encode_segment(db))
}

/// `/schema/<db>/tables/<table>.sql`.
pub fn table_schema_path(db: &str, table: &str) -> String {
    format!(
        "/schema/{}/tables/{}.sql",
        encode_segment(db),
        encode_segment(table)
    )
}

/// `/schema/<db>/<views|triggers|routines|events>.sql`.
pub fn objects_path(db: &str, kind: ObjectKind) -> String {
    format!("/schema/{}/{}", encode_segment(db), kind.file_name())
}

/// `/data/<db>/<table>/<NNNNNN>.tsv`, `chunk` counting from 1.
pub fn data_path(db: &str, table: &str, chunk: usize) -> String {
    format!(
        "/data/{}/{}/{:06}.tsv",
        encode_segment(db),
        encode_segment(table),
        chunk
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_unsafe_bytes() {
        assert_eq!(encode_segment("plain_Name-1.x$"), "plain_Name-1.x$");
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
        assert_eq!(encode_segment(".hidden"), "%2Ehidden");
        assert_eq!(encode_segment(".."), "%2E.");
        assert_eq!(encode_segment("100%"), "100%25");
        assert_eq!(encode_segment("é"), "%C3%A9");
        assert_eq!(encode_segment("`x`"), "%60x%60");
    }

    #[test]
    fn paths_have_the_agreed_shape() {
        assert_eq!(
            data_path("shop", "order items", 2),
            "/data/shop/order%20items/000002.tsv"
        );
        assert_eq!(table_schema_path("s", "t"), "/schema/s/tables/t.sql");
        assert_eq!(database_schema_path("s"), "/schema/s/database.sql");
        assert_eq!(
            objects_path("s", ObjectKind::Function),
            "/schema/s/routines.sql"
        );
    }

    #[test]
    fn manifests_without_a_row_digest_are_sha256() {
        let mut json: serde_json::Value = serde_json::from_slice(
            &Manifest {
                format: FORMAT.into(),
                tool_version: "0".into(),
                server: ServerInfo {
                    flavor: Flavor::MariaDb,
                    version: "10".into(),
                },
                consistency: Consistency::PerTable,
                row_digest: RowDigest::Xxh3,
                databases: vec![],
            }
            .to_json(),
        )
        .unwrap();
        assert_eq!(json["row_digest"], "xxh3-64");
        json.as_object_mut().unwrap().remove("row_digest");
        let old = Manifest::from_json(json.to_string().as_bytes()).unwrap();
        assert_eq!(old.row_digest, RowDigest::Sha256);
    }

    #[test]
    fn rejects_unknown_format() {
        let m = Manifest {
            format: "other/9".into(),
            tool_version: "0".into(),
            server: ServerInfo {
                flavor: Flavor::MariaDb,
                version: "10".into(),
            },
            consistency: Consistency::PerTable,
            row_digest: RowDigest::CURRENT,
            databases: vec![],
        };
        assert!(matches!(
            Manifest::from_json(&m.to_json()),
            Err(ManifestError::UnknownFormat(_))
        ));
        let json = String::from_utf8(m.to_json()).unwrap();
        assert!(json.contains("\"per-table\""), "{json}");
    }

    #[test]
    fn manifest_json_shape() {
        let m = Manifest {
            format: FORMAT.into(),
            tool_version: "0.1.0".into(),
            server: ServerInfo {
                flavor: Flavor::SingleStore,
                version: "8.5.32".into(),
            },
            consistency: Consistency::GlobalReadLock,
            row_digest: RowDigest::CURRENT,
            databases: vec![DatabaseEntry {
                name: "app db".into(),
                schema_path: database_schema_path("app db"),
                tables: vec![TableEntry {
                    name: "t".into(),
                    schema_path: table_schema_path("app db", "t"),
                    columns: vec![ColumnEntry {
                        name: "flags".into(),
                        data_type: "bit(3)".into(),
                        dumped: true,
                        encoding: ColumnEncoding::BitAsUnsigned,
                    }],
                    rows: 2,
                    checksum: "00000000000000ff".into(),
                    chunks: vec![ChunkEntry {
                        path: data_path("app db", "t", 1),
                        rows: 2,
                    }],
                    primary_key: vec![],
                    engine: String::new(),
                    key_step: None,
                }],
                objects: vec![ObjectEntry {
                    kind: ObjectKind::Procedure,
                    name: "p".into(),
                    path: objects_path("app db", ObjectKind::Procedure),
                }],
            }],
        };
        let json = String::from_utf8(m.to_json()).unwrap();
        insta::assert_snapshot!("manifest_json", json);
        assert_eq!(Manifest::from_json(json.as_bytes()).unwrap(), m);
    }

    proptest! {
        #[test]
        fn segment_round_trips(name in any::<String>()) {
            let enc = encode_segment(&name);
            prop_assert!(enc.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.$-%".contains(&b)));
            prop_assert!(!enc.starts_with('.'));
            prop_assert_eq!(decode_segment(&enc), Some(name));
        }

        #[test]
        fn segment_is_injective(a in any::<String>(), b in any::<String>()) {
            prop_assume!(a != b);
            prop_assert_ne!(encode_segment(&a), encode_segment(&b));
        }

        #[test]
        fn segment_is_injective_on_near_names(a in "[a.%2E ]{0,6}", b in "[a.%2E ]{0,6}") {
            prop_assume!(a != b);
            prop_assert_ne!(encode_segment(&a), encode_segment(&b));
        }
    }
}
