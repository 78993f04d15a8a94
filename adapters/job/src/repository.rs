//! Opening (or creating) a component's restic repository, and running blocking
//! repository work off the async threads.

use std::sync::Arc;

use cairn_storage::interrupted_init::remove_keys_of_interrupted_init;
use cairn_storage::{Password, Repo};
use tokio::runtime::Handle;

use crate::backend::StorageAccess;
use crate::error::{JobError, Result};

/// Runs blocking repository work on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> cairn_storage::Result<T> + Send + 'static,
) -> cairn_storage::Result<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join) => Err(cairn_storage::Error::InvalidEntry {
            path: String::new(),
            reason: format!("background repository task failed: {join}"),
        }),
    }
}

/// Opens the restic repository at `rel` under the backend root; with `create`, an
/// absent repository is initialised (a component's first backup).
pub(crate) async fn open_repo(
    storage: StorageAccess,
    rel: &str,
    password: Password,
    create: bool,
) -> Result<Arc<Repo>> {
    let store = storage.open(rel)?;
    let label = storage.location(rel).to_string();
    let rt = Handle::current();
    let opened = {
        let (store, label) = (store.clone(), label.clone());
        tokio::task::spawn_blocking(move || {
            match Repo::open(store.clone(), &label, &password, rt.clone()) {
                Err(cairn_storage::Error::NotInitialised { .. }) if create => {
                    // A job killed mid-init left a key without a config: it would
                    // shadow the new init's key.
                    remove_keys_of_interrupted_init(&store, &label, &rt)?;
                    Repo::init(store, &label, &password, rt)
                }
                other => other,
            }
        })
        .await
        .map_err(|e| JobError::Internal(format!("repository open task failed: {e}")))?
    };
    opened.map(Arc::new).map_err(|source| JobError::Storage {
        what: format!(
            "cannot open the restic repository {label} of BackupStorage {}",
            storage.storage
        ),
        source: Box::new(source),
    })
}
