//! The API permissions each Cairn identity uses, as data. `deploy/rbac/*.yaml` must
//! grant exactly these (a test checks both directions, and that every request the
//! scenarios send is covered).

use crate::request::Access;

/// `(group, resource, verbs)`.
pub type Grant = (&'static str, &'static str, &'static [&'static str]);

const STORAGE: &str = "storage.kubestash.com";
const CORE: &str = "core.kubestash.com";
const ADDONS: &str = "addons.kubestash.com";
const APPCATALOG: &str = "appcatalog.appscode.com";
const WATCH: &[&str] = &["list", "watch"];
const APPLY: &[&str] = &["create", "patch"];

/// What the operator reads (reflectors), writes (effects), and its lease.
pub const OPERATOR: &[Grant] = &[
    // Reflectors: every kind the world holds, plus the Jobs/CronJobs it owns.
    (
        STORAGE,
        "backupstorages",
        &["list", "watch", "patch", "delete"],
    ),
    (STORAGE, "backupstorages/status", &["patch"]),
    (
        STORAGE,
        "repositories",
        &["list", "watch", "create", "patch", "delete"],
    ),
    (STORAGE, "repositories/status", &["patch"]),
    (
        STORAGE,
        "snapshots",
        &["list", "watch", "create", "patch", "delete"],
    ),
    (STORAGE, "snapshots/status", &["patch"]),
    (STORAGE, "retentionpolicies", WATCH),
    (
        CORE,
        "backupconfigurations",
        &["list", "watch", "patch", "delete"],
    ),
    (CORE, "backupconfigurations/status", &["patch"]),
    (
        CORE,
        "backupsessions",
        &["list", "watch", "create", "patch", "delete"],
    ),
    (CORE, "backupsessions/status", &["patch"]),
    (
        CORE,
        "restoresessions",
        &["list", "watch", "patch", "delete"],
    ),
    (CORE, "restoresessions/status", &["patch"]),
    (CORE, "hooktemplates", WATCH),
    (ADDONS, "addons", WATCH),
    (ADDONS, "functions", WATCH),
    (APPCATALOG, "appbindings", WATCH),
    // Metadata watched; only the referenced ones are read, by name.
    ("", "secrets", &["get", "list", "watch"]),
    ("", "namespaces", WATCH),
    (
        "batch",
        "jobs",
        &["list", "watch", "create", "patch", "delete"],
    ),
    ("batch", "cronjobs", &["list", "watch", "create", "patch"]),
    // Executor and trigger identities, per namespace.
    ("", "serviceaccounts", APPLY),
    ("rbac.authorization.k8s.io", "rolebindings", APPLY),
    // Only the two Cairn ClusterRoles (resourceNames in the manifest).
    ("rbac.authorization.k8s.io", "clusterroles", &["bind"]),
    ("events.k8s.io", "events", &["create"]),
    ("coordination.k8s.io", "leases", &["get", "create", "patch"]),
    // Whether the pod holding a repository lock (prune) still runs.
    ("", "pods", &["get"]),
    // Owner references with `blockOwnerDeletion` (Snapshots on Repositories, sessions on
    // their BackupConfiguration, Jobs on their session, CronJobs on their configuration)
    // need `update` on the owner's finalizers where OwnerReferencesPermissionEnforcement
    // is on (OpenShift; the test cluster).
    (STORAGE, "repositories/finalizers", &["update"]),
    (CORE, "backupconfigurations/finalizers", &["update"]),
    (CORE, "backupsessions/finalizers", &["update"]),
    (CORE, "restoresessions/finalizers", &["update"]),
];

/// What an executor Job reads and reports (`cairn exec backup|restore`).
pub const EXECUTOR: &[Grant] = &[
    (CORE, "backupsessions", &["get"]),
    (CORE, "backupconfigurations", &["get"]),
    (CORE, "restoresessions", &["get"]),
    (CORE, "restoresessions/status", &["patch"]),
    (STORAGE, "backupstorages", &["get"]),
    (STORAGE, "repositories", &["get"]),
    (STORAGE, "snapshots", &["get"]),
    (STORAGE, "snapshots/status", &["patch"]),
    (APPCATALOG, "appbindings", &["get"]),
    ("", "secrets", &["get"]),
    // Its own Job: the job spec annotation.
    ("batch", "jobs", &["get"]),
    // Whether the pod holding a repository lock still runs (a retry after a killed pod).
    ("", "pods", &["get"]),
];

/// What a trigger CronJob's pod needs (`cairn trigger`).
pub const TRIGGER: &[Grant] = &[
    (CORE, "backupconfigurations", &["get"]),
    (CORE, "backupsessions", APPLY),
    // The session it creates is owned by the configuration (`blockOwnerDeletion`).
    (CORE, "backupconfigurations/finalizers", &["update"]),
];

/// Expands grants into single permissions.
pub fn expand(grants: &[Grant]) -> Vec<Access> {
    let mut out: Vec<Access> = grants
        .iter()
        .flat_map(|(group, resource, verbs)| {
            verbs.iter().map(move |verb| Access {
                group: (*group).to_owned(),
                resource: (*resource).to_owned(),
                verb: (*verb).to_owned(),
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
