//! Order-independent table checksum over encoded rows.
//!
//! Per row: a 64-bit digest of the encoded line (without LF), [`RowDigest::Xxh3`] for new
//! snapshots, [`RowDigest::Sha256`] (first 8 bytes, little-endian) for snapshots written
//! before it; the table digest is the wrapping sum, so chunks can be summed in any order and
//! a restored table re-read in any order gives the same value.

use std::fmt;

use mysql_async::prelude::Queryable;
use mysql_async::Row;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::conn::{Conn, Error, Result};
use crate::manifest::TableEntry;
use crate::row_format::{encode_row, qualified, select_sql, KeyRange};

/// How a row line is digested; recorded in the manifest so old snapshots still verify.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RowDigest {
    /// First 8 bytes of SHA-256 as little-endian u64 (snapshots without the field).
    #[default]
    #[serde(rename = "sha256-64")]
    Sha256,
    /// XXH3-64 with seed 0.
    #[serde(rename = "xxh3-64")]
    Xxh3,
}

impl RowDigest {
    /// The digest new snapshots use.
    pub const CURRENT: RowDigest = RowDigest::Xxh3;

    /// Digest of one encoded row line (without LF).
    pub fn of(self, line: &[u8]) -> u64 {
        match self {
            RowDigest::Sha256 => {
                let h = Sha256::digest(line);
                let mut first = [0u8; 8];
                first.copy_from_slice(&h[..8]);
                u64::from_le_bytes(first)
            }
            RowDigest::Xxh3 => twox_hash::XxHash3_64::oneshot(line),
        }
    }
}

/// Row count and wrapping sum of row digests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TableChecksum {
    /// Rows seen.
    pub rows: u64,
    /// Wrapping sum of per-row digests.
    pub sum: u64,
}

impl TableChecksum {
    /// Adds one encoded row line (without LF).
    pub fn add_line(&mut self, digest: RowDigest, line: &[u8]) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(digest.of(line));
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
    digest: RowDigest,
) -> Result<TableChecksum> {
    range_checksum(conn, db, table, None, digest).await
}

/// Checksum of the rows of `table` inside `range` (the whole table for `None`).
pub async fn range_checksum(
    conn: &mut Conn,
    db: &str,
    table: &TableEntry,
    range: Option<&KeyRange>,
    digest: RowDigest,
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
        sum.add_line(digest, &line);
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
        a.add_line(RowDigest::Xxh3, b"1\tx");
        a.add_line(RowDigest::Xxh3, b"2\ty");
        let mut b = TableChecksum::default();
        b.add_line(RowDigest::Xxh3, b"2\ty");
        let mut c = TableChecksum::default();
        c.add_line(RowDigest::Xxh3, b"1\tx");
        b.merge(c);
        assert_eq!(a, b);
        assert_eq!(a.rows, 2);
        assert_eq!(TableChecksum::parse_sum(&a.to_string()), Some(a.sum));
    }

    #[test]
    fn digests_are_pinned() {
        // sha256("") = e3b0c44298fc1c14...; XXH3-64("") with seed 0 = 2d06800538d394c2.
        assert_eq!(RowDigest::Sha256.of(b""), 0x141cfc9842c4b0e3);
        assert_eq!(RowDigest::Xxh3.of(b""), 0x2d06800538d394c2);
    }
}
