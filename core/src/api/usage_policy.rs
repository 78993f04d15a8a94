//! Cross-namespace usage policy (`apis.UsagePolicy`) of BackupStorage,
//! RetentionPolicy and HookTemplate.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::label_selector::selector_matches;

/// Which namespaces may refer to the object.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsagePolicy {
    /// Namespaces allowed to use the object.
    #[serde(default, skip_serializing_if = "AllowedNamespaces::is_empty")]
    pub allowed_namespaces: AllowedNamespaces,
}

/// Namespace filter of a [`UsagePolicy`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowedNamespaces {
    /// Where allowed namespaces come from; defaulted to `Same` by the API server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Same"))]
    pub from: Option<FromNamespaces>,
    /// Namespace label selector, used when `from` is `Selector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
}

/// Source of allowed namespaces.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum FromNamespaces {
    /// Every namespace.
    All,
    /// Namespaces whose labels match `selector`.
    Selector,
    /// Only the object's own namespace.
    Same,
}

impl AllowedNamespaces {
    /// Whether no field is set (Go serialises it as `{}`; we omit it).
    pub fn is_empty(&self) -> bool {
        self.from.is_none() && self.selector.is_none()
    }
}

impl UsagePolicy {
    /// The policy the webhook defaults to: only the object's own namespace.
    pub fn same_namespace() -> Self {
        Self {
            allowed_namespaces: AllowedNamespaces {
                from: Some(FromNamespaces::Same),
                selector: None,
            },
        }
    }

    /// Whether an object in `owner_namespace` with this policy may be used from
    /// `namespace` (labelled `namespace_labels`). KubeStash's `UsageAllowed`: an unset
    /// `from` allows nothing; `Selector` without a selector allows nothing.
    pub fn allows(
        &self,
        owner_namespace: &str,
        namespace: &str,
        namespace_labels: &BTreeMap<String, String>,
    ) -> bool {
        let allowed = &self.allowed_namespaces;
        match allowed.from {
            None => false,
            Some(FromNamespaces::All) => true,
            Some(FromNamespaces::Same) => owner_namespace == namespace,
            Some(FromNamespaces::Selector) => allowed
                .selector
                .as_ref()
                .is_some_and(|s| selector_matches(s, namespace_labels)),
        }
    }
}

/// [`UsagePolicy::allows`] for an optional policy; an absent policy behaves like the
/// webhook default (`from: Same`).
pub fn usage_allowed(
    policy: Option<&UsagePolicy>,
    owner_namespace: &str,
    namespace: &str,
    namespace_labels: &BTreeMap<String, String>,
) -> bool {
    match policy {
        Some(p) => p.allows(owner_namespace, namespace, namespace_labels),
        None => owner_namespace == namespace,
    }
}
