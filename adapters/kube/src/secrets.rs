//! Secrets as the operator reads them: it watches their metadata only (names and
//! resource versions, never data) and GETs by name just the ones it needs
//! ([`control_plane_secrets`]), re-reading one only when its resource version changes.
//! Caching every Secret of the cluster would hold every token and password of every
//! application in the operator's memory.

use std::collections::BTreeMap;

use cairn_core::api::{BackupStorage, Repository};
use cairn_core::world::query::control_plane_secrets;
use cairn_core::world::ObjectKey;
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::Store;
use kube::Api;
use tokio::sync::Mutex;
use tracing::{debug, warn};

/// Secrets read by name, by the resource version they were read at.
#[derive(Default)]
pub struct SecretReader {
    read: Mutex<BTreeMap<ObjectKey, (String, Secret)>>,
}

impl SecretReader {
    /// The Secrets the control plane reads for `storages` and `repositories` that exist
    /// (per `metadata`), from the cache when their version is unchanged.
    pub async fn referenced(
        &self,
        client: &kube::Client,
        metadata: &Store<PartialObjectMeta<Secret>>,
        storages: &[BackupStorage],
        repositories: &[Repository],
    ) -> Vec<Secret> {
        let versions: BTreeMap<ObjectKey, String> = metadata
            .state()
            .iter()
            .map(|m| {
                (
                    ObjectKey::new(
                        m.metadata.namespace.clone().unwrap_or_default(),
                        m.metadata.name.clone().unwrap_or_default(),
                    ),
                    m.metadata.resource_version.clone().unwrap_or_default(),
                )
            })
            .collect();
        let mut read = self.read.lock().await;
        let wanted = control_plane_secrets(storages, repositories);
        read.retain(|key, _| wanted.contains(key) && versions.contains_key(key));
        for key in wanted {
            let Some(version) = versions.get(&key) else {
                continue; // not there (yet): the core says which Secret is missing
            };
            if read.get(&key).is_some_and(|(v, _)| v == version) {
                continue;
            }
            let api: Api<Secret> = Api::namespaced(client.clone(), &key.namespace);
            match api.get_opt(&key.name).await {
                Ok(Some(secret)) => {
                    debug!(secret = %key, "read a referenced Secret");
                    // Keyed by the version the watch showed: it changing is what makes
                    // the next read (the GET answers that version or a newer one).
                    read.insert(key, (version.clone(), secret));
                }
                Ok(None) => {
                    read.remove(&key);
                }
                // The last copy read stays in use; the next turn tries again.
                Err(e) => warn!(secret = %key, error = %e, "could not read a referenced Secret"),
            }
        }
        read.values().map(|(_, s)| s.clone()).collect()
    }
}
