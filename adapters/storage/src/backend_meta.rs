//! KubeStash backend files: `metadata.yaml` (BackendMeta) at the backend root,
//! `<dir>/repository.yaml` and `<dir>/snapshots/<name>.yaml`, as raw bytes or typed.
//!
//! All functions take a store rooted at the backend root (not at a restic repository).

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Object name of the BackupStorage identity file.
pub const METADATA_FILE: &str = "metadata.yaml";
/// `apiVersion` of BackendMeta.
pub const BACKEND_META_API_VERSION: &str = "config.kubestash.com/v1alpha1";

/// `metadata.yaml`: proof that a BackupStorage was initialised, and the repositories it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendMeta {
    /// Always `config.kubestash.com/v1alpha1`.
    pub api_version: String,
    /// Always `BackendMeta`.
    pub kind: String,
    /// When the storage was initialised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<DateTime<Utc>>,
    /// Version of the operator that wrote the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_version: Option<String>,
    /// Repositories stored in this backend.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<BackendRepository>,
    /// Fields we do not model, kept so a rewrite loses nothing.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_yaml::Value>,
}

impl BackendMeta {
    /// A fresh BackendMeta.
    pub fn new(created: DateTime<Utc>, operator_version: &str) -> Self {
        Self {
            api_version: BACKEND_META_API_VERSION.to_owned(),
            kind: "BackendMeta".to_owned(),
            creation_timestamp: Some(created),
            operator_version: Some(operator_version.to_owned()),
            repositories: Vec::new(),
            extra: BTreeMap::new(),
        }
    }
}

/// One entry of `repositories` (KubeStash `RepositoryInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendRepository {
    /// Repository name.
    pub name: String,
    /// Repository namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Directory inside the backend.
    pub path: String,
    /// Human-readable size, e.g. `1.456 MiB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Whether the Repository object was re-synced from the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced: Option<bool>,
    /// Last error about this repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `<dir>/repository.yaml`.
pub fn repository_yaml_path(dir: &str) -> String {
    join(dir, "repository.yaml")
}

/// `<dir>/snapshots/<name>.yaml`.
pub fn snapshot_yaml_path(dir: &str, name: &str) -> String {
    join(&join(dir, "snapshots"), &format!("{name}.yaml"))
}

fn join(dir: &str, name: &str) -> String {
    let dir = dir.trim_matches('/');
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Reads `metadata.yaml`; `None` if the storage is not initialised.
pub async fn read_backend_meta(
    store: &dyn ObjectStore,
    label: &str,
) -> Result<Option<BackendMeta>> {
    let Some(bytes) = get_file(store, label, METADATA_FILE).await? else {
        return Ok(None);
    };
    serde_yaml::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::Document {
            op: "decode",
            path: METADATA_FILE.to_owned(),
            repo: label.to_owned(),
            reason: e.to_string(),
        })
}

/// Writes `metadata.yaml`.
pub async fn write_backend_meta(
    store: &dyn ObjectStore,
    label: &str,
    meta: &BackendMeta,
) -> Result<()> {
    let text = serde_yaml::to_string(meta).map_err(|e| Error::Document {
        op: "encode",
        path: METADATA_FILE.to_owned(),
        repo: label.to_owned(),
        reason: e.to_string(),
    })?;
    put_file(store, label, METADATA_FILE, Bytes::from(text)).await
}

/// Writes an object at `rel` (relative to the store root).
pub async fn put_file(store: &dyn ObjectStore, label: &str, rel: &str, bytes: Bytes) -> Result<()> {
    store
        .put(&Path::from(rel), PutPayload::from(bytes))
        .await
        .map(|_| ())
        .map_err(|source| store_err("put", rel, label, source))
}

/// Reads an object; `None` if absent.
pub async fn get_file(store: &dyn ObjectStore, label: &str, rel: &str) -> Result<Option<Bytes>> {
    let got = match store.get(&Path::from(rel)).await {
        Ok(got) => got,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(source) => return Err(store_err("get", rel, label, source)),
    };
    got.bytes()
        .await
        .map(Some)
        .map_err(|source| store_err("get", rel, label, source))
}

/// Deletes an object (absent is fine).
pub async fn delete_file(store: &dyn ObjectStore, label: &str, rel: &str) -> Result<()> {
    match store.delete(&Path::from(rel)).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(source) => Err(store_err("delete", rel, label, source)),
    }
}

/// Paths (relative to the store root) of every object under `dir`, sorted.
pub async fn list_files(store: &dyn ObjectStore, label: &str, dir: &str) -> Result<Vec<String>> {
    let dir = dir.trim_matches('/');
    let prefix = (!dir.is_empty()).then(|| Path::from(dir));
    let metas: Vec<_> = store
        .list(prefix.as_ref())
        .try_collect()
        .await
        .map_err(|source| store_err("list", dir, label, source))?;
    let mut paths: Vec<_> = metas.into_iter().map(|m| m.location.to_string()).collect();
    paths.sort();
    Ok(paths)
}

fn store_err(op: &'static str, path: &str, label: &str, source: object_store::Error) -> Error {
    Error::Store {
        op,
        path: path.to_owned(),
        repo: label.to_owned(),
        source: Box::new(source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    #[tokio::test]
    async fn backend_meta_round_trips_and_keeps_unknown_fields() {
        let store = InMemory::new();
        assert!(read_backend_meta(&store, "b").await.unwrap().is_none());
        let yaml = "apiVersion: config.kubestash.com/v1alpha1\nkind: BackendMeta\ncreationTimestamp: 2024-08-19T10:00:00Z\noperatorVersion: v0.12.0\nrepositories:\n- name: gcs-sdb-repo\n  namespace: demo\n  path: /singlestore\n  synced: true\nfutureField: 3\n";
        put_file(&store, "b", METADATA_FILE, Bytes::from(yaml))
            .await
            .unwrap();
        let mut meta = read_backend_meta(&store, "b").await.unwrap().unwrap();
        assert_eq!(meta.repositories[0].path, "/singlestore");
        assert_eq!(meta.extra["futureField"], serde_yaml::Value::from(3));
        meta.repositories[0].size = Some("1.456 MiB".into());
        write_backend_meta(&store, "b", &meta).await.unwrap();
        let again = read_backend_meta(&store, "b").await.unwrap().unwrap();
        assert_eq!(again, meta);
        let fresh = BackendMeta::new(Utc::now(), "cairn 0.1.0");
        assert_eq!(fresh.api_version, BACKEND_META_API_VERSION);
    }

    #[tokio::test]
    async fn repository_and_snapshot_files_by_relative_path() {
        let store = InMemory::new();
        let repo_yaml = repository_yaml_path("/singlestore/");
        assert_eq!(repo_yaml, "singlestore/repository.yaml");
        let snap = snapshot_yaml_path("singlestore", "repo-sess-1724065200");
        assert_eq!(snap, "singlestore/snapshots/repo-sess-1724065200.yaml");
        put_file(
            &store,
            "b",
            &repo_yaml,
            Bytes::from_static(b"kind: Repository\n"),
        )
        .await
        .unwrap();
        put_file(&store, "b", &snap, Bytes::from_static(b"kind: Snapshot\n"))
            .await
            .unwrap();
        assert_eq!(
            list_files(&store, "b", "singlestore/snapshots")
                .await
                .unwrap(),
            std::slice::from_ref(&snap)
        );
        assert_eq!(list_files(&store, "b", "").await.unwrap().len(), 2);
        assert_eq!(
            &get_file(&store, "b", &repo_yaml).await.unwrap().unwrap()[..],
            b"kind: Repository\n"
        );
        delete_file(&store, "b", &snap).await.unwrap();
        delete_file(&store, "b", &snap).await.unwrap();
        assert!(get_file(&store, "b", &snap).await.unwrap().is_none());
        let bad = put_file(
            &store,
            "b",
            METADATA_FILE,
            Bytes::from_static(b"[not: a map"),
        )
        .await;
        assert!(bad.is_ok());
        let err = read_backend_meta(&store, "b")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot decode metadata.yaml in b"), "{err}");
    }
}
