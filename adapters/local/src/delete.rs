//! `cairn delete KIND NAME`: records the user's deletion request as a fact. The core
//! decides the rest: an object without finalizers goes at once, one with
//! `kubestash.com/cleanup` gets a deletionTimestamp and the daemon runs the cleanup.

use cairn_core::world::{observe, Fact, ObjectRef};
use chrono::{DateTime, Utc};

use crate::manifest_kind::ManifestKind;
use crate::store::{SaveReport, StateDir, StoreError};
use crate::table_select::{select_one, ViewError};

/// Why `delete` failed.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    /// No such object (or ambiguous), or the state could not be read.
    #[error(transparent)]
    View(#[from] ViewError),
    /// The state directory could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Namespaces are labels only here.
    #[error("namespace {0}: cairn does not delete namespaces; delete the objects in it instead")]
    Namespace(String),
}

/// What `delete` did.
#[derive(Debug)]
pub struct DeleteOutcome {
    /// `backupconfiguration/demo/x deleted` or `... deletion requested (finalizers: ...)`.
    pub line: String,
    /// Files written and removed.
    pub saved: SaveReport,
}

/// Requests deletion of one object.
pub fn delete(
    state: &mut StateDir,
    kind: ManifestKind,
    name: &str,
    namespace: Option<&str>,
    now: DateTime<Utc>,
) -> Result<DeleteOutcome, DeleteError> {
    let _lock = state.lock()?;
    state.reload()?;
    let key = select_one(state, kind, name, namespace)?.0.clone();
    let mut world = state.load_world()?;
    let fact = match kind {
        ManifestKind::Api(k) => Fact::Deleted {
            object: ObjectRef {
                kind: k,
                key: key.clone(),
            },
            at: now,
        },
        ManifestKind::Secret => Fact::SecretDeleted(key.clone()),
        ManifestKind::Namespace => return Err(DeleteError::Namespace(key.name)),
    };
    observe(&mut world, fact);
    let saved = state.save_world(&world)?;
    let label = format!("{}/{key}", kind.name().to_lowercase());
    let line = match state.stored(kind).iter().find(|(k, _)| **k == key) {
        None => format!("{label} deleted"),
        Some((_, v)) => {
            let finalizers = v
                .pointer("/metadata/finalizers")
                .and_then(|f| f.as_array())
                .map(|f| {
                    f.iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            format!(
                "{label} deletion requested; `cairn run` finishes it (finalizers: {finalizers})"
            )
        }
    };
    Ok(DeleteOutcome { line, saved })
}
