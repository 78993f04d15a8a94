//! API resources the operator talks to, and their URL paths.

use cairn_core::api::Kind;

/// One API resource: group, version, plural and scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Resource {
    /// API group ("" for the core group).
    pub group: &'static str,
    /// Version.
    pub version: &'static str,
    /// Lowercase plural.
    pub plural: &'static str,
    /// `kind` string.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
}

/// batch/v1 Jobs (executors).
pub const JOBS: Resource = Resource {
    group: "batch",
    version: "v1",
    plural: "jobs",
    kind: "Job",
    namespaced: true,
};
/// batch/v1 CronJobs (session triggers).
pub const CRON_JOBS: Resource = Resource {
    group: "batch",
    version: "v1",
    plural: "cronjobs",
    kind: "CronJob",
    namespaced: true,
};
/// events.k8s.io/v1 Events.
pub const EVENTS: Resource = Resource {
    group: "events.k8s.io",
    version: "v1",
    plural: "events",
    kind: "Event",
    namespaced: true,
};
/// v1 ServiceAccounts (executor and trigger identities).
pub const SERVICE_ACCOUNTS: Resource = Resource {
    group: "",
    version: "v1",
    plural: "serviceaccounts",
    kind: "ServiceAccount",
    namespaced: true,
};
/// rbac.authorization.k8s.io/v1 RoleBindings (grant the executor ClusterRole per namespace).
pub const ROLE_BINDINGS: Resource = Resource {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    plural: "rolebindings",
    kind: "RoleBinding",
    namespaced: true,
};
/// v1 Secrets (read only).
pub const SECRETS: Resource = Resource {
    group: "",
    version: "v1",
    plural: "secrets",
    kind: "Secret",
    namespaced: true,
};
/// v1 Namespaces (labels, for usage policies).
pub const NAMESPACES: Resource = Resource {
    group: "",
    version: "v1",
    plural: "namespaces",
    kind: "Namespace",
    namespaced: false,
};
/// coordination.k8s.io/v1 Leases (leader election).
pub const LEASES: Resource = Resource {
    group: "coordination.k8s.io",
    version: "v1",
    plural: "leases",
    kind: "Lease",
    namespaced: true,
};

impl Resource {
    /// The resource of a core kind.
    pub fn of(kind: Kind) -> Resource {
        Resource {
            group: kind.group(),
            version: kind.version(),
            plural: kind.plural(),
            kind: kind.name(),
            namespaced: kind.namespaced(),
        }
    }

    /// `apiVersion` as written in objects.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Path of the collection in `namespace` (ignored for cluster-scoped resources).
    pub fn collection_path(&self, namespace: &str) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        if self.namespaced {
            format!("{base}/namespaces/{namespace}/{}", self.plural)
        } else {
            format!("{base}/{}", self.plural)
        }
    }

    /// Path of the object `name` in `namespace`.
    pub fn object_path(&self, namespace: &str, name: &str) -> String {
        format!("{}/{name}", self.collection_path(namespace))
    }
}
