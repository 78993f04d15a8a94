//! Options of manifest (application-level) restores, per application kind.

use k8s_openapi::api::core::v1::TypedLocalObjectReference;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::reference::ObjectReference;

/// Per-kind manifest restore options.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManifestRestoreOptions {
    /// Workloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadManifestOptions>,
    /// MongoDB.
    #[serde(default, rename = "mongoDB", skip_serializing_if = "Option::is_none")]
    pub mongo_db: Option<KubeDbManifestOptions>,
    /// Postgres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<KubeDbManifestOptions>,
    /// MySQL.
    #[serde(default, rename = "mySQL", skip_serializing_if = "Option::is_none")]
    pub my_sql: Option<KubeDbManifestOptions>,
    /// ClickHouse.
    #[serde(
        default,
        rename = "clickhouse",
        skip_serializing_if = "Option::is_none"
    )]
    pub click_house: Option<KubeDbManifestOptions>,
    /// MariaDB.
    #[serde(default, rename = "mariaDB", skip_serializing_if = "Option::is_none")]
    pub maria_db: Option<KubeDbManifestOptions>,
    /// MS SQL Server.
    #[serde(
        default,
        rename = "msSQLServer",
        skip_serializing_if = "Option::is_none"
    )]
    pub ms_sql_server: Option<MssqlServerManifestOptions>,
    /// Druid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub druid: Option<DruidManifestOptions>,
    /// ZooKeeper.
    #[serde(default, rename = "zooKeeper", skip_serializing_if = "Option::is_none")]
    pub zoo_keeper: Option<KubeDbManifestOptions>,
    /// SingleStore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub singlestore: Option<KubeDbManifestOptions>,
    /// Redis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<KubeDbManifestOptions>,
    /// Redis Sentinel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis_sentinel: Option<RedisSentinelManifestOptions>,
}

/// Manifest restore options of a KubeDB database.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubeDbManifestOptions {
    /// Namespace to restore into.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restore_namespace: String,
    /// Restore the database object (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub db: Option<bool>,
    /// New database name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub db_name: String,
    /// Restore the auth Secret (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub auth_secret: Option<bool>,
    /// New auth Secret name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_secret_name: String,
    /// Restore the archiver (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false))]
    pub archiver: Option<bool>,
    /// Archiver to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archiver_ref: Option<ObjectReference>,
    /// Restore the config Secret (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub config_secret: Option<bool>,
    /// New config Secret name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub config_secret_name: String,
    /// Restore the init script (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub init_script: Option<bool>,
    /// TLS issuer to use.
    #[serde(
        default,
        rename = "tlsIssuerRef",
        skip_serializing_if = "Option::is_none"
    )]
    pub tls_issuer_ref: Option<TypedLocalObjectReference>,
}

/// Manifest restore options of workloads.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadManifestOptions {
    /// Namespace to restore into.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restore_namespace: String,
}

/// Manifest restore options of MS SQL Server.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MssqlServerManifestOptions {
    /// Namespace to restore into.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restore_namespace: String,
    /// Restore the database object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub db: Option<bool>,
    /// New database name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub db_name: String,
    /// Restore the auth Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub auth_secret: Option<bool>,
    /// New auth Secret name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_secret_name: String,
    /// Restore the init script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub init_script: Option<bool>,
    /// Restore the archiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false))]
    pub archiver: Option<bool>,
    /// Archiver to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archiver_ref: Option<ObjectReference>,
    /// TLS issuer to use.
    #[serde(
        default,
        rename = "tlsIssuerRef",
        skip_serializing_if = "Option::is_none"
    )]
    pub tls_issuer_ref: Option<TypedLocalObjectReference>,
}

/// Manifest restore options of Druid.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DruidManifestOptions {
    /// Namespace to restore into.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restore_namespace: String,
    /// Restore the database object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub db: Option<bool>,
    /// New database name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub db_name: String,
    /// Restore the auth Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub auth_secret: Option<bool>,
    /// New auth Secret name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_secret_name: String,
    /// Restore the config Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub config_secret: Option<bool>,
    /// New config Secret name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub config_secret_name: String,
    /// Restore the deep storage Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub deep_storage_secret: Option<bool>,
}

/// Manifest restore options of Redis Sentinel.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedisSentinelManifestOptions {
    /// Namespace to restore into.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restore_namespace: String,
    /// Restore the sentinel object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub sentinel: Option<bool>,
    /// New sentinel name (JSON key capitalised, as KubeStash spells it).
    #[serde(
        default,
        rename = "SentinelName",
        skip_serializing_if = "String::is_empty"
    )]
    pub sentinel_name: String,
    /// Restore the auth Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub auth_secret: Option<bool>,
    /// New auth Secret name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_secret_name: String,
    /// TLS issuer to use.
    #[serde(
        default,
        rename = "tlsIssuerRef",
        skip_serializing_if = "Option::is_none"
    )]
    pub tls_issuer_ref: Option<TypedLocalObjectReference>,
}
