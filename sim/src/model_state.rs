//! The model's state: the core's world plus what the environment holds around it.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use cairn_core::world::{Fact, World};
use chrono::{DateTime, Utc};

use crate::fingerprint::{hash_json, WorldDigest};
use crate::request::Request;

/// Which of the catalogue's user steps happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct UserSteps {
    /// BackupStorage applied.
    pub storage: bool,
    /// RetentionPolicy applied.
    pub retention: bool,
    /// BackupConfiguration applied.
    pub configuration: bool,
    /// `paused` flipped (at most once).
    pub toggled: bool,
    /// BackupConfiguration deleted.
    pub deleted: bool,
    /// RestoreSession applied.
    pub restore: bool,
}

/// Fault budgets left on this path (they bound the state space).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Budgets {
    /// Storage failures and job failures/kills.
    pub faults: u8,
    /// Controller restarts.
    pub restarts: u8,
    /// Redeliveries of a fact.
    pub redeliveries: u8,
}

/// A broken property, recorded by the transition that broke it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Failure {
    /// Name of the property (see `model::properties`).
    pub property: &'static str,
    /// What exactly broke.
    pub detail: String,
}

/// One state of the model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelState {
    /// The core's world (events are checked, then dropped: they are output, not state).
    pub world: World,
    /// Virtual time.
    pub now: DateTime<Utc>,
    /// The core's requested wakeup after the last turn.
    pub wakeup: Option<DateTime<Utc>>,
    /// Storage requests the storage has not answered yet.
    pub pending: BTreeSet<Request>,
    /// User steps done.
    pub user: UserSteps,
    /// Budgets left.
    pub budgets: Budgets,
    /// The last fact delivered, while a redelivery is still allowed.
    pub last_fact: Option<Fact>,
    /// The first broken property, if any (exploration stops there).
    pub broken: Option<Failure>,
    /// Digest of `world`, kept up to date by the model after every step (hashing the
    /// world from scratch for every explored state is too slow).
    pub digest: WorldDigest,
}

impl Hash for ModelState {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.digest.hash(state);
        self.now.hash(state);
        self.wakeup.hash(state);
        self.pending.hash(state);
        self.user.hash(state);
        self.budgets.hash(state);
        hash_json(&self.last_fact, state);
        self.broken.hash(state);
    }
}
