//! The deploy/ artefacts: files derived from the code stay in sync (run with
//! `CAIRN_BLESS=1` to rewrite them), and real tools accept what we ship.

use std::path::PathBuf;

#[path = "deploy/helm.rs"]
mod helm;
#[path = "deploy/manifests.rs"]
mod manifests;
#[path = "deploy/pod_security.rs"]
mod pod_security;
#[path = "deploy/toolchain.rs"]
mod toolchain;
#[path = "deploy/tools.rs"]
mod tools;

/// `rel` in the repository.
fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn deploy(rel: &str) -> PathBuf {
    repo("deploy").join(rel)
}

fn check(rel: &str, expected: &str) {
    let path = deploy(rel);
    if std::env::var_os("CAIRN_BLESS").is_some() {
        std::fs::write(&path, expected).unwrap();
    }
    let found = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        found == expected,
        "{} is stale: run CAIRN_BLESS=1 cargo test -p cairn-kube",
        path.display()
    );
}

/// The built-in Addon/Function catalog as manifests, for the chart's `catalog.install`.
fn catalog_yaml() -> String {
    let mut out = String::from(
        "# Generated from cairn_core::catalog by adapters/kube/tests/api/deploy.rs.\n",
    );
    for addon in cairn_core::catalog::builtin_addons() {
        let mut v = serde_json::to_value(&addon).unwrap();
        v["apiVersion"] = "addons.kubestash.com/v1alpha1".into();
        v["kind"] = "Addon".into();
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&v).unwrap());
    }
    for function in cairn_core::catalog::builtin_functions() {
        let mut v = serde_json::to_value(&function).unwrap();
        v["apiVersion"] = "addons.kubestash.com/v1alpha1".into();
        v["kind"] = "Function".into();
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&v).unwrap());
    }
    out
}

#[test]
fn helm_catalog_matches_the_built_in_catalog() {
    check("helm/cairn/catalog/catalog.yaml", &catalog_yaml());
}

#[test]
fn helm_crds_match_deploy_crds() {
    let crds = std::fs::read_to_string(deploy("crds/cairn-crds.yaml")).unwrap();
    check("helm/cairn/crds/cairn-crds.yaml", &crds);
}

#[test]
fn helm_rbac_matches_deploy_rbac() {
    let read = |f: &str| std::fs::read_to_string(deploy(&format!("rbac/{f}"))).unwrap();
    let expected = format!(
        "# Generated from deploy/rbac/*.yaml (identical rules); namespace from the release.\n{}---\n{}---\n{}",
        read("operator.yaml").replace("namespace: cairn-system", "namespace: {{ .Release.Namespace }}"),
        read("executor.yaml"),
        read("trigger.yaml"),
    );
    check("helm/cairn/templates/rbac.yaml", &expected);
}

#[test]
fn example_manifests_parse_as_cairn_kinds() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/kubedb-singlestore");
    let mut kinds = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v: serde_json::Value = serde::Deserialize::deserialize(doc).unwrap();
            let kind = v["kind"].as_str().unwrap().to_owned();
            use cairn_core::api as a;
            let parsed = match kind.as_str() {
                "BackupStorage" => serde_json::from_value::<a::BackupStorage>(v).is_ok(),
                "RetentionPolicy" => serde_json::from_value::<a::RetentionPolicy>(v).is_ok(),
                "AppBinding" => serde_json::from_value::<a::AppBinding>(v).is_ok(),
                "BackupConfiguration" => {
                    serde_json::from_value::<a::BackupConfiguration>(v).is_ok()
                }
                "RestoreSession" => serde_json::from_value::<a::RestoreSession>(v).is_ok(),
                "Secret" => serde_json::from_value::<k8s_openapi::api::core::v1::Secret>(v).is_ok(),
                other => panic!("unexpected kind {other}"),
            };
            assert!(parsed, "{kind} in {}", path.display());
            kinds.push(kind);
        }
    }
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "AppBinding",
            "BackupConfiguration",
            "BackupStorage",
            "RestoreSession",
            "RetentionPolicy",
            "Secret",
            "Secret"
        ]
    );
}
