//! Rendering column values as SQL literals, the way mysqldump writes them.
//!
//! Text as `'...'` with `mysql_real_escape_string` escapes; binary strings and spatial
//! values as `0x<hex>` (mysqldump `--hex-blob`); BIT as `b'<bits>'`; numbers verbatim;
//! NULL as `NULL`. The kind comes from the column type, not the wire metadata, so the
//! output is the same on MySQL, MariaDB and SingleStore.

use mysql_async::Value;

/// How a column's value is written as a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Integer, decimal, floating point, YEAR: the server's text verbatim.
    Number,
    /// BIT(n): `b'1010'`.
    Bit,
    /// Binary strings, blobs and spatial types: `0x...` (`''` when empty).
    Binary,
    /// Everything else (text, dates, ENUM/SET, JSON, VECTOR, GEOGRAPHY WKT): a quoted string.
    Text,
}

/// Chooses the literal kind from a column type such as `int(11) unsigned` or `varbinary(16)`.
pub fn value_kind(column_type: &str) -> ValueKind {
    let base = column_type
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match base.as_str() {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "decimal"
        | "numeric" | "dec" | "fixed" | "float" | "double" | "real" | "year" | "bool"
        | "boolean" => ValueKind::Number,
        "bit" => ValueKind::Bit,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" | "geometry"
        | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" | "geomcollection" | "bson" => ValueKind::Binary,
        _ => ValueKind::Text,
    }
}

/// Appends `bytes` escaped for a single-quoted literal (as `mysql_real_escape_string`).
pub fn escape_string(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        match b {
            0 => out.extend_from_slice(b"\\0"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            b'"' => out.extend_from_slice(b"\\\""),
            0x1a => out.extend_from_slice(b"\\Z"),
            b => out.push(b),
        }
    }
}

/// Appends the literal for one value.
pub fn render_value(kind: ValueKind, value: &Value, out: &mut Vec<u8>) {
    let bytes = match value {
        Value::NULL => return out.extend_from_slice(b"NULL"),
        Value::Bytes(b) => b.as_slice(),
        // The text protocol only yields bytes; other variants come from prepared statements.
        other => return out.extend_from_slice(other.as_sql(false).as_bytes()),
    };
    match kind {
        ValueKind::Number if is_plain_number(bytes) => out.extend_from_slice(bytes),
        ValueKind::Bit => render_bits(bytes, out),
        ValueKind::Binary if bytes.is_empty() => out.extend_from_slice(b"''"),
        ValueKind::Binary => {
            out.extend_from_slice(b"0x");
            out.extend_from_slice(hex::encode_upper(bytes).as_bytes());
        }
        // A number the server printed oddly (inf, nan) is quoted rather than trusted.
        ValueKind::Number | ValueKind::Text => {
            out.push(b'\'');
            escape_string(bytes, out);
            out.push(b'\'');
        }
    }
}

/// Digits, sign, decimal point and exponent only: safe to write unquoted.
fn is_plain_number(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && bytes.iter().any(u8::is_ascii_digit)
}

/// `b'...'` from the raw big-endian bytes of a BIT value, without leading zeros.
fn render_bits(bytes: &[u8], out: &mut Vec<u8>) {
    let bits: String = bytes.iter().map(|b| format!("{b:08b}")).collect();
    let trimmed = bits.trim_start_matches('0');
    out.extend_from_slice(b"b'");
    out.extend_from_slice(if trimmed.is_empty() {
        b"0"
    } else {
        trimmed.as_bytes()
    });
    out.push(b'\'');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lit(kind: ValueKind, v: Value) -> String {
        let mut out = Vec::new();
        render_value(kind, &v, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// Independent reader of a quoted literal produced by `escape_string`.
    fn unescape(lit: &[u8]) -> Vec<u8> {
        let inner = &lit[1..lit.len() - 1];
        let mut out = Vec::new();
        let mut i = 0;
        while i < inner.len() {
            if inner[i] == b'\\' {
                out.push(match inner[i + 1] {
                    b'0' => 0,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b'Z' => 0x1a,
                    c => c,
                });
                i += 2;
            } else {
                out.push(inner[i]);
                i += 1;
            }
        }
        out
    }

    #[test]
    fn renders_each_kind() {
        assert_eq!(value_kind("int(11) unsigned"), ValueKind::Number);
        assert_eq!(value_kind("DECIMAL(65,30)"), ValueKind::Number);
        assert_eq!(value_kind("varbinary(300)"), ValueKind::Binary);
        assert_eq!(value_kind("point"), ValueKind::Binary);
        assert_eq!(value_kind("bit(10)"), ValueKind::Bit);
        assert_eq!(value_kind("vector(4, F32)"), ValueKind::Text);
        assert_eq!(value_kind("enum('a','b')"), ValueKind::Text);
        assert_eq!(lit(ValueKind::Number, Value::NULL), "NULL");
        assert_eq!(
            lit(ValueKind::Number, Value::Bytes(b"-1.5e10".to_vec())),
            "-1.5e10"
        );
        assert_eq!(
            lit(ValueKind::Number, Value::Bytes(b"inf".to_vec())),
            "'inf'"
        );
        assert_eq!(
            lit(ValueKind::Binary, Value::Bytes(vec![0, 0xab])),
            "0x00AB"
        );
        assert_eq!(lit(ValueKind::Binary, Value::Bytes(vec![])), "''");
        assert_eq!(
            lit(ValueKind::Bit, Value::Bytes(vec![0x02, 0xaa])),
            "b'1010101010'"
        );
        assert_eq!(lit(ValueKind::Bit, Value::Bytes(vec![0])), "b'0'");
        assert_eq!(
            lit(
                ValueKind::Text,
                Value::Bytes(b"it's \"q\" \\ \n\r\0\x1a".to_vec())
            ),
            r#"'it\'s \"q\" \\ \n\r\0\Z'"#
        );
        assert_eq!(lit(ValueKind::Number, Value::Int(-3)), "-3");
    }

    proptest! {
        #[test]
        fn text_literals_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut out = Vec::new();
            render_value(ValueKind::Text, &Value::Bytes(bytes.clone()), &mut out);
            prop_assert_eq!(unescape(&out), bytes);
        }

        #[test]
        fn binary_literals_round_trip(bytes in proptest::collection::vec(any::<u8>(), 1..64)) {
            let mut out = Vec::new();
            render_value(ValueKind::Binary, &Value::Bytes(bytes.clone()), &mut out);
            prop_assert_eq!(hex::decode(&out[2..]).unwrap(), bytes);
        }

        #[test]
        fn bit_literals_keep_the_value(v in any::<u64>()) {
            let mut out = Vec::new();
            render_value(ValueKind::Bit, &Value::Bytes(v.to_be_bytes().to_vec()), &mut out);
            let s = String::from_utf8(out).unwrap();
            let bits = s.trim_start_matches("b'").trim_end_matches('\'');
            prop_assert_eq!(u64::from_str_radix(bits, 2).unwrap(), v);
        }
    }
}
