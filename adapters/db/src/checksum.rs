//! Order-independent table checksum over encoded rows.
//!
//! Per row: SHA-256 of the encoded line (without LF), first 8 bytes as little-endian u64;
//! the table digest is the wrapping sum, so chunks can be summed in any order and a
//! restored table re-read in any order gives the same value.

use std::fmt;

use mysql_async::prelude::Queryable;
use mysql_async::Row;
use sha2::{Digest, Sha256};

use crate::conn::{Conn, Error, Result};
use crate::manifest::TableEntry;
use crate::row_format::{encode_row, qualified, select_sql, KeyRange};

/// Row count and wrapping sum of row digests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TableChecksum {
    /// Rows seen.
    pub rows: u64,
    /// Wrapping sum of per-row digests.
    pub sum: u64,
}

impl TableChecksum {
    /// Digest of one encoded row line (without LF).
    pub fn row_digest(line: &[u8]) -> u64 {
        let h = Sha256::digest(line);
        let mut first = [0u8; 8];
        first.copy_from_slice(&h[..8]);
        u64::from_le_bytes(first)
    }

    /// Adds one encoded row line (without LF).
    pub fn add_line(&mut self, line: &[u8]) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(Self::row_digest(line));
    }

    /// Adds another partial checksum (e.g. of another chunk).
    pub fn merge(&mut self, other: TableChecksum) {
        self.rows += other.rows;
        self.sum = self.sum.wrapping_add(other.sum);
    }

    /// Parses the [`Display`](fmt::Display) form (16 hex digits) back into a sum.
    pub fn parse_sum(hex: &str) -> Option<u64> {
        (hex.len() == 16)
            .then(|| u64::from_str_radix(hex, 16).ok())
            .flatten()
    }
}

impl fmt::Display for TableChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.sum)
    }
}

/// Re-reads a table with the dump's SELECT and encoding and returns its checksum.
pub async fn table_checksum(
    conn: &mut Conn,
    db: &str,
    table: &TableEntry,
) -> Result<TableChecksum> {
    range_checksum(conn, db, table, None).await
}

/// Checksum of the rows of `table` inside `range` (the whole table for `None`).
pub async fn range_checksum(
    conn: &mut Conn,
    db: &str,
    table: &TableEntry,
    range: Option<&KeyRange>,
) -> Result<TableChecksum> {
    let sql = select_sql(db, table, range);
    let what = || format!("checksum read of {}", qualified(db, &table.name));
    let mut result = conn
        .query_iter(sql)
        .await
        .map_err(|e| Error::query(what(), e))?;
    let mut sum = TableChecksum::default();
    let mut line = Vec::with_capacity(256);
    while let Some(row) = result.next().await.map_err(|e| Error::query(what(), e))? {
        line.clear();
        encode_row(&row_values(row), &mut line);
        sum.add_line(&line);
    }
    Ok(sum)
}

/// Takes the values out of a row.
pub(crate) fn row_values(row: Row) -> Vec<mysql_async::Value> {
    row.unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_independent_and_mergeable() {
        let mut a = TableChecksum::default();
        a.add_line(b"1\tx");
        a.add_line(b"2\ty");
        let mut b = TableChecksum::default();
        b.add_line(b"2\ty");
        let mut c = TableChecksum::default();
        c.add_line(b"1\tx");
        b.merge(c);
        assert_eq!(a, b);
        assert_eq!(a.rows, 2);
        assert_eq!(TableChecksum::parse_sum(&a.to_string()), Some(a.sum));
    }

    #[test]
    fn digest_is_first_eight_sha256_bytes_le() {
        // sha256("") = e3b0c44298fc1c14...
        assert_eq!(TableChecksum::row_digest(b""), 0x141cfc9842c4b0e3);
    }
}
