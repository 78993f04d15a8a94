//! Server flavor detection (MySQL, MariaDB, SingleStore) and per-flavor system databases.
//!
//! SingleStore reports a MySQL version (`5.7.32`), so the version string alone cannot
//! identify it: `@@memsql_version` exists only there (MySQL/MariaDB answer error 1193).

use mysql_async::prelude::Queryable;
use serde::{Deserialize, Serialize};

use crate::conn::{Conn, Error, Result};

/// The kind of MySQL-wire server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flavor {
    /// Oracle MySQL (or Percona).
    #[serde(rename = "mysql")]
    MySql,
    /// MariaDB.
    #[serde(rename = "mariadb")]
    MariaDb,
    /// SingleStore (formerly MemSQL).
    #[serde(rename = "singlestore")]
    SingleStore,
}

/// What the server is, as recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// Detected flavor.
    pub flavor: Flavor,
    /// Product version (`@@memsql_version` on SingleStore, `@@version` otherwise).
    pub version: String,
}

/// System databases of MySQL and MariaDB (never dumped, never restored into).
const MYSQL_SYSTEM: &[&str] = &["information_schema", "mysql", "performance_schema", "sys"];

/// System databases of SingleStore, plus KubeDB's health-check database.
const SINGLESTORE_SYSTEM: &[&str] = &[
    "information_schema",
    "memsql",
    "cluster",
    "singlestore_health",
];

impl Flavor {
    /// Classifies from `@@memsql_version` (if the variable exists) and `@@version`.
    pub fn classify(memsql_version: Option<&str>, version: &str) -> Flavor {
        match memsql_version {
            Some(v) if !v.trim().is_empty() => Flavor::SingleStore,
            _ if version.to_ascii_lowercase().contains("mariadb") => Flavor::MariaDb,
            _ => Flavor::MySql,
        }
    }

    /// Fixed system database names of this flavor.
    pub fn system_databases(self) -> &'static [&'static str] {
        match self {
            Flavor::MySql | Flavor::MariaDb => MYSQL_SYSTEM,
            Flavor::SingleStore => SINGLESTORE_SYSTEM,
        }
    }

    /// True for databases that must be skipped (includes SingleStore's `cluster_<id>` DR metadata).
    pub fn is_system_database(self, name: &str) -> bool {
        if self
            .system_databases()
            .iter()
            .any(|s| s.eq_ignore_ascii_case(name))
        {
            return true;
        }
        self == Flavor::SingleStore
            && name
                .strip_prefix("cluster_")
                .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
    }

    /// Whether `START TRANSACTION WITH CONSISTENT SNAPSHOT` gives a cross-connection snapshot.
    pub fn has_consistent_snapshot(self) -> bool {
        !matches!(self, Flavor::SingleStore)
    }

    /// Whether the server has triggers and scheduled events.
    pub fn has_triggers_and_events(self) -> bool {
        !matches!(self, Flavor::SingleStore)
    }
}

/// Detects flavor and version on an open session.
pub async fn detect(conn: &mut Conn) -> Result<ServerInfo> {
    let memsql: Option<String> = match conn
        .query_first::<Option<String>, _>("SELECT @@memsql_version")
        .await
    {
        Ok(v) => v.flatten(),
        Err(mysql_async::Error::Server(se)) if se.code == 1193 => None,
        Err(e) => {
            return Err(Error::query(
                "SELECT @@memsql_version (flavor detection)",
                e,
            ))
        }
    };
    if let Some(v) = memsql.filter(|v| !v.trim().is_empty()) {
        return Ok(ServerInfo {
            flavor: Flavor::SingleStore,
            version: v,
        });
    }
    let version: Option<String> = conn
        .query_first("SELECT @@version")
        .await
        .map_err(|e| Error::query("SELECT @@version (flavor detection)", e))?;
    let version = version.unwrap_or_default();
    Ok(ServerInfo {
        flavor: Flavor::classify(None, &version),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_flavors() {
        assert_eq!(
            Flavor::classify(Some("8.5.32"), "5.7.32"),
            Flavor::SingleStore
        );
        assert_eq!(
            Flavor::classify(None, "10.11.6-MariaDB-0+deb12u1"),
            Flavor::MariaDb
        );
        assert_eq!(Flavor::classify(None, "8.0.36"), Flavor::MySql);
        assert_eq!(Flavor::classify(Some(""), "8.0.36"), Flavor::MySql);
    }

    #[test]
    fn system_databases_per_flavor() {
        let s = Flavor::SingleStore;
        for db in [
            "memsql",
            "cluster",
            "information_schema",
            "singlestore_health",
            "cluster_1234",
        ] {
            assert!(s.is_system_database(db), "{db}");
        }
        assert!(!s.is_system_database("cluster_x"));
        assert!(!s.is_system_database("mysql"));
        let m = Flavor::MariaDb;
        for db in ["mysql", "sys", "performance_schema", "INFORMATION_SCHEMA"] {
            assert!(m.is_system_database(db), "{db}");
        }
        assert!(!m.is_system_database("memsql"));
    }

    #[test]
    fn serializes_lowercase() {
        assert_eq!(
            serde_json::to_string(&Flavor::SingleStore).unwrap(),
            "\"singlestore\""
        );
        assert_eq!(serde_json::to_string(&Flavor::MySql).unwrap(), "\"mysql\"");
    }
}
