//! Dump and restore engine for SingleStore and MySQL-wire databases.
//!
//! Module owners during the first build-out: dump side (conn, flavor, discover, schema,
//! consistency, chunk, row_format, checksum, manifest, dump); restore side (restore,
//! infile, sql_split, sql_restore, sql_dump, verify).
