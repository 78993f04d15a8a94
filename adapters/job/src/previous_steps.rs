//! What the last snapshot of a repository tells the next dump: the key steps its tables
//! were chunked with, so unchanged key ranges become the same files again.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use cairn_db::manifest::{Manifest, MANIFEST_PATH};
use cairn_storage::Repo;
use tracing::debug;

/// Chunk key steps by `(database, table)` from the manifest of the repository's latest
/// snapshot; empty when there is none, it is an SQL snapshot, or anything fails (the dump
/// then plans from the size estimates alone, as for a first backup).
pub async fn previous_key_steps(repo: Arc<Repo>) -> BTreeMap<(String, String), u64> {
    let label = repo.label().to_owned();
    let read = tokio::task::spawn_blocking(move || -> Result<Manifest, String> {
        let latest = repo.find_snapshot("latest").map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        repo.open_file(&latest, MANIFEST_PATH)
            .map_err(|e| e.to_string())?
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        Manifest::from_json(&bytes).map_err(|e| e.to_string())
    })
    .await;
    match read {
        Ok(Ok(manifest)) => manifest.key_steps(),
        Ok(Err(why)) => {
            debug!(repo = %label, %why, "no chunk plan from a previous snapshot");
            BTreeMap::new()
        }
        Err(join) => {
            debug!(repo = %label, error = %join, "reading the previous chunk plan failed");
            BTreeMap::new()
        }
    }
}
