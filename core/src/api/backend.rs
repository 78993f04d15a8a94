//! Where a BackupStorage keeps its data (`storage.kubestash.com` `Backend`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire::{is_false, is_zero_i64};

/// Storage provider of a backend.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum StorageProvider {
    /// A Kubernetes volume mounted into the executor.
    Local,
    /// S3 or an S3-compatible server.
    S3,
    /// Google Cloud Storage.
    Gcs,
    /// Azure Blob Storage.
    Azure,
}

/// The provider and its settings; exactly the field matching `provider` is expected.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Backend {
    /// Which of the settings below applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<StorageProvider>,
    /// Local (volume) settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalSpec>,
    /// S3 settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Spec>,
    /// GCS settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs: Option<GcsSpec>,
    /// Azure settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureSpec>,
}

/// A volume used as backend: the offshoot-api volume source fields inline, plus where
/// to mount it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct LocalSpec {
    /// Maximum parallel connections.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub max_connections: i64,
    /// Where the volume is mounted in the executor.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mount_path: String,
    /// Sub-directory of the volume used as backend root.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sub_path: String,
    /// The inline volume source (`hostPath`, `nfs`, `persistentVolumeClaim`, ...).
    #[serde(flatten)]
    #[schemars(skip)]
    pub volume_source: BTreeMap<String, Value>,
}

/// S3 (or compatible) bucket settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct S3Spec {
    /// Endpoint URL, e.g. `https://s3.amazonaws.com`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub endpoint: String,
    /// Bucket name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bucket: String,
    /// Path prefix inside the bucket.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    /// Bucket region.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// Secret with credentials; empty = credential-less (IRSA) mode.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret_name: String,
    /// Maximum parallel connections.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub max_connections: i64,
    /// Skip TLS certificate verification.
    #[serde(default, rename = "insecureTLS", skip_serializing_if = "is_false")]
    pub insecure_tls: bool,
}

/// Google Cloud Storage bucket settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GcsSpec {
    /// Bucket name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bucket: String,
    /// Path prefix inside the bucket.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    /// Maximum parallel connections.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub max_connections: i64,
    /// Secret with credentials.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret_name: String,
}

/// Azure Blob container settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AzureSpec {
    /// Storage account name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub storage_account: String,
    /// Container name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub container: String,
    /// Path prefix inside the container.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    /// Maximum parallel connections.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub max_connections: i64,
    /// Secret with credentials; empty = credential-less (workload identity) mode.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret_name: String,
}

impl Backend {
    /// Whether the provider authenticates without a Secret (`IsCredentialLessModeEnabled`):
    /// S3 or Azure with an empty `secretName`.
    pub fn is_credential_less(&self) -> bool {
        match self.provider {
            Some(StorageProvider::S3) => self.s3.as_ref().is_none_or(|s| s.secret_name.is_empty()),
            Some(StorageProvider::Azure) => {
                self.azure.as_ref().is_none_or(|s| s.secret_name.is_empty())
            }
            _ => false,
        }
    }

    /// Name of the credential Secret, if the provider uses one.
    pub fn secret_name(&self) -> Option<&str> {
        let name = match self.provider? {
            StorageProvider::Local => return None,
            StorageProvider::S3 => &self.s3.as_ref()?.secret_name,
            StorageProvider::Gcs => &self.gcs.as_ref()?.secret_name,
            StorageProvider::Azure => &self.azure.as_ref()?.secret_name,
        };
        (!name.is_empty()).then_some(name.as_str())
    }
}
