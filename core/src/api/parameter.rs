//! Parameter declarations of Addon tasks and HookTemplates (`apis.ParameterDefinition`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::wire::is_false;

/// A declared parameter: name, documentation, whether it is required, its default.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParameterDefinition {
    /// Parameter name, used as `${name}` in Function args.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// What the parameter does.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub usage: String,
    /// Whether a value must be given.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Value used when none is given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub default: String,
}
