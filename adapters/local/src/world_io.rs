//! The world as state-directory files and back: [`render`] turns a [`World`] into
//! file contents by [`StatePath`], [`read_file`] merges one file into a world.
//! Objects are rendered as JSON values (the store stamps versions before writing
//! them as YAML); bookkeeping files are rendered as final YAML text.

use std::collections::BTreeMap;

use cairn_core::api::Kind;
use cairn_core::world::{Object, ObjectKey, Secret, Stored, World};
use serde::Serialize;
use serde_json::{json, Value};

use crate::manifest_base64;
use crate::manifest_kind::{object_from_value, ManifestKind};
use crate::manifest_secret::{namespace_labels, secret_from_value};
use crate::store_layout::StatePath;
use crate::world_io_facts::{
    BackendFactsDto, EventDto, HookEntry, HookEntryDto, TriggerEntry, TriggerEntryDto,
};
use crate::world_io_job::JobFactDto;

/// Content of one state file.
#[derive(Clone, Debug, PartialEq)]
pub enum Rendered {
    /// An object, Secret or Namespace manifest, before version stamping.
    Object(Value),
    /// Final YAML text.
    Text(String),
}

/// Why a state file could not be read into the world.
#[derive(Debug, thiserror::Error)]
pub enum WorldIoError {
    /// The YAML does not parse or does not match the expected shape.
    #[error("invalid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    /// The object does not match its kind's schema.
    #[error("invalid object: {0}")]
    Json(#[from] serde_json::Error),
    /// A Secret value is unusable.
    #[error("invalid Secret: {0}")]
    Secret(#[from] crate::manifest_secret::SecretValueError),
    /// The file's name and content disagree.
    #[error("the file holds {found}, but its path says {expected}; move or fix the file")]
    Misplaced {
        /// What the path says.
        expected: String,
        /// What the content says.
        found: String,
    },
}

/// Every state file the world needs, by path.
pub fn render(world: &World) -> BTreeMap<StatePath, Rendered> {
    let mut out = BTreeMap::new();
    render_objects(world, &mut out);
    for (key, secret) in &world.secrets {
        let path = StatePath::Object(ManifestKind::Secret, key.clone());
        out.insert(path, Rendered::Object(secret_value(secret)));
    }
    for (name, labels) in &world.namespaces {
        let path = StatePath::Object(ManifestKind::Namespace, ObjectKey::new("", name.clone()));
        let value = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": labels}});
        out.insert(path, Rendered::Object(value));
    }
    for (key, job) in &world.jobs {
        out.insert(StatePath::Job(key.clone()), Rendered::Text(yaml(job)));
    }
    for (key, facts) in &world.backends {
        out.insert(StatePath::Backend(key.clone()), Rendered::Text(yaml(facts)));
    }
    if !world.hooks.is_empty() {
        let hooks: Vec<_> = world
            .hooks
            .iter()
            .map(|(key, fact)| HookEntry { key, fact })
            .collect();
        out.insert(StatePath::Hooks, Rendered::Text(yaml(&hooks)));
    }
    if !world.triggers.is_empty() {
        let triggers: Vec<_> = world
            .triggers
            .iter()
            .map(|((configuration, session), trigger)| TriggerEntry {
                configuration,
                session,
                trigger,
            })
            .collect();
        out.insert(StatePath::Triggers, Rendered::Text(yaml(&triggers)));
    }
    if !world.events.is_empty() {
        out.insert(StatePath::Events, Rendered::Text(yaml(&world.events)));
    }
    out
}

fn render_objects(world: &World, out: &mut BTreeMap<StatePath, Rendered>) {
    fn each<T: Stored>(world: &World, out: &mut BTreeMap<StatePath, Rendered>) {
        for (key, object) in T::map(world) {
            let path = StatePath::Object(ManifestKind::Api(T::KIND), key.clone());
            // API types are plain data; serialising them cannot fail.
            let value = serde_json::to_value(object).unwrap_or(Value::Null);
            out.insert(path, Rendered::Object(value));
        }
    }
    use cairn_core::api::*;
    each::<BackupStorage>(world, out);
    each::<Repository>(world, out);
    each::<Snapshot>(world, out);
    each::<RetentionPolicy>(world, out);
    each::<BackupConfiguration>(world, out);
    each::<BackupSession>(world, out);
    each::<RestoreSession>(world, out);
    each::<HookTemplate>(world, out);
    each::<Addon>(world, out);
    each::<Function>(world, out);
    each::<AppBinding>(world, out);
}

/// A v1 Secret manifest (values base64 under `data`) for the core's Secret.
pub fn secret_value(secret: &Secret) -> Value {
    let data: serde_json::Map<String, Value> = secret
        .data
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                Value::String(manifest_base64::encode(v.expose().as_bytes())),
            )
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": secret.name, "namespace": secret.namespace}, "data": data})
}

/// YAML text of bookkeeping data (plain data: serialising cannot fail).
fn yaml<T: Serialize + ?Sized>(value: &T) -> String {
    serde_yaml::to_string(value).unwrap_or_default()
}

/// Parses one state file into `world`.
pub fn read_file(world: &mut World, path: &StatePath, text: &str) -> Result<(), WorldIoError> {
    match path {
        StatePath::Object(kind, key) => {
            let value: Value = serde_yaml::from_str(text)?;
            read_object(world, *kind, key, value)?;
        }
        StatePath::Job(key) => {
            let job: JobFactDto = serde_yaml::from_str(text)?;
            world.jobs.insert(key.clone(), job.into());
        }
        StatePath::Backend(key) => {
            let facts: BackendFactsDto = serde_yaml::from_str(text)?;
            world.backends.insert(key.clone(), facts.into());
        }
        StatePath::Hooks => {
            let hooks: Vec<HookEntryDto> = serde_yaml::from_str(text)?;
            world.hooks.extend(hooks.into_iter().map(Into::into));
        }
        StatePath::Triggers => {
            let triggers: Vec<TriggerEntryDto> = serde_yaml::from_str(text)?;
            world.triggers.extend(triggers.into_iter().map(Into::into));
        }
        StatePath::Events => {
            let events: Vec<EventDto> = serde_yaml::from_str(text)?;
            world.events = events.into_iter().map(Into::into).collect();
        }
    }
    Ok(())
}

/// What an object file parses to.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // short-lived
pub enum StoredObject {
    /// A KubeStash object.
    Object(Object),
    /// A Secret.
    Secret(Secret),
    /// A Namespace's labels.
    Namespace(BTreeMap<String, String>),
}

/// Parses the content of an object file stored under `kind`/`key`.
pub fn parse_object(
    kind: ManifestKind,
    key: &ObjectKey,
    value: Value,
) -> Result<StoredObject, WorldIoError> {
    let found = ObjectKey::new(
        str_at(&value, "/metadata/namespace"),
        str_at(&value, "/metadata/name"),
    );
    let found_kind = str_at(&value, "/kind");
    if found != *key || found_kind != kind.name() {
        return Err(WorldIoError::Misplaced {
            expected: format!("{} {key}", kind.name()),
            found: format!("{found_kind} {found}"),
        });
    }
    Ok(match kind {
        ManifestKind::Api(k) => StoredObject::Object(object_from_value(k, value)?),
        ManifestKind::Secret => {
            StoredObject::Secret(secret_from_value(&key.namespace, &key.name, &value)?)
        }
        ManifestKind::Namespace => StoredObject::Namespace(namespace_labels(&value)),
    })
}

fn read_object(
    world: &mut World,
    kind: ManifestKind,
    key: &ObjectKey,
    value: Value,
) -> Result<(), WorldIoError> {
    match parse_object(kind, key, value)? {
        StoredObject::Object(object) => insert_object(world, object),
        StoredObject::Secret(secret) => drop(world.secrets.insert(key.clone(), secret)),
        StoredObject::Namespace(labels) => drop(world.namespaces.insert(key.name.clone(), labels)),
    }
    Ok(())
}

/// Puts an object into its map as stored (status and metadata exactly as read).
pub fn insert_object(world: &mut World, object: Object) {
    fn put<T: Stored>(world: &mut World, key: ObjectKey, o: T) {
        T::map_mut(world).insert(key, o);
    }
    let key = ObjectKey::of(object.meta());
    match object {
        Object::BackupStorage(o) => put(world, key, o),
        Object::Repository(o) => put(world, key, o),
        Object::Snapshot(o) => put(world, key, o),
        Object::RetentionPolicy(o) => put(world, key, o),
        Object::BackupConfiguration(o) => put(world, key, o),
        Object::BackupSession(o) => put(world, key, o),
        Object::RestoreSession(o) => put(world, key, o),
        Object::HookTemplate(o) => put(world, key, o),
        Object::Addon(o) => put(world, key, o),
        Object::Function(o) => put(world, key, o),
        Object::AppBinding(o) => put(world, key, o),
    }
}

fn str_at(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The stored object of `kind` with `key`, as JSON (for views and comparisons).
pub fn object_json(world: &World, kind: Kind, key: &ObjectKey) -> Option<Value> {
    fn get<T: Stored>(world: &World, key: &ObjectKey) -> Option<Value> {
        T::map(world)
            .get(key)
            .and_then(|o| serde_json::to_value(o).ok())
    }
    use cairn_core::api::*;
    match kind {
        Kind::BackupStorage => get::<BackupStorage>(world, key),
        Kind::Repository => get::<Repository>(world, key),
        Kind::Snapshot => get::<Snapshot>(world, key),
        Kind::RetentionPolicy => get::<RetentionPolicy>(world, key),
        Kind::BackupConfiguration => get::<BackupConfiguration>(world, key),
        Kind::BackupSession => get::<BackupSession>(world, key),
        Kind::RestoreSession => get::<RestoreSession>(world, key),
        Kind::HookTemplate => get::<HookTemplate>(world, key),
        Kind::Addon => get::<Addon>(world, key),
        Kind::Function => get::<Function>(world, key),
        Kind::AppBinding => get::<AppBinding>(world, key),
    }
}
