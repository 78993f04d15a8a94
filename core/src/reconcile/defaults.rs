//! What KubeStash's mutating webhook fills in: the default BackupStorage and
//! RetentionPolicy of a namespace, applied to a BackupConfiguration's effective spec.
//!
//! The user's manifest is never rewritten; decisions read the effective spec.

use std::collections::BTreeMap;

use crate::api::backup_configuration::{BackendReference, BackupConfigurationSpec};
use crate::api::usage_policy::FromNamespaces;
use crate::api::{BackupConfiguration, ObjectReference, UsagePolicy};
use crate::world::World;

/// A candidate default: its namespace, name and usage policy.
struct Candidate<'a> {
    namespace: &'a str,
    name: &'a str,
    policy: Option<&'a UsagePolicy>,
}

/// KubeStash's lookup order: `default: true` in the same namespace allowing `Same`, then
/// one whose `Selector` matches the namespace labels, then one allowing `All`.
fn pick<'a>(
    candidates: &[Candidate<'a>],
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Option<ObjectReference> {
    let from = |c: &Candidate| {
        c.policy
            .and_then(|p| p.allowed_namespaces.from)
            .unwrap_or(FromNamespaces::Same)
    };
    let same = candidates
        .iter()
        .find(|c| c.namespace == namespace && from(c) == FromNamespaces::Same);
    let selector = || {
        candidates.iter().find(|c| {
            from(c) == FromNamespaces::Selector
                && c.policy
                    .is_some_and(|p| p.allows(c.namespace, namespace, labels))
        })
    };
    let all = || candidates.iter().find(|c| from(c) == FromNamespaces::All);
    same.or_else(selector)
        .or_else(all)
        .map(|c| ObjectReference::new(c.namespace, c.name))
}

/// The default BackupStorage for `namespace`.
pub fn default_storage(world: &World, namespace: &str) -> Option<ObjectReference> {
    let candidates: Vec<Candidate> = world
        .backup_storages
        .iter()
        .filter(|(_, s)| s.spec.default)
        .map(|(k, s)| Candidate {
            namespace: &k.namespace,
            name: &k.name,
            policy: s.spec.usage_policy.as_ref(),
        })
        .collect();
    pick(&candidates, namespace, world.namespace_labels(namespace))
}

/// The default RetentionPolicy for `namespace`.
pub fn default_retention_policy(world: &World, namespace: &str) -> Option<ObjectReference> {
    let candidates: Vec<Candidate> = world
        .retention_policies
        .iter()
        .filter(|(_, p)| p.spec.default)
        .map(|(k, p)| Candidate {
            namespace: &k.namespace,
            name: &k.name,
            policy: p.spec.usage_policy.as_ref(),
        })
        .collect();
    pick(&candidates, namespace, world.namespace_labels(namespace))
}

/// The spec the webhook would have produced: one unnamed backend on the default storage
/// when none is given, and the default retention policy where a backend has none.
pub fn effective_spec(
    world: &World,
    configuration: &BackupConfiguration,
) -> BackupConfigurationSpec {
    let namespace = configuration
        .metadata
        .namespace
        .as_deref()
        .unwrap_or_default();
    let mut spec = configuration.spec.clone();
    if spec.backends.is_empty() {
        if let Some(storage) = default_storage(world, namespace) {
            spec.backends.push(BackendReference {
                name: String::new(),
                storage_ref: Some(storage),
                retention_policy: None,
            });
        }
    }
    for backend in &mut spec.backends {
        if backend.retention_policy.is_none() {
            backend.retention_policy = default_retention_policy(world, namespace);
        }
    }
    spec
}
