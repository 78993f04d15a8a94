//! Backend-file effects: `metadata.yaml` (plus a listing for disaster recovery),
//! `repository.yaml`, Snapshot YAMLs, forgetting restic snapshots, wiping paths.
//! Each function does the IO and reports an [`Outcome`]; none decides anything.
//!
//! Shared by every driver that carries out the core's backend effects (the local
//! daemon, the Kubernetes operator): [`carry_out`] is the whole dispatch.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use cairn_core::api::component::{
    DIR_SNAPSHOTS, FILE_BACKEND_METADATA, FILE_REPOSITORY, KEY_RESTIC_PASSWORD,
};
use cairn_core::api::{Repository, Snapshot};
use cairn_core::effect::Effect;
use cairn_core::world::{ObjectKey, Outcome, World};
use cairn_storage::backend_meta::{delete_file, get_file, list_files, put_file};
use cairn_storage::{Password, Repo};
use object_store::ObjectStore;
use tokio::runtime::Handle;
use tracing::warn;

use crate::backend::StorageAccess;

/// What a backend listing found: `repository.yaml` by directory, Snapshot YAMLs by path.
#[derive(Debug, Default)]
pub struct Listing {
    /// Repository objects by directory (relative, no leading slash).
    pub repositories: BTreeMap<String, Repository>,
    /// Snapshot objects by YAML path.
    pub snapshots: BTreeMap<String, Snapshot>,
}

fn failed(what: &str, err: impl std::fmt::Display) -> Outcome {
    Outcome::Failed(format!("{what}: {err}"))
}

fn root(access: &StorageAccess) -> Result<Arc<dyn ObjectStore>, Outcome> {
    access.open("").map_err(|e| Outcome::Failed(e.to_string()))
}

/// Writes `metadata.yaml` if absent, then lists the backend's Repository and Snapshot
/// YAMLs (what a fresh control plane re-creates objects from).
pub async fn init_backend(access: &StorageAccess, path: &str, yaml: &str) -> (Outcome, Listing) {
    let store = match root(access) {
        Ok(s) => s,
        Err(o) => return (o, Listing::default()),
    };
    let label = access.root.to_string();
    let storage = &access.storage;
    match get_file(store.as_ref(), &label, path).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            let bytes = Bytes::from(yaml.to_owned());
            if let Err(e) = put_file(store.as_ref(), &label, path, bytes).await {
                let what = format!("cannot write {path} of BackupStorage {storage}");
                return (failed(&what, e), Listing::default());
            }
        }
        Err(e) => {
            let what = format!("cannot read {path} of BackupStorage {storage}");
            return (failed(&what, e), Listing::default());
        }
    }
    match list(store.as_ref(), &label).await {
        Ok(listing) => (Outcome::Ok, listing),
        Err(e) => {
            let what = format!("cannot list BackupStorage {storage}");
            (failed(&what, e), Listing::default())
        }
    }
}

/// Finds and parses every `<dir>/repository.yaml` and `<dir>/snapshots/<name>.yaml`.
/// Unparseable files are skipped with a warning: one damaged file must not block the
/// recovery of the others.
async fn list(store: &dyn ObjectStore, label: &str) -> cairn_storage::Result<Listing> {
    let mut listing = Listing::default();
    for path in list_files(store, label, "").await? {
        if path == FILE_BACKEND_METADATA || path.contains("/repository/v1/") {
            continue;
        }
        let is_repo = path == FILE_REPOSITORY || path.ends_with(&format!("/{FILE_REPOSITORY}"));
        let is_snapshot = path.ends_with(".yaml") && path.contains(&format!("{DIR_SNAPSHOTS}/"));
        if !is_repo && !is_snapshot {
            continue;
        }
        let Some(bytes) = get_file(store, label, &path).await? else {
            continue;
        };
        if is_repo {
            let dir = path
                .strip_suffix(FILE_REPOSITORY)
                .unwrap_or_default()
                .trim_end_matches('/');
            match serde_yaml::from_slice::<Repository>(&bytes) {
                Ok(r) => drop(listing.repositories.insert(dir.to_owned(), r)),
                Err(e) => {
                    warn!(file = %path, backend = %label, error = %e, "not a Repository YAML; skipped")
                }
            }
        } else {
            match serde_yaml::from_slice::<Snapshot>(&bytes) {
                Ok(s) => drop(listing.snapshots.insert(path.clone(), s)),
                Err(e) => {
                    warn!(file = %path, backend = %label, error = %e, "not a Snapshot YAML; skipped")
                }
            }
        }
    }
    Ok(listing)
}

/// Writes (create or replace) one YAML file at `path` under the backend root.
pub async fn write_file(access: &StorageAccess, path: &str, yaml: &str) -> Outcome {
    let store = match root(access) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let bytes = Bytes::from(yaml.to_owned());
    match put_file(store.as_ref(), &access.root.to_string(), path, bytes).await {
        Ok(()) => Outcome::Ok,
        Err(e) => failed(
            &format!("cannot write {path} of BackupStorage {}", access.storage),
            e,
        ),
    }
}

/// What one `ForgetSnapshots` removes.
#[derive(Clone, Debug, Default)]
pub struct ForgetTarget {
    /// The Snapshot's name: restic snapshots tagged with it belong to it.
    pub tag: String,
    /// `(repository dir, restic snapshot id)` the Snapshot's status reported.
    pub restic: Vec<(String, String)>,
    /// Repository dirs searched for snapshots tagged [`Self::tag`] as well.
    pub tagged_in: Vec<String>,
    /// The Snapshot YAML to remove.
    pub metadata_path: String,
}

impl ForgetTarget {
    /// The target of a `ForgetSnapshots` effect (`None` for other effects).
    pub fn of(effect: &Effect) -> Option<Self> {
        match effect {
            Effect::ForgetSnapshots {
                snapshot,
                restic,
                tagged_in,
                metadata_path,
                ..
            } => Some(Self {
                tag: snapshot.key.name.clone(),
                restic: restic.clone(),
                tagged_in: tagged_in.clone(),
                metadata_path: metadata_path.clone(),
            }),
            _ => None,
        }
    }

    /// Each repository dir with the ids reported there, in order.
    fn by_dir(&self) -> BTreeMap<String, Vec<String>> {
        let mut dirs: BTreeMap<String, Vec<String>> = self
            .tagged_in
            .iter()
            .map(|d| (d.clone(), Vec::new()))
            .collect();
        for (dir, id) in &self.restic {
            dirs.entry(dir.clone()).or_default().push(id.clone());
        }
        dirs
    }
}

/// Forgets (and prunes) the restic snapshots of a Snapshot: the ids its status reported and
/// any tagged with its name (a job killed between restic's commit and its report leaves
/// one), then removes the Snapshot YAML. A repository that no longer exists has nothing to
/// forget.
pub async fn forget(
    access: &StorageAccess,
    password: Option<Password>,
    target: &ForgetTarget,
) -> Outcome {
    for (dir, ids) in target.by_dir() {
        let store = match access.open(&dir) {
            Ok(s) => s,
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        let label = access.location(&dir).to_string();
        if ids.is_empty() {
            // Only a search by tag: a directory no job ever wrote needs no password.
            match get_file(store.as_ref(), &label, "config").await {
                Ok(None) => continue,
                Ok(Some(_)) => {}
                Err(e) => return failed(&format!("cannot read the repository in {dir}"), e),
            }
        }
        let Some(password) = password.clone() else {
            return Outcome::Failed(format!(
                "cannot forget the restic snapshots of Snapshot {} in {dir}: the Repository's encryption Secret is not available",
                target.tag
            ));
        };
        let tag = target.tag.clone();
        let rt = Handle::current();
        let done =
            tokio::task::spawn_blocking(move || match Repo::open(store, &label, &password, rt) {
                Ok(repo) => {
                    let mut ids = ids;
                    for s in repo.snapshots()? {
                        if s.tags.contains(&tag) && !ids.contains(&s.id) {
                            ids.push(s.id);
                        }
                    }
                    if ids.is_empty() {
                        return Ok(());
                    }
                    repo.forget_ids(&ids, true).map(|_| ())
                }
                Err(cairn_storage::Error::NotInitialised { .. }) => Ok(()),
                Err(e) => Err(e),
            })
            .await;
        match done {
            Ok(Ok(())) | Ok(Err(cairn_storage::Error::SnapshotNotFound { .. })) => {}
            Ok(Err(e)) => return failed(&format!("cannot forget restic snapshots in {dir}"), e),
            Err(e) => return failed("forget task failed", e),
        }
    }
    let store = match root(access) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let path = &target.metadata_path;
    match delete_file(store.as_ref(), &access.root.to_string(), path).await {
        Ok(()) => Outcome::Ok,
        Err(e) => failed(&format!("cannot remove {path}"), e),
    }
}

/// Deletes every object under `path` ("" = the whole backend root).
pub async fn wipe(access: &StorageAccess, path: &str) -> Outcome {
    let store = match root(access) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let label = access.root.to_string();
    let files = match list_files(store.as_ref(), &label, path).await {
        Ok(f) => f,
        Err(e) => {
            let what = format!("cannot list {path} of BackupStorage {}", access.storage);
            return failed(&what, e);
        }
    };
    for file in files {
        if let Err(e) = delete_file(store.as_ref(), &label, &file).await {
            let what = format!("cannot delete {file} of BackupStorage {}", access.storage);
            return failed(&what, e);
        }
    }
    Outcome::Ok
}

/// `RESTIC_PASSWORD` of the Repository holding `snapshot`, for forgetting its data.
pub fn snapshot_password(world: &World, snapshot: &ObjectKey) -> Option<Password> {
    let snap = world.snapshots.get(snapshot)?;
    let repo = world.repositories.get(&ObjectKey::new(
        snapshot.namespace.clone(),
        snap.spec.repository.clone(),
    ))?;
    let secret_ref = repo.spec.encryption_secret.as_ref()?;
    let secret = world.secret(
        secret_ref.namespace_or(&snapshot.namespace),
        &secret_ref.name,
    )?;
    secret
        .data
        .get(KEY_RESTIC_PASSWORD)
        .map(|v| Password::new(v.expose()))
}

/// Carries out one backend effect against `access` (or reports why the storage could
/// not be resolved): the outcome, and for `InitBackend` what the listing found.
/// `None` for effects that are not backend IO. `password` is only used by
/// `ForgetSnapshots` (see [`snapshot_password`]).
pub async fn carry_out(
    effect: &Effect,
    access: Result<StorageAccess, String>,
    password: Option<Password>,
) -> Option<(Outcome, Listing)> {
    let access = match access {
        Ok(a) => a,
        Err(message) => {
            return is_backend(effect).then(|| (Outcome::Failed(message), Listing::default()))
        }
    };
    let outcome = match effect {
        Effect::InitBackend { path, yaml, .. } => {
            return Some(init_backend(&access, path, yaml).await)
        }
        Effect::InitRepository { path, yaml, .. }
        | Effect::UploadSnapshotMetadata { path, yaml, .. } => {
            write_file(&access, path, yaml).await
        }
        Effect::ForgetSnapshots { .. } => {
            let target = ForgetTarget::of(effect).unwrap_or_default();
            forget(&access, password, &target).await
        }
        Effect::WipeData { path, .. } => wipe(&access, path).await,
        _ => return None,
    };
    Some((outcome, Listing::default()))
}

/// Whether `effect` is one of the backend effects [`carry_out`] handles.
pub fn is_backend(effect: &Effect) -> bool {
    matches!(
        effect,
        Effect::InitBackend { .. }
            | Effect::InitRepository { .. }
            | Effect::UploadSnapshotMetadata { .. }
            | Effect::ForgetSnapshots { .. }
            | Effect::WipeData { .. }
    )
}
