//! Whether a dependency of a session or configuration exists (`ResourceFoundStatus`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::reference::TypedObjectReference;

/// A referenced object and whether it was found.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceFoundStatus {
    /// The referenced object.
    #[serde(flatten)]
    pub reference: TypedObjectReference,
    /// Whether it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<bool>,
}
