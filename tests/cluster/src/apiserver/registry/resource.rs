//! What the server knows about one resource type (built-in or from a CRD).

use serde_json::Value;

/// One servable resource (plural) of one group/version.
#[derive(Debug, Clone)]
pub struct Resource {
    /// API group ("" for core).
    pub group: String,
    /// Versions served (the first is the preferred one).
    pub versions: Vec<String>,
    /// Kind.
    pub kind: String,
    /// Plural (the URL segment).
    pub plural: String,
    /// Singular.
    pub singular: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// `kubectl get <short>`.
    pub short_names: Vec<String>,
    /// `kubectl get all` etc.
    pub categories: Vec<String>,
    /// Has a `/status` subresource (main writes keep status, status writes keep the rest).
    pub status: bool,
    /// Other subresources (`log`, `token`, `exec`...).
    pub extra_subresources: Vec<&'static str>,
    /// `metadata.generation` is maintained.
    pub generation: bool,
    /// Only these verbs (events: no watch filter etc.); empty = all.
    pub verbs: Vec<&'static str>,
    /// For CRDs: per version, the openAPIV3Schema and printer columns.
    pub crd: Option<CrdInfo>,
}

/// The CRD parts the server uses for a custom resource.
#[derive(Debug, Clone)]
pub struct CrdInfo {
    /// `(version name, openAPIV3Schema, additionalPrinterColumns)`.
    pub versions: Vec<(String, Value, Vec<Value>)>,
    /// The CRD's own name (`plural.group`).
    pub crd_name: String,
}

impl Resource {
    /// `group/version` for the preferred version.
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{}", self.group, version)
        }
    }

    /// The verbs announced in discovery.
    pub fn discovery_verbs(&self) -> Vec<&'static str> {
        if !self.verbs.is_empty() {
            return self.verbs.clone();
        }
        vec![
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ]
    }

    /// The schema of `version` (CRDs only).
    pub fn schema(&self, version: &str) -> Option<&Value> {
        let crd = self.crd.as_ref()?;
        crd.versions
            .iter()
            .find(|(v, _, _)| v == version)
            .map(|(_, s, _)| s)
    }

    /// Printer columns of `version` (CRDs only).
    pub fn printer_columns(&self, version: &str) -> Option<&Vec<Value>> {
        let crd = self.crd.as_ref()?;
        crd.versions
            .iter()
            .find(|(v, _, _)| v == version)
            .map(|(_, _, c)| c)
    }

    /// Where its objects are stored: events.k8s.io Events share core/v1's storage (and are
    /// converted on the way in and out), everything else is stored under its own name.
    pub fn gr(&self) -> (String, String) {
        if self.group == "events.k8s.io" && self.plural == "events" {
            return (String::new(), "events".into());
        }
        (self.group.clone(), self.plural.clone())
    }

    /// Is this a custom resource?
    pub fn is_custom(&self) -> bool {
        self.crd.is_some()
    }
}

/// The built-in resources.
pub fn builtins() -> Vec<Resource> {
    let mut out = Vec::new();
    let mut add = |group: &str,
                   version: &str,
                   kind: &str,
                   plural: &str,
                   namespaced: bool,
                   short: &[&str],
                   status: bool,
                   generation: bool| {
        out.push(Resource {
            group: group.into(),
            versions: vec![version.into()],
            kind: kind.into(),
            plural: plural.into(),
            singular: kind.to_lowercase(),
            namespaced,
            short_names: short.iter().map(|s| s.to_string()).collect(),
            categories: Vec::new(),
            status,
            extra_subresources: Vec::new(),
            generation,
            verbs: Vec::new(),
            crd: None,
        });
    };
    add(
        "",
        "v1",
        "Namespace",
        "namespaces",
        false,
        &["ns"],
        true,
        false,
    );
    add("", "v1", "Node", "nodes", false, &["no"], true, false);
    add("", "v1", "Secret", "secrets", true, &[], false, false);
    add(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        true,
        &["cm"],
        false,
        false,
    );
    add(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        true,
        &["sa"],
        false,
        false,
    );
    add("", "v1", "Service", "services", true, &["svc"], true, false);
    add(
        "",
        "v1",
        "Endpoints",
        "endpoints",
        true,
        &["ep"],
        false,
        false,
    );
    add("", "v1", "Pod", "pods", true, &["po"], true, true);
    add("", "v1", "Event", "events", true, &["ev"], false, false);
    add(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
        &["pvc"],
        true,
        false,
    );
    add(
        "",
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        false,
        &["pv"],
        true,
        false,
    );
    add(
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        true,
        &["ev"],
        false,
        false,
    );
    add(
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        true,
        &[],
        false,
        false,
    );
    add("batch", "v1", "Job", "jobs", true, &[], true, true);
    add(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        true,
        &["cj"],
        true,
        true,
    );
    add(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        true,
        &["deploy"],
        true,
        true,
    );
    add(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        true,
        &["rs"],
        true,
        true,
    );
    add(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        true,
        &["sts"],
        true,
        true,
    );
    add(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
        &["pdb"],
        true,
        true,
    );
    let rbac = "rbac.authorization.k8s.io";
    add(rbac, "v1", "Role", "roles", true, &[], false, false);
    add(
        rbac,
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
        &[],
        false,
        false,
    );
    add(
        rbac,
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
        &[],
        false,
        false,
    );
    add(
        rbac,
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        &[],
        false,
        false,
    );
    add(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        &["crd", "crds"],
        true,
        true,
    );
    let adm = "admissionregistration.k8s.io";
    add(
        adm,
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
        &[],
        false,
        true,
    );
    add(
        adm,
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
        &[],
        false,
        true,
    );
    let authz = "authorization.k8s.io";
    add(
        authz,
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        false,
        &[],
        false,
        false,
    );
    add(
        authz,
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        false,
        &[],
        false,
        false,
    );
    add(
        "authentication.k8s.io",
        "v1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        false,
        &[],
        false,
        false,
    );
    add(
        "authentication.k8s.io",
        "v1",
        "TokenReview",
        "tokenreviews",
        false,
        &[],
        false,
        false,
    );
    for r in out.iter_mut() {
        match r.plural.as_str() {
            "pods" => {
                r.extra_subresources = vec!["log", "exec", "eviction", "binding"];
                r.categories = vec!["all".into()];
            }
            "serviceaccounts" => r.extra_subresources = vec!["token"],
            "deployments" | "replicasets" | "statefulsets" => {
                r.extra_subresources = vec!["scale"];
                r.categories = vec!["all".into()];
            }
            "jobs" | "cronjobs" | "services" => r.categories = vec!["all".into()],
            "selfsubjectaccessreviews"
            | "subjectaccessreviews"
            | "selfsubjectreviews"
            | "tokenreviews" => r.verbs = vec!["create"],
            "customresourcedefinitions" => r.categories = vec!["api-extensions".into()],
            _ => {}
        }
    }
    out
}
