//! Picking up what other processes (`cairn apply`, `cairn delete`) wrote into the
//! state directory while a daemon holds the world in memory: every object file that
//! differs from what this handle last read or wrote becomes a user fact.

use cairn_core::world::{object, observe, Fact, ObjectRef, World};
use chrono::{DateTime, Utc};

use crate::manifest_kind::ManifestKind;
use crate::store::{Result, StateDir, StoreError};
use crate::store_layout::StatePath;
use crate::world_io::{parse_object, StoredObject};

impl StateDir {
    /// Turns object files changed or removed by another process into user facts,
    /// observes them in `world` and returns them. `now` is the deletion time of
    /// objects whose file was removed. Hold [`StateDir::lock`] around this and the
    /// next `save_world`.
    pub fn refresh(&mut self, world: &mut World, now: DateTime<Utc>) -> Result<Vec<Fact>> {
        let (changed, present) = self.scan_changes()?;
        let mut facts = Vec::new();
        for (path, cached) in &changed {
            let StatePath::Object(kind, key) = path else {
                continue;
            };
            let value = cached.value.clone().unwrap_or_default();
            let parsed = parse_object(*kind, key, value).map_err(|source| StoreError::Corrupt {
                path: self.path_of(path),
                source,
            })?;
            match parsed {
                StoredObject::Object(o) => {
                    let deleting = o.meta().deletion_timestamp.as_ref().map(object::from_time);
                    let r = o.object_ref();
                    facts.push(Fact::Applied(o));
                    if let Some(at) = deleting {
                        facts.push(Fact::Deleted { object: r, at });
                    }
                }
                StoredObject::Secret(s) => facts.push(Fact::SecretApplied(s)),
                StoredObject::Namespace(labels) => facts.push(Fact::NamespaceLabels {
                    namespace: key.name.clone(),
                    labels,
                }),
            }
            self.cache.insert(path.clone(), cached.clone());
        }
        let gone: Vec<StatePath> = self
            .cache
            .keys()
            .filter(|p| matches!(p, StatePath::Object(..)) && !present.contains(*p))
            .cloned()
            .collect();
        for path in gone {
            if let StatePath::Object(kind, key) = &path {
                match kind {
                    ManifestKind::Api(k) => facts.push(Fact::Deleted {
                        object: ObjectRef {
                            kind: *k,
                            key: key.clone(),
                        },
                        at: now,
                    }),
                    ManifestKind::Secret => facts.push(Fact::SecretDeleted(key.clone())),
                    ManifestKind::Namespace => drop(world.namespaces.remove(&key.name)),
                }
            }
            self.cache.remove(&path);
        }
        // Unchanged files were counted when this handle last read or wrote them.
        self.revision = self.revision.max(
            changed
                .values()
                .filter_map(|c| c.value.as_ref())
                .map(crate::store_version::resource_version)
                .max()
                .unwrap_or(0),
        );
        for fact in &facts {
            observe(world, fact.clone());
        }
        Ok(facts)
    }
}
