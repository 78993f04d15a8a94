//! The resource types served: built-ins plus those of established CRDs.

pub mod crd;
pub mod events;
pub mod resource;

use std::sync::Arc;

pub use resource::{CrdInfo, Resource};

/// All resource types currently served.
#[derive(Debug, Clone)]
pub struct Registry {
    builtins: Vec<Arc<Resource>>,
    custom: Vec<Arc<Resource>>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            builtins: resource::builtins().into_iter().map(Arc::new).collect(),
            custom: Vec::new(),
        }
    }
}

impl Registry {
    /// Every resource (built-ins first).
    pub fn all(&self) -> impl Iterator<Item = &Arc<Resource>> {
        self.builtins.iter().chain(self.custom.iter())
    }

    /// The resource served at `/apis/group/version/plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Arc<Resource>> {
        self.all()
            .find(|r| {
                r.group == group && r.plural == plural && r.versions.iter().any(|v| v == version)
            })
            .cloned()
    }

    /// The resource of `apiVersion` + `kind` (owner references, webhooks).
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<Arc<Resource>> {
        let (group, version) = split_api_version(api_version);
        self.all()
            .find(|r| r.group == group && r.kind == kind && r.versions.iter().any(|v| v == version))
            .cloned()
    }

    /// `(group, versions)` pairs, core first, each group once, in registration order.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for r in self.all() {
            match out.iter_mut().find(|(g, _)| *g == r.group) {
                Some((_, vs)) => {
                    for v in &r.versions {
                        if !vs.contains(v) {
                            vs.push(v.clone());
                        }
                    }
                }
                None => out.push((r.group.clone(), r.versions.clone())),
            }
        }
        out
    }

    /// Replaces the custom resources with those of `crds` (established CRD objects).
    pub fn set_custom(&mut self, crds: &[serde_json::Value]) {
        self.custom = crds
            .iter()
            .filter_map(crd::resource_of)
            .map(Arc::new)
            .collect();
    }
}

/// `("apps", "v1")` of `apps/v1`, `("", "v1")` of `v1`.
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}
