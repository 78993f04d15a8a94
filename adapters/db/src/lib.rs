//! Dump and restore engine for SingleStore and MySQL-wire databases.
//!
//! Module owners during the first build-out: dump side (conn, flavor, discover, schema,
//! consistency, chunk, row_format, checksum, manifest, dump); restore side (restore,
//! infile, sql_split, sql_restore, sql_dump, verify).

pub mod checksum;
pub mod chunk;
pub mod conn;
pub mod consistency;
pub mod db_rename;
pub mod deferred_keys;
pub mod discover;
pub mod dump;
pub mod flavor;
pub mod infile;
pub mod manifest;
pub mod restore;
pub mod restore_plan;
pub mod restore_progress;
pub mod row_format;
pub mod schema;
pub mod sql_dump;
pub mod sql_restore;
pub mod sql_split;
pub mod sql_value;
pub mod tls;
pub mod verify;
