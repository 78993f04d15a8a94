//! User facts from manifests: what `cairn apply -f` and `cairn run -f` tell the core.
//!
//! The adapter plays the API server's part on create/update: it drops `status` and the
//! server-owned metadata a manifest may carry (exported objects often do), stamps
//! `creationTimestamp` and `uid` on new objects, and reports only manifests that
//! change the world, so re-reading unchanged files is free.

use cairn_core::world::{observe, Fact, Object, ObjectKey, World};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::manifest::{Loaded, Manifest};
use crate::manifest_kind::object_from_value;
use crate::store_version::new_uid;
use crate::world_io::object_json;

/// Metadata a client may not set.
const SERVER_OWNED: [&str; 5] = [
    "resourceVersion",
    "generation",
    "deletionTimestamp",
    "managedFields",
    "selfLink",
];

/// Observes every manifest as a user fact in `world` and returns the facts that
/// changed it, in manifest order. `now` becomes the creation time of new objects.
pub fn apply_manifests(world: &mut World, loaded: Vec<Loaded>, now: DateTime<Utc>) -> Vec<Fact> {
    let mut facts = Vec::new();
    for l in loaded {
        let fact = match l.manifest {
            Manifest::Object(object) => {
                let (kind, key) = (object.kind(), ObjectKey::of(object.meta()));
                let before = object_json(world, kind, &key);
                let fact = Fact::Applied(prepare(object, before.as_ref(), now));
                observe(world, fact.clone());
                (object_json(world, kind, &key) != before).then_some(fact)
            }
            Manifest::Secret(secret) => {
                let key = ObjectKey::new(secret.namespace.clone(), secret.name.clone());
                (world.secrets.get(&key) != Some(&secret)).then(|| {
                    let fact = Fact::SecretApplied(secret);
                    observe(world, fact.clone());
                    fact
                })
            }
            Manifest::Namespace { name, labels } => (world.namespaces.get(&name) != Some(&labels))
                .then(|| {
                    let fact = Fact::NamespaceLabels {
                        namespace: name,
                        labels,
                    };
                    observe(world, fact.clone());
                    fact
                }),
        };
        facts.extend(fact);
    }
    facts
}

/// The object as the API server would accept it, given the stored one (as JSON).
fn prepare(object: Object, existing: Option<&Value>, now: DateTime<Utc>) -> Object {
    let kind = object.kind();
    let Ok(mut value) = serde_json::to_value(&object) else {
        return object;
    };
    if let Some(map) = value.as_object_mut() {
        map.remove("status");
    }
    let stored = |f: &str| existing.and_then(|e| e.pointer(&format!("/metadata/{f}")).cloned());
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in SERVER_OWNED {
            meta.remove(f);
        }
        match existing {
            Some(_) => {
                meta.remove("creationTimestamp");
                // Kept as stored, so an unchanged manifest leaves the object equal.
                for f in ["uid", "resourceVersion", "generation"] {
                    match stored(f) {
                        Some(v) => meta.insert(f.to_owned(), v),
                        None => meta.remove(f),
                    };
                }
            }
            None => {
                let created = now.to_rfc3339_opts(SecondsFormat::Secs, true);
                meta.entry("creationTimestamp")
                    .or_insert(Value::String(created));
                meta.entry("uid")
                    .or_insert_with(|| Value::String(new_uid()));
            }
        }
    }
    // The value came from a valid object with fields removed; it parses back.
    object_from_value(kind, value).unwrap_or(object)
}
