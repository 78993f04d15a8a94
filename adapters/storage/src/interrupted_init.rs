//! Clean-up after an interrupted `init`.
//!
//! A restic init writes its key file before its config. A process killed in between
//! leaves a key of a master key that no config uses; the next init adds a second key and
//! a config. restic and rustic open a repository with the first key the password opens,
//! so half of the time they pick the orphan and fail with "config or key is damaged":
//! the repository is unusable although nothing in it is. A repository without a config
//! holds no data (nothing can be written before the config), so its keys are only the
//! leftovers of such inits and are removed before initialising again.

use std::sync::Arc;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::runtime::Handle;
use tracing::warn;

use crate::error::{Error, Result};

/// Removes the key files of a repository that has no config (an init that never
/// finished); returns how many. Blocking: call it off the async threads, like [`crate::Repo`].
pub fn remove_keys_of_interrupted_init(
    store: &Arc<dyn ObjectStore>,
    label: &str,
    rt: &Handle,
) -> Result<usize> {
    let store_err = |op, path: &str, source| Error::Store {
        op,
        path: path.to_owned(),
        repo: label.to_owned(),
        source: Box::new(source),
    };
    rt.block_on(async {
        match store.head(&Path::from("config")).await {
            Ok(_) => return Ok(0), // initialised: its keys are in use
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(store_err("head", "config", e)),
        }
        let keys: Vec<_> = store
            .list(Some(&Path::from("keys")))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(|e| store_err("list", "keys/", e))?;
        for key in &keys {
            store
                .delete(key)
                .await
                .map_err(|e| store_err("delete", key.as_ref(), e))?;
        }
        if !keys.is_empty() {
            warn!(repo = %label, keys = keys.len(), "removed the key files of an interrupted init (the repository had no config)");
        }
        Ok(keys.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::tests::{pw, rt};
    use crate::Repo;
    use object_store::local::LocalFileSystem;

    fn key_count(store: &Arc<dyn ObjectStore>, rt: &tokio::runtime::Runtime) -> usize {
        rt.block_on(async {
            store
                .list(Some(&Path::from("keys")))
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
                .len()
        })
    }

    #[test]
    fn an_init_killed_before_its_config_does_not_break_the_next_init() {
        let rt = rt();
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn ObjectStore> =
            Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
        // What a kill between the key and the config leaves: a key, no config.
        Repo::init(store.clone(), "test", &pw(), rt.handle().clone()).unwrap();
        rt.block_on(store.delete(&Path::from("config"))).unwrap();
        assert_eq!(key_count(&store, &rt), 1);

        let removed = remove_keys_of_interrupted_init(&store, "test", rt.handle()).unwrap();
        assert_eq!(removed, 1);
        Repo::init(store.clone(), "test", &pw(), rt.handle().clone()).unwrap();
        assert_eq!(key_count(&store, &rt), 1, "only the new init's key is left");
        Repo::open(store, "test", &pw(), rt.handle().clone()).unwrap();
    }

    #[test]
    fn keys_of_an_initialised_repository_are_kept() {
        let rt = rt();
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn ObjectStore> =
            Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
        Repo::init(store.clone(), "test", &pw(), rt.handle().clone()).unwrap();
        let removed = remove_keys_of_interrupted_init(&store, "test", rt.handle()).unwrap();
        assert_eq!(removed, 0);
        assert_eq!(key_count(&store, &rt), 1);
        Repo::open(store, "test", &pw(), rt.handle().clone()).unwrap();
    }
}
