//! `cairn apply -f PATH...`: loads manifests, records them as user facts in the state
//! directory under its lock; a running `cairn run` picks the change up on its next
//! refresh.

use std::path::PathBuf;

use cairn_core::world::Fact;
use chrono::{DateTime, Utc};

use crate::manifest::{load_paths, ManifestError};
use crate::store::{apply_manifests, SaveReport, StateDir, StoreError};

/// Why `apply` failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A manifest is invalid (nothing was written).
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The state directory could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `apply` did.
#[derive(Debug)]
pub struct ApplyOutcome {
    /// One line per manifest: `backupconfiguration/demo/x configured|unchanged`.
    pub lines: Vec<String>,
    /// The facts recorded.
    pub facts: Vec<Fact>,
    /// Files written and removed.
    pub saved: SaveReport,
}

/// Applies the manifests under `paths` to the state directory `state`.
pub fn apply(
    state: &mut StateDir,
    paths: &[PathBuf],
    now: DateTime<Utc>,
) -> Result<ApplyOutcome, ApplyError> {
    let loaded = load_paths(paths)?;
    let _lock = state.lock()?;
    state.reload()?;
    let mut world = state.load_world()?;
    let mut lines = Vec::new();
    let mut facts = Vec::new();
    for l in loaded {
        let (kind, key) = (l.manifest.kind(), l.manifest.key());
        let existed = match kind {
            crate::manifest_kind::ManifestKind::Api(k) => {
                crate::world_io::object_json(&world, k, &key).is_some()
            }
            crate::manifest_kind::ManifestKind::Secret => world.secrets.contains_key(&key),
            crate::manifest_kind::ManifestKind::Namespace => {
                world.namespaces.contains_key(&key.name)
            }
        };
        let changed = apply_manifests(&mut world, vec![l], now);
        let verb = match (changed.is_empty(), existed) {
            (true, _) => "unchanged",
            (false, true) => "configured",
            (false, false) => "created",
        };
        lines.push(format!("{}/{key} {verb}", kind.name().to_lowercase()));
        facts.extend(changed);
    }
    let saved = state.save_world(&world)?;
    Ok(ApplyOutcome {
        lines,
        facts,
        saved,
    })
}
