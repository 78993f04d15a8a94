//! The state directory: objects with their status, Secrets, and the daemon's
//! bookkeeping as readable YAML files (layout in [`crate::store_layout`]).
//!
//! Call protocol: [`StateDir::open`] reads the directory; [`StateDir::load_world`]
//! gives the world it holds; after changing the world, [`StateDir::save_world`] writes
//! the files that changed, each atomically ([`crate::store_atomic`]), stamping
//! `resourceVersion`/`generation` ([`crate::store_version`]) and removing files of
//! objects that are gone. Processes that share a directory take [`StateDir::lock`]
//! around load-modify-save; a long-running daemon calls [`StateDir::refresh`] to pick
//! up what `cairn apply`/`cairn delete` wrote. [`apply_manifests`] turns loaded
//! manifests into the user facts.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cairn_core::world::{ObjectKey, World};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::manifest_kind::ManifestKind;
use crate::store_atomic::{is_temp, remove_all_durably, write_all_atomic};
use crate::store_layout::{StatePath, FACTS, OBJECTS};
use crate::store_lock::{process_alive, StateLock};
use crate::store_version::{resource_version, stamp};
use crate::world_io::{read_file, render, Rendered};

pub use crate::store_apply::apply_manifests;
pub use crate::store_error::{Result, StoreError};

/// How long [`StateDir::lock`] waits for another process.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

/// A state file as last read or written.
#[derive(Clone, Debug)]
pub(crate) struct Cached {
    /// Exact file content.
    pub(crate) text: String,
    /// Parsed content of object files (for version stamping).
    pub(crate) value: Option<Value>,
}

/// What [`StateDir::save_world`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaveReport {
    /// Files written (relative paths).
    pub written: Vec<PathBuf>,
    /// Files removed (relative paths).
    pub removed: Vec<PathBuf>,
}

/// An open state directory and what it held when last read or written.
#[derive(Debug)]
pub struct StateDir {
    root: PathBuf,
    pub(crate) cache: BTreeMap<StatePath, Cached>,
    pub(crate) revision: u64,
}

impl StateDir {
    /// Opens (creating it if needed) the state directory at `root` and reads it.
    pub fn open(root: impl AsRef<Path>) -> Result<StateDir> {
        let root = root.as_ref().to_owned();
        for dir in [root.clone(), root.join(OBJECTS), root.join(FACTS)] {
            fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
                path: dir.clone(),
                action: "create the directory",
                source,
            })?;
        }
        let secrets = root.join(OBJECTS).join(ManifestKind::Secret.plural());
        fs::create_dir_all(&secrets)
            .and_then(|()| fs::set_permissions(&secrets, fs::Permissions::from_mode(0o700)))
            .map_err(|source| StoreError::Io {
                path: secrets,
                action: "create the Secrets directory (mode 0700)",
                source,
            })?;
        let mut dir = StateDir {
            root,
            cache: BTreeMap::new(),
            revision: 0,
        };
        dir.cache = dir.scan(true)?;
        dir.revision = dir.max_revision();
        Ok(dir)
    }

    /// The directory's path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The absolute path of a state file.
    pub fn path_of(&self, path: &StatePath) -> PathBuf {
        self.root.join(path.relative())
    }

    /// Takes the directory's writer lock (waits up to [`LOCK_WAIT`]); hold it around
    /// `refresh`/`load_world` … `save_world` when other processes may write.
    pub fn lock(&self) -> Result<StateLock> {
        Ok(StateLock::acquire(&self.root, LOCK_WAIT)?)
    }

    /// Re-reads the directory, forgetting what this handle wrote or read before.
    pub fn reload(&mut self) -> Result<()> {
        self.cache = self.scan(false)?;
        self.revision = self.revision.max(self.max_revision());
        Ok(())
    }

    /// The world the directory holds (objects with status, Secrets, Namespaces, jobs,
    /// hooks, backend facts, triggers, events; nothing in flight).
    pub fn load_world(&self) -> Result<World> {
        let mut world = World::new();
        for (path, cached) in &self.cache {
            read_file(&mut world, path, &cached.text).map_err(|source| StoreError::Corrupt {
                path: self.path_of(path),
                source,
            })?;
        }
        Ok(world)
    }

    /// Writes what changed in `world` since the last read or write: one atomic write
    /// per changed file (Secrets 0600), removal of files whose object is gone.
    pub fn save_world(&mut self, world: &World) -> Result<SaveReport> {
        self.save_world_at(world, crate::clock::now())
    }

    /// [`StateDir::save_world`] with `now` as the creation time of objects that have
    /// none (Secrets and Namespaces carry no metadata in the world).
    pub fn save_world_at(&mut self, world: &World, now: DateTime<Utc>) -> Result<SaveReport> {
        let created = Value::String(now.to_rfc3339_opts(SecondsFormat::Secs, true));
        let mut report = SaveReport::default();
        let desired = render(world);
        let mut changed = Vec::new();
        for (path, rendered) in desired.iter() {
            let cached = self.cache.get(path);
            let next = match rendered {
                Rendered::Text(text) => (cached.map(|c| &c.text) != Some(text)).then(|| Cached {
                    text: text.clone(),
                    value: None,
                }),
                Rendered::Object(value) => {
                    let old = cached.and_then(|c| c.value.as_ref());
                    let mut value = value.clone();
                    if old.is_none() {
                        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut)
                        {
                            meta.entry("creationTimestamp")
                                .or_insert_with(|| created.clone());
                        }
                    }
                    stamp(value, old, &mut self.revision).map(|v| Cached {
                        // Plain data; serialising cannot fail.
                        text: serde_yaml::to_string(&v).unwrap_or_default(),
                        value: Some(v),
                    })
                }
            };
            if let Some(next) = next {
                changed.push((path.clone(), next));
            }
        }
        // One batch: the cache learns of the writes only once all of them are durable.
        let files: Vec<_> = changed
            .iter()
            .map(|(path, next)| (self.path_of(path), next.text.as_bytes(), path.is_private()))
            .collect();
        write_all_atomic(&files).map_err(|(path, source)| StoreError::Io {
            path,
            action: "write",
            source,
        })?;
        for (path, next) in changed {
            report.written.push(path.relative());
            self.cache.insert(path, next);
        }
        let gone: Vec<StatePath> = self
            .cache
            .keys()
            .filter(|p| !desired.contains_key(p))
            .cloned()
            .collect();
        let files: Vec<PathBuf> = gone.iter().map(|p| self.path_of(p)).collect();
        remove_all_durably(&files).map_err(|(path, source)| StoreError::Io {
            path,
            action: "remove",
            source,
        })?;
        for path in gone {
            report.removed.push(path.relative());
            self.cache.remove(&path);
        }
        Ok(report)
    }

    /// Reads every state file under the root. With `clean`, temporary files left by
    /// a crashed writer are removed.
    pub(crate) fn scan(&self, clean: bool) -> Result<BTreeMap<StatePath, Cached>> {
        let mut out = BTreeMap::new();
        let mut present = BTreeSet::new();
        self.scan_dir(&self.root.clone(), clean, false, &mut out, &mut present)?;
        Ok(out)
    }

    /// Files whose text differs from what this handle last read or wrote (parsed), and
    /// every state file present. A daemon refreshes on every turn: parsing only what
    /// changed keeps a turn cheap when the directory holds thousands of objects.
    pub(crate) fn scan_changes(
        &self,
    ) -> Result<(BTreeMap<StatePath, Cached>, BTreeSet<StatePath>)> {
        let mut out = BTreeMap::new();
        let mut present = BTreeSet::new();
        self.scan_dir(&self.root.clone(), false, true, &mut out, &mut present)?;
        Ok((out, present))
    }

    fn scan_dir(
        &self,
        dir: &Path,
        clean: bool,
        changed_only: bool,
        out: &mut BTreeMap<StatePath, Cached>,
        present: &mut BTreeSet<StatePath>,
    ) -> Result<()> {
        let io = |path: &Path, action, source| StoreError::Io {
            path: path.to_owned(),
            action,
            source,
        };
        let entries = fs::read_dir(dir).map_err(|e| io(dir, "list", e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io(dir, "list", e))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_temp(&name) {
                if clean && stale_temp(&name) {
                    let _ = fs::remove_file(&path);
                }
                continue;
            }
            if path.is_dir() {
                self.scan_dir(&path, clean, changed_only, out, present)?;
                continue;
            }
            let relative = path.strip_prefix(&self.root).unwrap_or(&path);
            let Some(state_path) = StatePath::parse(relative) else {
                continue; // the lock file, notes a user left, ...
            };
            let text = fs::read_to_string(&path).map_err(|e| io(&path, "read", e))?;
            present.insert(state_path.clone());
            if changed_only && self.cache.get(&state_path).map(|c| &c.text) == Some(&text) {
                continue;
            }
            let value = match &state_path {
                StatePath::Object(..) => {
                    Some(
                        serde_yaml::from_str(&text).map_err(|e| StoreError::Corrupt {
                            path: path.clone(),
                            source: e.into(),
                        })?,
                    )
                }
                _ => None,
            };
            out.insert(state_path, Cached { text, value });
        }
        Ok(())
    }

    /// Stored objects of `kind` exactly as their files hold them (with versions and
    /// status), sorted by namespace and name. Secret values are included: views must
    /// redact them.
    pub fn stored(&self, kind: ManifestKind) -> Vec<(&ObjectKey, &Value)> {
        self.cache
            .iter()
            .filter_map(|(path, cached)| match (path, cached.value.as_ref()) {
                (StatePath::Object(k, key), Some(v)) if *k == kind => Some((key, v)),
                _ => None,
            })
            .collect()
    }

    fn max_revision(&self) -> u64 {
        self.cache
            .values()
            .filter_map(|c| c.value.as_ref())
            .map(resource_version)
            .max()
            .unwrap_or(0)
    }
}

/// Whether a temporary file's writer (pid in its name) is gone.
fn stale_temp(name: &str) -> bool {
    name.rsplit('.')
        .next()
        .and_then(|pid| pid.parse::<u32>().ok())
        .is_none_or(|pid| pid == std::process::id() || !process_alive(pid))
}
