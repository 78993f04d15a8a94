//! Object identity (`ObjectKey`, `ObjectRef`) and the closed sets of objects and statuses
//! that effects carry.

use std::fmt;

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::api::backup_configuration::BackupConfigurationStatus;
use crate::api::{
    Addon, AppBinding, BackupConfiguration, BackupSession, BackupSessionStatus, BackupStorage,
    BackupStorageStatus, Function, HookTemplate, Kind, Repository, RepositoryStatus,
    RestoreSession, RestoreSessionStatus, RetentionPolicy, Snapshot, SnapshotStatus,
};

/// Namespace and name of an object; cluster-scoped kinds have an empty namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectKey {
    /// Namespace ("" for cluster-scoped kinds).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// Builds a key.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The key of an object from its metadata.
    pub fn of(meta: &ObjectMeta) -> Self {
        Self::new(
            meta.namespace.clone().unwrap_or_default(),
            meta.name.clone().unwrap_or_default(),
        )
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}

/// A kind plus a key: which object an effect or event is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    /// The object's kind.
    pub kind: Kind,
    /// Its namespace and name.
    pub key: ObjectKey,
}

impl ObjectRef {
    /// Builds a reference.
    pub fn new(kind: Kind, namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind,
            key: ObjectKey::new(namespace, name),
        }
    }

    /// A reference from a kind and metadata.
    pub fn of(kind: Kind, meta: &ObjectMeta) -> Self {
        Self {
            kind,
            key: ObjectKey::of(meta),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.name(), self.key)
    }
}

impl Serialize for ObjectRef {
    /// Rendered as `Kind namespace/name`, the way `kubectl` users read it.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ObjectRef {
    /// Parses the `Kind namespace/name` rendering back (state files, job specs).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ObjectRef::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid object reference {text:?}: expected \"Kind namespace/name\""
            ))
        })
    }
}

impl ObjectRef {
    /// Parses `Kind namespace/name` (or `Kind name` for cluster-scoped kinds).
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, rest) = text.split_once(' ')?;
        let kind = Kind::ALL.iter().copied().find(|k| k.name() == kind)?;
        let (namespace, name) = rest.split_once('/').unwrap_or(("", rest));
        (!name.is_empty()).then(|| Self::new(kind, namespace, name))
    }
}

/// Any object the core creates or updates (spec and metadata).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // effects are short-lived; boxing buys nothing here
pub enum Object {
    /// A BackupStorage.
    BackupStorage(BackupStorage),
    /// A Repository.
    Repository(Repository),
    /// A Snapshot.
    Snapshot(Snapshot),
    /// A RetentionPolicy.
    RetentionPolicy(RetentionPolicy),
    /// A BackupConfiguration.
    BackupConfiguration(BackupConfiguration),
    /// A BackupSession.
    BackupSession(BackupSession),
    /// A RestoreSession.
    RestoreSession(RestoreSession),
    /// A HookTemplate.
    HookTemplate(HookTemplate),
    /// An Addon.
    Addon(Addon),
    /// A Function.
    Function(Function),
    /// An AppBinding.
    AppBinding(AppBinding),
}

impl Object {
    /// The object's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Object::BackupStorage(_) => Kind::BackupStorage,
            Object::Repository(_) => Kind::Repository,
            Object::Snapshot(_) => Kind::Snapshot,
            Object::RetentionPolicy(_) => Kind::RetentionPolicy,
            Object::BackupConfiguration(_) => Kind::BackupConfiguration,
            Object::BackupSession(_) => Kind::BackupSession,
            Object::RestoreSession(_) => Kind::RestoreSession,
            Object::HookTemplate(_) => Kind::HookTemplate,
            Object::Addon(_) => Kind::Addon,
            Object::Function(_) => Kind::Function,
            Object::AppBinding(_) => Kind::AppBinding,
        }
    }

    /// The object's metadata.
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            Object::BackupStorage(o) => &o.metadata,
            Object::Repository(o) => &o.metadata,
            Object::Snapshot(o) => &o.metadata,
            Object::RetentionPolicy(o) => &o.metadata,
            Object::BackupConfiguration(o) => &o.metadata,
            Object::BackupSession(o) => &o.metadata,
            Object::RestoreSession(o) => &o.metadata,
            Object::HookTemplate(o) => &o.metadata,
            Object::Addon(o) => &o.metadata,
            Object::Function(o) => &o.metadata,
            Object::AppBinding(o) => &o.metadata,
        }
    }

    /// A reference to the object.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::of(self.kind(), self.meta())
    }
}

/// A status written by the core, for the kinds that have one.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Status {
    /// BackupStorage status.
    BackupStorage(BackupStorageStatus),
    /// Repository status.
    Repository(RepositoryStatus),
    /// Snapshot status.
    Snapshot(SnapshotStatus),
    /// BackupConfiguration status.
    BackupConfiguration(BackupConfigurationStatus),
    /// BackupSession status.
    BackupSession(BackupSessionStatus),
    /// RestoreSession status.
    RestoreSession(RestoreSessionStatus),
}

/// Converts a chrono instant into a Kubernetes `Time` (second precision, as the API
/// server stores it).
pub fn to_time(t: DateTime<Utc>) -> Time {
    Time(k8s_openapi::jiff::Timestamp::from_second(t.timestamp()).unwrap_or_default())
}

/// Converts a Kubernetes `Time` into a chrono instant.
pub fn from_time(t: &Time) -> DateTime<Utc> {
    DateTime::from_timestamp(t.0.as_second(), 0).unwrap_or_default()
}

/// Creation time of an object, if recorded.
pub fn created_at(meta: &ObjectMeta) -> Option<DateTime<Utc>> {
    meta.creation_timestamp.as_ref().map(from_time)
}

/// Whether deletion of the object was requested.
pub fn is_deleting(meta: &ObjectMeta) -> bool {
    meta.deletion_timestamp.is_some()
}

/// Whether the object carries `finalizer`.
pub fn has_finalizer(meta: &ObjectMeta, finalizer: &str) -> bool {
    meta.finalizers
        .as_ref()
        .is_some_and(|f| f.iter().any(|x| x == finalizer))
}

#[cfg(test)]
mod ref_tests {
    use super::*;

    #[test]
    fn object_refs_round_trip_through_their_text_form() {
        for r in [
            ObjectRef::new(
                Kind::BackupSession,
                "demo",
                "sample-backup-frequent-1724065200",
            ),
            ObjectRef::new(Kind::Addon, "", "singlestore-addon"),
        ] {
            let text = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<ObjectRef>(&text).unwrap(), r);
        }
        assert!(ObjectRef::parse("Nope demo/x").is_none());
        assert!(ObjectRef::parse("Snapshot demo/").is_none());
    }
}
