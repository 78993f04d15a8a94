//! What happens to backed-up data when an object is deleted.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Deletion policy of BackupStorage, Repository and Snapshot.
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    JsonSchema,
)]
pub enum DeletionPolicy {
    /// Delete the dependent objects, keep the data in the backend (the default).
    #[default]
    Delete,
    /// Delete the dependent objects and the data.
    WipeOut,
}

/// Deletion policy of a repository entry in a BackupConfiguration.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum BackupConfigDeletionPolicy {
    /// Delete the Repository object, keep the data.
    Delete,
    /// Delete the Repository object and its data.
    WipeOut,
    /// Keep the Repository object.
    Retain,
}
