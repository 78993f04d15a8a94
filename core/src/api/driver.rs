//! Backup drivers (`apis.Driver`) a task may use.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Tool that moves the data of a task.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum Driver {
    /// restic repositories (the only driver Cairn executes).
    Restic,
    /// WAL-G.
    WalG,
    /// CSI volume snapshots.
    VolumeSnapshotter,
    /// Solr backup API.
    Solr,
    /// Cassandra Medusa.
    Medusa,
    /// clickhouse-backup.
    ClickHouseBackup,
    /// neo4j-admin.
    Neo4jAdmin,
}
