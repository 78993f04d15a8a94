//! The row format of data files and the SQL that produces and loads it.
//!
//! One row per line (LF), fields separated by TAB, NULL as `\N`; inside values backslash,
//! TAB, LF, CR and NUL are escaped as `\\`, `\t`, `\n`, `\r`, `\0`. This is LOAD DATA's
//! default text format, loaded with [`load_data_sql`].

use std::fmt::Write as _;

use mysql_async::Value;

use crate::manifest::{ColumnEncoding, ColumnEntry, TableEntry};

/// A half-open range on an integer primary key column: `lower <= pk < upper`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    /// Key column.
    pub column: String,
    /// Inclusive lower bound; `None` = unbounded.
    pub lower: Option<i128>,
    /// Exclusive upper bound; `None` = unbounded.
    pub upper: Option<i128>,
}

/// Quotes an identifier with backticks, doubling any backtick inside.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('`');
    for c in name.chars() {
        if c == '`' {
            out.push('`');
        }
        out.push(c);
    }
    out.push('`');
    out
}

/// Quotes a string literal for SQL (single quotes; backslash and quote escaped).
pub fn quote_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `` `db`.`table` ``.
pub fn qualified(db: &str, table: &str) -> String {
    format!("{}.{}", quote_ident(db), quote_ident(table))
}

/// Chooses how a column is encoded from its `DATA_TYPE` (lowercase base type).
pub fn encoding_for(data_type: &str) -> ColumnEncoding {
    let base = data_type
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match base.as_str() {
        "bit" => ColumnEncoding::BitAsUnsigned,
        "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" | "geomcollection" => ColumnEncoding::Hex,
        _ => ColumnEncoding::Text,
    }
}

/// The select-list expression producing a column's file representation.
pub fn select_expr(column: &ColumnEntry) -> String {
    let q = quote_ident(&column.name);
    match column.encoding {
        ColumnEncoding::Text => q,
        ColumnEncoding::BitAsUnsigned => format!("CAST({q} AS UNSIGNED)"),
        ColumnEncoding::Hex => format!("HEX({q})"),
    }
}

/// The SELECT reading a table (or one key range of it) in file column order.
pub fn select_sql(db: &str, table: &TableEntry, range: Option<&KeyRange>) -> String {
    let cols: Vec<String> = table.dumped_columns().map(select_expr).collect();
    let list = if cols.is_empty() {
        // A table whose every column is generated still has rows; keep their count.
        "1".to_string()
    } else {
        cols.join(", ")
    };
    let mut sql = format!("SELECT {list} FROM {}", qualified(db, &table.name));
    if let Some(r) = range {
        let col = quote_ident(&r.column);
        match (r.lower, r.upper) {
            (Some(lo), Some(hi)) => {
                let _ = write!(sql, " WHERE {col} >= {lo} AND {col} < {hi}");
            }
            (Some(lo), None) => {
                let _ = write!(sql, " WHERE {col} >= {lo}");
            }
            (None, Some(hi)) => {
                let _ = write!(sql, " WHERE {col} < {hi}");
            }
            (None, None) => {}
        }
    }
    sql
}

/// The LOAD DATA statement loading one data file of `table` (used verbatim by restore).
pub fn load_data_sql(db: &str, table: &TableEntry, infile_name: &str) -> String {
    let mut targets = Vec::new();
    let mut sets = Vec::new();
    for (i, c) in table.dumped_columns().enumerate() {
        let q = quote_ident(&c.name);
        match c.encoding {
            ColumnEncoding::Text => targets.push(q),
            ColumnEncoding::BitAsUnsigned => {
                let var = format!("@cairn_c{i}");
                sets.push(format!("{q} = CAST({var} AS UNSIGNED)"));
                targets.push(var);
            }
            ColumnEncoding::Hex => {
                let var = format!("@cairn_c{i}");
                sets.push(format!("{q} = UNHEX({var})"));
                targets.push(var);
            }
        }
    }
    if targets.is_empty() {
        // Matches the `SELECT 1` of an all-generated table: read and discard the field.
        targets.push("@cairn_unused".to_string());
    }
    let mut sql = format!(
        "LOAD DATA LOCAL INFILE {} INTO TABLE {} CHARACTER SET binary \
         FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({})",
        quote_string(infile_name),
        qualified(db, &table.name),
        targets.join(", ")
    );
    if !sets.is_empty() {
        let _ = write!(sql, " SET {}", sets.join(", "));
    }
    sql
}

/// Appends one escaped field value (no separator).
pub fn encode_field(value: &[u8], out: &mut Vec<u8>) {
    // Most values hold no special byte: copy runs between escapes, not byte by byte.
    let mut rest = value;
    while let Some(pos) = rest.iter().position(|&b| NEEDS_ESCAPE[usize::from(b)]) {
        out.extend_from_slice(&rest[..pos]);
        out.extend_from_slice(match rest[pos] {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => b"\\0",
        });
        rest = &rest[pos + 1..];
    }
    out.extend_from_slice(rest);
}

/// Bytes [`encode_field`] escapes: backslash, TAB, LF, CR and NUL.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    table[b'\\' as usize] = true;
    table[b'\t' as usize] = true;
    table[b'\n' as usize] = true;
    table[b'\r' as usize] = true;
    table[0] = true;
    table
};

pub fn encode_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::NULL => out.extend_from_slice(b"\\N"),
        Value::Bytes(b) => encode_field(b, out),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::UInt(u) => out.extend_from_slice(u.to_string().as_bytes()),
        Value::Float(f) => out.extend_from_slice(f.to_string().as_bytes()),
        Value::Double(d) => out.extend_from_slice(d.to_string().as_bytes()),
        // Binary-protocol temporal values: render as the text protocol would.
        other => encode_field(other.as_sql(true).trim_matches('\'').as_bytes(), out),
    }
}

/// Appends one row as a line, without the terminating LF (the checksum covers these bytes).
pub fn encode_row(values: &[Value], out: &mut Vec<u8>) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        encode_value(v, out);
    }
}

/// Error decoding a line of a data file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A backslash at the end of the line.
    #[error("dangling backslash at byte {0}; the data file is damaged")]
    DanglingEscape(usize),
}

/// Decodes one line (without LF) into fields; `None` is SQL NULL.
pub fn decode_line(line: &[u8]) -> Result<Vec<Option<Vec<u8>>>, DecodeError> {
    let mut fields = Vec::new();
    for raw in line.split(|&b| b == b'\t') {
        if raw == b"\\N" {
            fields.push(None);
            continue;
        }
        let mut v = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'\\' {
                let next = *raw.get(i + 1).ok_or(DecodeError::DanglingEscape(i))?;
                v.push(match next {
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b'0' => 0,
                    b'b' => 8,
                    b'Z' => 26,
                    other => other,
                });
                i += 2;
            } else {
                v.push(raw[i]);
                i += 1;
            }
        }
        fields.push(Some(v));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn col(name: &str, ty: &str, dumped: bool) -> ColumnEntry {
        ColumnEntry {
            name: name.into(),
            data_type: ty.into(),
            dumped,
            encoding: encoding_for(ty),
        }
    }

    fn table() -> TableEntry {
        TableEntry {
            name: "we`ird table".into(),
            schema_path: String::new(),
            columns: vec![
                col("id", "bigint(20)", true),
                col("flags", "bit(3)", true),
                col("g", "geometry", true),
                col("total", "int(11)", false),
                col("select", "varchar(10)", true),
            ],
            rows: 0,
            checksum: String::new(),
            chunks: vec![],
            primary_key: vec!["id".into()],
            engine: String::new(),
            key_step: None,
        }
    }

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote_ident("a`b"), "`a``b`");
        assert_eq!(quote_string("it's \\ x"), "'it''s \\\\ x'");
    }

    #[test]
    fn select_statements() {
        let t = table();
        insta::assert_snapshot!("select_full", select_sql("db 1", &t, None));
        let r = KeyRange {
            column: "id".into(),
            lower: Some(-5),
            upper: Some(100),
        };
        insta::assert_snapshot!("select_range", select_sql("db 1", &t, Some(&r)));
    }

    #[test]
    fn load_data_statement() {
        insta::assert_snapshot!("load_data", load_data_sql("db 1", &table(), "000001.tsv"));
    }

    #[test]
    fn encodes_special_values() {
        let mut out = Vec::new();
        encode_row(
            &[
                Value::NULL,
                Value::Bytes(b"".to_vec()),
                Value::Bytes(b"a\tb\nc\\d\re\0f".to_vec()),
                Value::Bytes(b"\\N".to_vec()),
            ],
            &mut out,
        );
        assert_eq!(out, b"\\N\t\ta\\tb\\nc\\\\d\\re\\0f\t\\\\N".to_vec());
        let back = decode_line(&out).unwrap();
        assert_eq!(back[0], None);
        assert_eq!(back[1], Some(vec![]));
        assert_eq!(back[3], Some(b"\\N".to_vec()));
    }

    proptest! {
        #[test]
        fn row_round_trips(row in prop::collection::vec(prop::option::of(prop::collection::vec(any::<u8>(), 0..40)), 1..8)) {
            let values: Vec<Value> = row.iter().map(|v| match v {
                None => Value::NULL,
                Some(b) => Value::Bytes(b.clone()),
            }).collect();
            let mut line = Vec::new();
            encode_row(&values, &mut line);
            prop_assert!(!line.contains(&b'\n'));
            prop_assert_eq!(decode_line(&line).unwrap(), row);
        }
    }
}
