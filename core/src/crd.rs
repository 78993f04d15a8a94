//! CustomResourceDefinitions of every kind Cairn serves, generated from the API types,
//! and their multi-document YAML form (what `deploy/crds/cairn-crds.yaml` holds).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use crate::api::{
    Addon, AppBinding, BackupConfiguration, BackupSession, BackupStorage, Function, HookTemplate,
    Kind, Repository, RestoreSession, RetentionPolicy, Snapshot,
};

/// The CRD of `kind`.
pub fn crd_for(kind: Kind) -> CustomResourceDefinition {
    match kind {
        Kind::BackupStorage => BackupStorage::crd(),
        Kind::Repository => Repository::crd(),
        Kind::Snapshot => Snapshot::crd(),
        Kind::RetentionPolicy => RetentionPolicy::crd(),
        Kind::BackupConfiguration => BackupConfiguration::crd(),
        Kind::BackupSession => BackupSession::crd(),
        Kind::RestoreSession => RestoreSession::crd(),
        Kind::HookTemplate => HookTemplate::crd(),
        Kind::Addon => Addon::crd(),
        Kind::Function => Function::crd(),
        Kind::AppBinding => AppBinding::crd(),
    }
}

/// Every CRD, in [`Kind::ALL`] order.
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    Kind::ALL.into_iter().map(crd_for).collect()
}

/// Every CRD as one multi-document YAML stream, deterministic byte for byte.
pub fn crds_yaml() -> String {
    let mut out = String::new();
    for crd in all_crds() {
        out.push_str("---\n");
        // A CRD is plain data; serialising it cannot fail.
        out.push_str(&serde_yaml::to_string(&crd).expect("CRD serialises to YAML"));
    }
    out
}
