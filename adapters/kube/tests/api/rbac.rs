//! RBAC in deploy/rbac grants exactly what the operator, the executor and the trigger
//! use, and every request the scenarios send is granted.

use std::collections::BTreeSet;

use cairn_core::world::Outcome;
use cairn_kube::backend::FixedBackend;
use cairn_kube::driver::Driver;
use cairn_kube::objects::Config;
use cairn_kube::rbac::{expand, EXECUTOR, OPERATOR, TRIGGER};
use cairn_kube::request::Access;
use serde_json::{json, Value};

use super::support::*;

fn deploy(file: &str) -> Vec<Value> {
    let path = format!("{}/../../deploy/rbac/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

/// Permissions a ClusterRole grants, one per (group, resource, verb).
pub fn granted(file: &str, role: &str) -> BTreeSet<Access> {
    let docs = deploy(file);
    let cr = docs
        .iter()
        .find(|d| d["kind"] == "ClusterRole" && d["metadata"]["name"] == role)
        .unwrap_or_else(|| panic!("ClusterRole {role} in {file}"));
    let mut out = BTreeSet::new();
    for rule in cr["rules"].as_array().unwrap() {
        let list = |k: &str| -> Vec<String> {
            rule[k]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default()
        };
        assert!(
            !list("verbs").contains(&"*".to_owned())
                && !list("resources").contains(&"*".to_owned()),
            "no wildcards"
        );
        for group in list("apiGroups") {
            for resource in list("resources") {
                for verb in list("verbs") {
                    out.insert(Access {
                        group: group.clone(),
                        resource: resource.clone(),
                        verb,
                    });
                }
            }
        }
    }
    out
}

#[test]
fn deploy_rbac_grants_exactly_what_the_code_uses() {
    let cases = [
        ("operator.yaml", "cairn-operator", OPERATOR),
        ("executor.yaml", "cairn-executor", EXECUTOR),
        ("trigger.yaml", "cairn-trigger", TRIGGER),
    ];
    for (file, role, grants) in cases {
        let used: BTreeSet<Access> = expand(grants).into_iter().collect();
        let given = granted(file, role);
        let missing: Vec<_> = used.difference(&given).collect();
        let extra: Vec<_> = given.difference(&used).collect();
        assert!(missing.is_empty(), "{role} lacks {missing:#?}");
        assert!(extra.is_empty(), "{role} grants more than used: {extra:#?}");
    }
    let bind = deploy("operator.yaml")
        .into_iter()
        .find(|d| d["kind"] == "ClusterRole")
        .unwrap()["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["verbs"] == json!(["bind"]))
        .cloned()
        .unwrap();
    let cfg = Config::default();
    assert_eq!(
        bind["resourceNames"],
        json!([cfg.executor_cluster_role, cfg.trigger_cluster_role])
    );
}

/// The permission an HTTP request needs.
pub fn access_of(l: &Logged) -> Vec<Access> {
    let path = l.path.split('?').next().unwrap();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, rest) = match parts[0] {
        "api" => ("", &parts[2..]),
        _ => (parts[1], &parts[3..]),
    };
    let rest = if rest.first() == Some(&"namespaces") && rest.len() > 2 {
        &rest[2..]
    } else {
        rest
    };
    let resource = match rest {
        [plural, _name, sub] => format!("{plural}/{sub}"),
        [plural, ..] => (*plural).to_owned(),
        [] => unreachable!(),
    };
    let verbs: &[&str] = match (l.method.as_str(), l.content_type.as_str()) {
        // Applying a subresource never creates the object (404 if it is absent).
        ("PATCH", "application/apply-patch+yaml") if resource.contains('/') => &["patch"],
        ("PATCH", "application/apply-patch+yaml") => &["create", "patch"],
        ("PATCH", _) => &["patch"],
        ("DELETE", _) => &["delete"],
        ("POST", _) => &["create"],
        ("GET", _) => &["get"],
        other => panic!("unexpected {other:?}"),
    };
    verbs
        .iter()
        .map(|v| Access {
            group: group.to_owned(),
            resource: resource.clone(),
            verb: (*v).to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn every_request_of_the_scenarios_is_granted() {
    let (client, fake) = Fake::start();
    seed(&fake);
    let mut d = Driver::new(Config::default());
    let backend = FixedBackend(Outcome::Ok);
    let mut now = at("2024-08-19T10:58:20Z");
    let step = |fake: &Fake| fake.observed();
    for round in 0..8 {
        if round == 1 {
            fake.put(yaml(CONFIG));
        }
        if round == 3 {
            for p in fake.paths("/apis/batch/v1/namespaces/demo/jobs/") {
                fake.edit(&p, |j| {
                    j["status"] = json!({"conditions": [{"type": "Failed", "status": "True"}]})
                });
            }
            fake.put(yaml(RESTORE));
        }
        if round == 5 {
            now = at("2024-08-19T12:00:00Z");
            for p in [
                "/apis/core.kubestash.com/v1alpha1/namespaces/demo/backupconfigurations/sample-sdb-backup",
                "/apis/storage.kubestash.com/v1alpha1/namespaces/demo/backupstorages/gcs-storage",
            ] {
                fake.edit(p, |o| o["metadata"]["deletionTimestamp"] = json!("2024-08-19T12:00:00Z"));
            }
        }
        d.tasks.idle().await;
        let observed = step(&fake);
        d.reconcile(&client, &backend, &observed, now, &fake.leader)
            .await
            .unwrap();
    }
    let log = fake.take_log();
    assert!(
        log.len() > 30,
        "the story exercised the operator: {}",
        log.len()
    );
    let allowed: BTreeSet<Access> = granted("operator.yaml", "cairn-operator");
    for l in &log {
        for a in access_of(l) {
            assert!(allowed.contains(&a), "{} {} needs {a:?}", l.method, l.path);
        }
    }
}
