//! The world model: every object the core reads, plus the facts adapters reported
//! (jobs, hooks, backend files) and the schedule bookkeeping.
//!
//! `reconcile` only reads a `World`; [`apply`] (effects) and [`observe`] (facts) are the
//! only writers. Everything is in `BTreeMap`s so iteration order, and therefore every
//! plan, is deterministic.

pub mod apply;
pub mod backend;
pub mod fact;
pub mod hook;
pub mod object;
pub mod query;
pub mod secret;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::{Deserialize, Serialize};

use crate::api::{
    Addon, AppBinding, BackupConfiguration, BackupSession, BackupStorage, Function, HookTemplate,
    Kind, Repository, RestoreSession, RetentionPolicy, Snapshot,
};
use crate::event::Event;
use crate::job::{JobFact, JobKey};

pub use apply::apply;
pub use backend::{BackendFacts, FileState};
pub use fact::{observe, Fact, Outcome};
pub use hook::{HookFact, HookKey, HookOutcome, HookSpec, HookStage};
pub use object::{Object, ObjectKey, ObjectRef, Status};
pub use secret::{Secret, SecretValue};

/// Most recent events kept in the world (older ones are dropped first).
pub const EVENT_HISTORY_LIMIT: usize = 512;

/// Identity of a session trigger: the BackupConfiguration and the session name.
pub type TriggerKey = (ObjectKey, String);

/// The per-session schedule (KubeStash's trigger CronJob) and what it fired last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    /// `trigger-<configuration>-<session>`.
    pub name: String,
    /// Schedule text.
    pub schedule: String,
    /// Suspended by `paused` or `scheduler.suspend`.
    pub suspended: bool,
    /// When the trigger was first ensured; slots at or before it never fire.
    pub since: DateTime<Utc>,
    /// The last slot a BackupSession was created for.
    pub last_fired: Option<DateTime<Utc>>,
}

/// An IO effect that was requested and has not been answered yet. Volatile: a restart
/// forgets it, and the effect is simply requested again (effects are idempotent).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Inflight {
    /// `metadata.yaml` of a BackupStorage.
    InitBackend(ObjectKey),
    /// `repository.yaml` at a path of a BackupStorage.
    InitRepository(ObjectKey, String),
    /// Snapshot YAML upload.
    UploadSnapshot(ObjectKey),
    /// Forget of a Snapshot's restic data.
    Forget(ObjectKey),
    /// Wipe of a path in a BackupStorage.
    Wipe(ObjectKey, String),
}

/// Everything the core knows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct World {
    /// BackupStorages.
    pub backup_storages: BTreeMap<ObjectKey, BackupStorage>,
    /// Repositories.
    pub repositories: BTreeMap<ObjectKey, Repository>,
    /// Snapshots.
    pub snapshots: BTreeMap<ObjectKey, Snapshot>,
    /// RetentionPolicies.
    pub retention_policies: BTreeMap<ObjectKey, RetentionPolicy>,
    /// BackupConfigurations.
    pub backup_configurations: BTreeMap<ObjectKey, BackupConfiguration>,
    /// BackupSessions.
    pub backup_sessions: BTreeMap<ObjectKey, BackupSession>,
    /// RestoreSessions.
    pub restore_sessions: BTreeMap<ObjectKey, RestoreSession>,
    /// HookTemplates.
    pub hook_templates: BTreeMap<ObjectKey, HookTemplate>,
    /// User-supplied Addons (the built-in catalog fills the gaps).
    pub addons: BTreeMap<ObjectKey, Addon>,
    /// User-supplied Functions (the built-in catalog fills the gaps).
    pub functions: BTreeMap<ObjectKey, Function>,
    /// AppBindings.
    pub app_bindings: BTreeMap<ObjectKey, AppBinding>,
    /// Secrets (keys only are ever rendered).
    pub secrets: BTreeMap<ObjectKey, Secret>,
    /// Namespace labels, for usage policies with selectors.
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// Executor jobs.
    pub jobs: BTreeMap<JobKey, JobFact>,
    /// Hook runs.
    pub hooks: BTreeMap<HookKey, HookFact>,
    /// Backend files per BackupStorage.
    pub backends: BTreeMap<ObjectKey, BackendFacts>,
    /// Session triggers.
    pub triggers: BTreeMap<TriggerKey, Trigger>,
    /// Requested IO effects without an answer yet (volatile).
    pub inflight: BTreeSet<Inflight>,
    /// Recent events, oldest first.
    pub events: Vec<Event>,
    /// The control plane that runs this world's hooks (what they may ask for).
    pub hook_runner: crate::reconcile::hook_support::HookRunner,
}

impl World {
    /// An empty world.
    pub fn new() -> Self {
        Self::default()
    }

    /// The world as it survives a restart: objects, jobs, hooks, backend files and
    /// triggers, without the in-flight table.
    pub fn persisted(&self) -> Self {
        Self {
            inflight: BTreeSet::new(),
            ..self.clone()
        }
    }

    /// The stored object of type `T` with `key`.
    pub fn get<T: Stored>(&self, key: &ObjectKey) -> Option<&T> {
        T::map(self).get(key)
    }

    /// The metadata of the object `r`, whatever its kind.
    pub fn meta_of(&self, r: &ObjectRef) -> Option<&ObjectMeta> {
        fn meta<'w, T: Stored>(w: &'w World, key: &ObjectKey) -> Option<&'w ObjectMeta> {
            w.get::<T>(key).map(Resource::meta)
        }
        use crate::api as a;
        match r.kind {
            Kind::BackupStorage => meta::<a::BackupStorage>(self, &r.key),
            Kind::Repository => meta::<a::Repository>(self, &r.key),
            Kind::Snapshot => meta::<a::Snapshot>(self, &r.key),
            Kind::RetentionPolicy => meta::<a::RetentionPolicy>(self, &r.key),
            Kind::BackupConfiguration => meta::<a::BackupConfiguration>(self, &r.key),
            Kind::BackupSession => meta::<a::BackupSession>(self, &r.key),
            Kind::RestoreSession => meta::<a::RestoreSession>(self, &r.key),
            Kind::HookTemplate => meta::<a::HookTemplate>(self, &r.key),
            Kind::Addon => meta::<a::Addon>(self, &r.key),
            Kind::Function => meta::<a::Function>(self, &r.key),
            Kind::AppBinding => meta::<a::AppBinding>(self, &r.key),
        }
    }
}

/// A kind stored in the world, with generic access to its map.
pub trait Stored:
    Resource<DynamicType = ()> + Clone + Serialize + serde::de::DeserializeOwned + 'static
{
    /// The kind.
    const KIND: Kind;
    /// The map holding objects of this kind.
    fn map(world: &World) -> &BTreeMap<ObjectKey, Self>;
    /// The same map, mutable.
    fn map_mut(world: &mut World) -> &mut BTreeMap<ObjectKey, Self>;
}

macro_rules! stored {
    ($ty:ty, $kind:ident, $field:ident) => {
        impl Stored for $ty {
            const KIND: Kind = Kind::$kind;
            fn map(world: &World) -> &BTreeMap<ObjectKey, Self> {
                &world.$field
            }
            fn map_mut(world: &mut World) -> &mut BTreeMap<ObjectKey, Self> {
                &mut world.$field
            }
        }
    };
}

stored!(BackupStorage, BackupStorage, backup_storages);
stored!(Repository, Repository, repositories);
stored!(Snapshot, Snapshot, snapshots);
stored!(RetentionPolicy, RetentionPolicy, retention_policies);
stored!(
    BackupConfiguration,
    BackupConfiguration,
    backup_configurations
);
stored!(BackupSession, BackupSession, backup_sessions);
stored!(RestoreSession, RestoreSession, restore_sessions);
stored!(HookTemplate, HookTemplate, hook_templates);
stored!(Addon, Addon, addons);
stored!(Function, Function, functions);
stored!(AppBinding, AppBinding, app_bindings);
