//! BackupStorage + its Secret → the backend root (a restic-style [`Location`]) and the
//! options to reach it. Used by executor jobs and by drivers for the backend files
//! (`metadata.yaml`, `repository.yaml`, Snapshot YAMLs).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairn_core::api::backend::StorageProvider;
use cairn_core::api::BackupStorage;
use cairn_core::world::Secret;
use cairn_storage::{open_store, BackendOptions, Location};
use object_store::ObjectStore;
use serde_json::Value;

use crate::error::{JobError, Result};

/// A backend root and how to reach it. `Debug` never shows credential values.
#[derive(Debug, Clone)]
pub struct StorageAccess {
    /// `namespace/name` of the BackupStorage, for messages.
    pub storage: String,
    /// The backend root.
    pub root: Location,
    /// Credentials, region, TLS and connection limits.
    pub options: BackendOptions,
}

impl StorageAccess {
    /// The location of `rel` (a path relative to the backend root).
    pub fn location(&self, rel: &str) -> Location {
        self.root.join(rel)
    }

    /// Opens a store rooted at `rel` under the backend root ("" = the root itself).
    pub fn open(&self, rel: &str) -> Result<Arc<dyn ObjectStore>> {
        let location = self.location(rel);
        open_store(&location, &self.options).map_err(|source| JobError::Storage {
            what: format!("cannot open {location} of BackupStorage {}", self.storage),
            source: Box::new(source),
        })
    }
}

/// Resolves `storage` (with its credential `secret`, if it names one). Relative local
/// paths are taken relative to `base` (the driver's working directory).
pub fn storage_access(
    storage: &BackupStorage,
    secret: Option<&Secret>,
    base: &Path,
) -> Result<StorageAccess> {
    let label = format!(
        "{}/{}",
        storage.metadata.namespace.as_deref().unwrap_or_default(),
        storage.metadata.name.as_deref().unwrap_or_default()
    );
    let invalid = |reason: String| JobError::InvalidStorage {
        storage: label.clone(),
        reason,
    };
    let backend = &storage.spec.storage;
    let mut options = secret.map_or_else(BackendOptions::default, |s| {
        BackendOptions::from_map(
            s.data
                .iter()
                .map(|(k, v)| (k.clone(), v.expose().to_owned())),
        )
    });
    let (address, max_connections) = match backend.provider {
        Some(StorageProvider::Local) => {
            let local = backend.local.as_ref().ok_or_else(|| {
                invalid("provider is local but spec.storage.local is missing".into())
            })?;
            let dir = local_dir(&local.volume_source, &local.mount_path).ok_or_else(|| {
                invalid("spec.storage.local needs mountPath (or a hostPath volume source)".into())
            })?;
            let mut dir = if dir.is_absolute() {
                dir
            } else {
                base.join(dir)
            };
            if !local.sub_path.is_empty() {
                dir = dir.join(local.sub_path.trim_matches('/'));
            }
            (format!("local:{}", dir.display()), local.max_connections)
        }
        Some(StorageProvider::S3) => {
            let s3 = backend
                .s3
                .as_ref()
                .ok_or_else(|| invalid("provider is s3 but spec.storage.s3 is missing".into()))?;
            if s3.bucket.is_empty() {
                return Err(invalid("spec.storage.s3.bucket is empty".into()));
            }
            if !s3.region.is_empty() {
                options.region = Some(s3.region.clone());
            }
            options.insecure_tls |= s3.insecure_tls;
            let endpoint = match s3.endpoint.trim().trim_end_matches('/') {
                "" => "https://s3.amazonaws.com".to_owned(),
                e if e.contains("://") => e.to_owned(),
                e => format!("https://{e}"),
            };
            (
                format!(
                    "s3:{endpoint}/{}/{}",
                    s3.bucket.trim_matches('/'),
                    s3.prefix.trim_matches('/')
                ),
                s3.max_connections,
            )
        }
        Some(StorageProvider::Gcs) => {
            let gcs = backend
                .gcs
                .as_ref()
                .ok_or_else(|| invalid("provider is gcs but spec.storage.gcs is missing".into()))?;
            (
                format!(
                    "gs:{}:/{}",
                    gcs.bucket.trim_matches('/'),
                    gcs.prefix.trim_matches('/')
                ),
                gcs.max_connections,
            )
        }
        Some(StorageProvider::Azure) => {
            let az = backend.azure.as_ref().ok_or_else(|| {
                invalid("provider is azure but spec.storage.azure is missing".into())
            })?;
            if !az.storage_account.is_empty() {
                options.credentials.insert(
                    "AZURE_ACCOUNT_NAME".to_owned(),
                    cairn_storage::Secret::new(az.storage_account.clone()),
                );
            }
            (
                format!(
                    "azure:{}:/{}",
                    az.container.trim_matches('/'),
                    az.prefix.trim_matches('/')
                ),
                az.max_connections,
            )
        }
        None => {
            return Err(invalid(
                "spec.storage.provider is not set (local, s3, gcs or azure)".into(),
            ))
        }
    };
    options.max_connections = usize::try_from(max_connections).ok().filter(|n| *n > 0);
    let root = Location::parse(&address).map_err(|e| invalid(e.to_string()))?;
    Ok(StorageAccess {
        storage: label,
        root,
        options,
    })
}

/// The host directory of a local backend. A local daemon sees the host, so a
/// `hostPath` volume's path is where the data lives; any other source is taken to be
/// mounted at `mountPath`.
fn local_dir(
    volume_source: &std::collections::BTreeMap<String, Value>,
    mount_path: &str,
) -> Option<PathBuf> {
    let host = volume_source
        .get("hostPath")
        .and_then(|h| h.get("path"))
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty());
    host.or(Some(mount_path).filter(|p| !p.is_empty()))
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(yaml: &str) -> BackupStorage {
        serde_yaml::from_str(&format!(
            "apiVersion: storage.kubestash.com/v1alpha1\nkind: BackupStorage\nmetadata: {{name: st, namespace: demo}}\nspec:\n  storage:\n{yaml}"
        ))
        .unwrap()
    }

    #[test]
    fn local_prefers_host_path_and_resolves_relative_paths() {
        let s = storage("    provider: local\n    local:\n      mountPath: /safe/data\n      hostPath: {path: /srv/backups}\n      subPath: team\n");
        let a = storage_access(&s, None, Path::new("/work")).unwrap();
        assert_eq!(a.root.to_string(), "/srv/backups/team");
        let s =
            storage("    provider: local\n    local:\n      mountPath: data\n      emptyDir: {}\n");
        let a = storage_access(&s, None, Path::new("/work")).unwrap();
        assert_eq!(a.root.to_string(), "/work/data");
        assert_eq!(
            a.location("dir/repository/v1/s/dump").to_string(),
            "/work/data/dir/repository/v1/s/dump"
        );
    }

    #[test]
    fn s3_takes_credentials_region_and_never_prints_them() {
        let s = storage("    provider: s3\n    s3:\n      endpoint: http://127.0.0.1:9000/\n      bucket: b\n      prefix: /demo/\n      region: eu-west-1\n      secretName: s3-cred\n");
        let secret = Secret::new(
            "demo",
            "s3-cred",
            [
                ("AWS_ACCESS_KEY_ID", "AKIA"),
                ("AWS_SECRET_ACCESS_KEY", "topsecret"),
            ],
        );
        let a = storage_access(&s, Some(&secret), Path::new("/")).unwrap();
        assert_eq!(a.root.to_string(), "s3:http://127.0.0.1:9000/b/demo");
        assert_eq!(a.options.region.as_deref(), Some("eu-west-1"));
        assert!(!format!("{a:?}").contains("topsecret"));
    }

    #[test]
    fn missing_provider_settings_are_explained() {
        let s = storage("    provider: s3\n");
        let err = storage_access(&s, None, Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("BackupStorage demo/st") && err.contains("spec.storage.s3"),
            "{err}"
        );
    }
}
