//! Hooks around backups and restores: what to run (`HookSpec`) and what happened.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::ObjectReference;

use super::ObjectRef;

/// When a hook runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HookStage {
    /// Before a backup.
    PreBackup,
    /// After a backup.
    PostBackup,
    /// Before a restore.
    PreRestore,
    /// After a restore.
    PostRestore,
}

/// Identity of one hook run: the session, the stage and the hook name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HookKey {
    /// The BackupSession or RestoreSession.
    pub session: ObjectRef,
    /// Stage.
    pub stage: HookStage,
    /// Hook name from the spec.
    pub name: String,
}

/// A hook to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HookSpec {
    /// Identity.
    pub key: HookKey,
    /// The HookTemplate.
    pub template: ObjectReference,
    /// Parameters for the template.
    pub params: Option<Value>,
    /// Retries after a failure.
    pub max_retry: i32,
    /// Time limit, Go duration string.
    pub timeout: Option<String>,
}

/// Outcome of a hook run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HookOutcome {
    /// Requested, no answer yet.
    Pending,
    /// Ran successfully.
    Succeeded,
    /// Failed (after its retries).
    Failed,
}

/// What the core knows about one hook run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookFact {
    /// Outcome so far.
    pub outcome: HookOutcome,
    /// Failure message.
    pub message: String,
}
