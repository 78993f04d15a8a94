//! Default BackupStorage / RetentionPolicy lookup (same namespace `from: Same`, then a
//! matching `Selector`, then `All`) and usage policies of the storages a
//! BackupConfiguration uses.

use std::collections::BTreeMap;

use cairn_core::api::backup_configuration::BackupInvokerPhase;
use cairn_core::api::{BackupStorage, ObjectReference, RetentionPolicy};
use cairn_core::reconcile::defaults::{default_retention_policy, default_storage, effective_spec};
use cairn_core::world::{Fact, Object, ObjectKey, World};

use super::common::*;
use super::harness::*;

fn storage(namespace: &str, name: &str, usage: &str, default: bool) -> BackupStorage {
    serde_yaml::from_str(&format!(
        r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  storage: {{provider: local, local: {{mountPath: /data, hostPath: {{path: /tmp}}}}}}
  usagePolicy: {usage}
  default: {default}
"#
    ))
    .unwrap()
}

fn policy(namespace: &str, name: &str, usage: &str) -> RetentionPolicy {
    serde_yaml::from_str(&format!(
        r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: RetentionPolicy
metadata: {{name: {name}, namespace: {namespace}}}
spec: {{default: true, successfulSnapshots: {{last: 3}}, usagePolicy: {usage}}}
"#
    ))
    .unwrap()
}

const SAME: &str = "{allowedNamespaces: {from: Same}}";
const ALL: &str = "{allowedNamespaces: {from: All}}";
const SELECTOR: &str = "{allowedNamespaces: {from: Selector, selector: {matchLabels: {team: db}}}}";

fn world_of(storages: Vec<BackupStorage>, team_db: bool) -> World {
    let mut world = World::new();
    let labels = if team_db {
        BTreeMap::from([("team".to_owned(), "db".to_owned())])
    } else {
        BTreeMap::new()
    };
    tell(
        &mut world,
        [Fact::NamespaceLabels {
            namespace: "app".to_owned(),
            labels,
        }],
    );
    tell(
        &mut world,
        storages
            .into_iter()
            .map(|s| Fact::Applied(Object::BackupStorage(s))),
    );
    world
}

/// (case, storages, namespace labels match the selector, expected `(ns, name)`).
type Case = (
    &'static str,
    Vec<BackupStorage>,
    bool,
    Option<(&'static str, &'static str)>,
);

#[test]
fn default_storage_lookup_order() {
    // (case, storages, namespace labels match the selector, expected default for "app")
    let cases: Vec<Case> = vec![
        ("none", vec![], true, None),
        (
            "same namespace wins over selector and all",
            vec![
                storage("a-shared", "all", ALL, true),
                storage("b-shared", "sel", SELECTOR, true),
                storage("app", "mine", SAME, true),
            ],
            true,
            Some(("app", "mine")),
        ),
        (
            "selector wins over all",
            vec![
                storage("a-shared", "all", ALL, true),
                storage("b-shared", "sel", SELECTOR, true),
            ],
            true,
            Some(("b-shared", "sel")),
        ),
        (
            "selector that does not match falls back to all",
            vec![
                storage("a-shared", "all", ALL, true),
                storage("b-shared", "sel", SELECTOR, true),
            ],
            false,
            Some(("a-shared", "all")),
        ),
        (
            "another namespace's Same default is not ours",
            vec![storage("other", "theirs", SAME, true)],
            true,
            None,
        ),
        (
            "non-default storages are never picked",
            vec![storage("app", "mine", SAME, false)],
            true,
            None,
        ),
    ];
    for (case, storages, team_db, expected) in cases {
        let world = world_of(storages, team_db);
        let expected = expected.map(|(ns, n)| ObjectReference::new(ns, n));
        assert_eq!(default_storage(&world, "app"), expected, "{case}");
    }
}

#[test]
fn default_retention_policy_lookup_order() {
    let mut world = world_of(vec![], true);
    tell(
        &mut world,
        [
            Fact::Applied(Object::RetentionPolicy(policy("shared", "all", ALL))),
            Fact::Applied(Object::RetentionPolicy(policy("db", "sel", SELECTOR))),
        ],
    );
    assert_eq!(
        default_retention_policy(&world, "app"),
        Some(ObjectReference::new("db", "sel"))
    );
    tell(
        &mut world,
        [Fact::Applied(Object::RetentionPolicy(policy(
            "app", "mine", SAME,
        )))],
    );
    assert_eq!(
        default_retention_policy(&world, "app"),
        Some(ObjectReference::new("app", "mine"))
    );
}

#[test]
fn the_effective_spec_fills_backend_and_retention_policy() {
    let mut bc = sample_config();
    bc.spec.backends.clear();
    bc.spec.sessions[0].repositories[0].backend.clear();
    let world = configured_with(bc.clone());
    let spec = effective_spec(&world, &bc);
    assert_eq!(spec.backends.len(), 1);
    assert_eq!(spec.backends[0].name, "");
    assert_eq!(
        spec.backends[0].storage_ref,
        Some(ObjectReference::new("demo", "gcs-storage"))
    );
    assert_eq!(
        spec.backends[0].retention_policy,
        Some(ObjectReference::new("demo", "demo-retention"))
    );
    let status = world.backup_configurations[&ObjectKey::of(&bc.metadata)]
        .status
        .clone()
        .unwrap();
    assert_eq!(status.phase, Some(BackupInvokerPhase::Ready));
    assert!(world.backup_sessions.len() == 1, "the instant backup ran");
}

/// The sample configuration moved to namespace `app` while the storage stays in `demo`.
fn config_in_app() -> cairn_core::api::BackupConfiguration {
    let mut bc = sample_config();
    bc.metadata.namespace = Some("app".to_owned());
    bc.spec.target.as_mut().unwrap().namespace = "app".to_owned();
    bc
}

#[test]
fn usage_policy_of_the_storage_decides_who_may_use_it() {
    // (usage policy of demo/gcs-storage, labels of "app" match, Ready, reason fragment)
    let cases = [
        (SAME, false, false, "does not allow use from namespace app"),
        (ALL, false, true, ""),
        (SELECTOR, true, true, ""),
        (
            SELECTOR,
            false,
            false,
            "does not allow use from namespace app",
        ),
    ];
    for (usage, team_db, ready, reason) in cases {
        let mut world = seeded_world();
        let mut storage: BackupStorage = serde_yaml::from_str(STORAGE).unwrap();
        storage.spec.usage_policy = serde_yaml::from_str(usage).unwrap();
        let mut app = object("AppBinding", APP_BINDING);
        if let Object::AppBinding(a) = &mut app {
            a.metadata.namespace = Some("app".to_owned());
        }
        let labels = if team_db {
            BTreeMap::from([("team".to_owned(), "db".to_owned())])
        } else {
            BTreeMap::new()
        };
        tell(
            &mut world,
            [
                Fact::NamespaceLabels {
                    namespace: "app".to_owned(),
                    labels,
                },
                Fact::Applied(Object::BackupStorage(storage)),
                Fact::Applied(app),
                Fact::Applied(Object::BackupConfiguration(config_in_app())),
            ],
        );
        settle_with_backend(&mut world, t0());
        let status = world.backup_configurations[&ObjectKey::new("app", "sample-sdb-backup")]
            .status
            .clone()
            .unwrap();
        if ready {
            assert_eq!(status.phase, Some(BackupInvokerPhase::Ready), "{usage}");
            assert_eq!(status.backends[0].ready, Some(true), "{usage}");
            continue;
        }
        // Invalid, as KubeStash's webhook refuses it, with the storage and namespace named.
        assert_eq!(
            status.phase,
            Some(BackupInvokerPhase::Invalid),
            "{usage} team_db={team_db}"
        );
        let got = message(&status.conditions, "ValidationPassed");
        assert!(got.contains(reason), "{usage}: {got:?}");
        assert!(got.contains("BackupStorage demo/gcs-storage"), "{got}");
        assert!(
            world.backup_sessions.is_empty(),
            "no backup when not allowed"
        );
        // Allowing the namespace in the storage is enough: the next reconcile passes.
        storage_allows_all(&mut world);
        settle_with_backend(&mut world, t0());
        let status = world.backup_configurations[&ObjectKey::new("app", "sample-sdb-backup")]
            .status
            .clone()
            .unwrap();
        assert_eq!(
            status.phase,
            Some(BackupInvokerPhase::Ready),
            "{usage} fixed"
        );
    }
}

fn storage_allows_all(world: &mut World) {
    let mut storage: BackupStorage = serde_yaml::from_str(STORAGE).unwrap();
    storage.spec.usage_policy = serde_yaml::from_str(ALL).unwrap();
    tell(world, [Fact::Applied(Object::BackupStorage(storage))]);
}
