//! How lists and maps merge at a path: from a CRD schema (`x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`) or, for built-in kinds, from the
//! `patchMergeKey`/`listType` markers of the upstream Go types that kubectl relies on.

use serde_json::Value;

/// How a list merges.
#[derive(Debug, Clone, PartialEq)]
pub enum ListKind {
    /// Replaced as a whole.
    Atomic,
    /// Scalars, merged as a set.
    Set,
    /// Objects merged by these key fields.
    Map(Vec<String>),
}

/// Type information for merging at a path of field names (list items are transparent).
pub trait Types {
    /// The list kind at `path`.
    fn list(&self, path: &[&str]) -> ListKind;
    /// Is the map/struct at `path` atomic (replaced as a whole)?
    fn atomic_map(&self, path: &[&str]) -> bool;
}

/// Built-in kinds (by Kind) from the upstream markers.
pub struct Builtin<'a>(pub &'a str);

impl Types for Builtin<'_> {
    fn list(&self, path: &[&str]) -> ListKind {
        let last = path.last().copied().unwrap_or("");
        let parent = if path.len() >= 2 {
            path[path.len() - 2]
        } else {
            ""
        };
        let keys = |k: &[&str]| ListKind::Map(k.iter().map(|s| s.to_string()).collect());
        if path == ["metadata", "finalizers"] {
            return ListKind::Set;
        }
        if path == ["metadata", "ownerReferences"] {
            return keys(&["uid"]);
        }
        match (parent, last) {
            (_, "containers" | "initContainers" | "ephemeralContainers") => keys(&["name"]),
            (_, "env") => keys(&["name"]),
            (_, "volumes") => keys(&["name"]),
            (_, "volumeMounts") => keys(&["mountPath"]),
            (_, "volumeDevices") => keys(&["devicePath"]),
            (_, "imagePullSecrets") => keys(&["name"]),
            (_, "hostAliases") => keys(&["ip"]),
            (_, "resourceClaims") => keys(&["name"]),
            (_, "topologySpreadConstraints") => keys(&["topologyKey", "whenUnsatisfiable"]),
            (_, "conditions") => keys(&["type"]),
            ("", "webhooks") => keys(&["name"]),
            (_, "readinessGates") => keys(&["conditionType"]),
            (_, "schedulingGates") => keys(&["name"]),
            (_, "containerStatuses" | "initContainerStatuses") => ListKind::Atomic,
            ("spec", "ports") if self.0 == "Service" => keys(&["port", "protocol"]),
            (_, "ports") => keys(&["containerPort", "protocol"]),
            _ => ListKind::Atomic,
        }
    }

    fn atomic_map(&self, path: &[&str]) -> bool {
        // LabelSelectors (`+structType=atomic`) and resource quantities merge whole.
        matches!(path.last().copied(), Some("selector") if self.0 != "Service")
            || path.ends_with(&["roleRef"])
    }
}

/// A CRD's structural schema.
pub struct Schema<'a>(pub &'a Value);

impl Schema<'_> {
    /// The schema node at `path` (object properties / additionalProperties; lists are transparent).
    pub fn node(&self, path: &[&str]) -> Option<&Value> {
        let mut cur = self.0;
        for field in path {
            while cur.get("type").and_then(Value::as_str) == Some("array") {
                cur = cur.get("items")?;
            }
            cur = match cur.get("properties").and_then(|p| p.get(*field)) {
                Some(s) => s,
                None => match cur.get("additionalProperties") {
                    Some(a) if a.is_object() => a,
                    _ => return None,
                },
            };
        }
        Some(cur)
    }
}

impl Types for Schema<'_> {
    fn list(&self, path: &[&str]) -> ListKind {
        if path.first() == Some(&"metadata") {
            return Builtin("").list(path);
        }
        let Some(node) = self.node(path) else {
            return ListKind::Atomic;
        };
        match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => ListKind::Set,
            Some("map") => ListKind::Map(
                node.get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|k| k.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => ListKind::Atomic,
        }
    }

    fn atomic_map(&self, path: &[&str]) -> bool {
        if path.first() == Some(&"metadata") {
            return false;
        }
        self.node(path)
            .and_then(|n| n.get("x-kubernetes-map-type"))
            .and_then(Value::as_str)
            == Some("atomic")
    }
}
