//! Object references shared by every kind (kmodules `kmapi.ObjectReference` and
//! `kmapi.TypedObjectReference`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Reference to an object by namespace and name; an empty namespace means "the
/// referrer's namespace".
#[derive(
    Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// Namespace of the referent; empty means the referrer's namespace.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Name of the referent.
    pub name: String,
}

impl ObjectReference {
    /// Builds a reference from a namespace and a name.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The namespace to use, falling back to `default_namespace` when none is set.
    pub fn namespace_or<'a>(&'a self, default_namespace: &'a str) -> &'a str {
        if self.namespace.is_empty() {
            default_namespace
        } else {
            &self.namespace
        }
    }
}

/// Reference to an object of a given API group and kind.
#[derive(
    Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct TypedObjectReference {
    /// API group of the referent; empty for the core group.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_group: String,
    /// Kind of the referent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Namespace of the referent; empty means the referrer's namespace.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Name of the referent.
    pub name: String,
}

impl TypedObjectReference {
    /// Builds a typed reference.
    pub fn new(
        api_group: impl Into<String>,
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            api_group: api_group.into(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The namespace and name part of this reference.
    pub fn object_ref(&self) -> ObjectReference {
        ObjectReference::new(self.namespace.clone(), self.name.clone())
    }
}
