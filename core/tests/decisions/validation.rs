//! BackupConfiguration validation: each webhook rule of the reference makes the
//! configuration Invalid with a message naming the problem and the object.

use cairn_core::api::backup_configuration::{BackupInvokerPhase, RepositoryInfo};
use cairn_core::api::{BackupConfiguration, Kind, Repository};
use cairn_core::world::{Fact, Object, ObjectKey, World};

use super::common::*;
use super::harness::*;

type Edit = fn(&mut BackupConfiguration);

fn second_repo(bc: &mut BackupConfiguration) -> &mut RepositoryInfo {
    let first = bc.spec.sessions[0].repositories[0].clone();
    bc.spec.sessions[0].repositories.push(RepositoryInfo {
        name: "second-repo".to_owned(),
        directory: "/other".to_owned(),
        ..first
    });
    bc.spec.sessions[0].repositories.last_mut().unwrap()
}

const RULES: &[(&str, Edit, &str)] = &[
    (
        "target required",
        |bc| bc.spec.target = None,
        "spec.target is required",
    ),
    (
        "unique backend names",
        |bc| {
            let b = bc.spec.backends[0].clone();
            bc.spec.backends.push(b);
        },
        "backend name \"gcs-backend\" is used more than once",
    ),
    (
        "backend storageRef required",
        |bc| bc.spec.backends[0].storage_ref = None,
        "backend \"gcs-backend\" needs storageRef",
    ),
    (
        "at least one session",
        |bc| bc.spec.sessions.clear(),
        "spec.sessions needs at least one session",
    ),
    (
        "session name required",
        |bc| bc.spec.sessions[0].name.clear(),
        "every session needs a name",
    ),
    (
        "unique session names",
        |bc| {
            let s = bc.spec.sessions[0].clone();
            bc.spec.sessions.push(s);
        },
        "session name \"frequent-backup\" is used more than once",
    ),
    (
        "scheduler required",
        |bc| bc.spec.sessions[0].scheduler = None,
        "session \"frequent-backup\" needs a scheduler",
    ),
    (
        "schedule parses",
        |bc| bc.spec.sessions[0].scheduler.as_mut().unwrap().schedule = "every day".to_owned(),
        "session \"frequent-backup\": ",
    ),
    (
        "addon name required",
        |bc| bc.spec.sessions[0].addon.as_mut().unwrap().name.clear(),
        "session \"frequent-backup\" needs addon.name",
    ),
    (
        "at least one task",
        |bc| bc.spec.sessions[0].addon.as_mut().unwrap().tasks.clear(),
        "needs at least one addon task, each with a name",
    ),
    (
        "task name required",
        |bc| {
            bc.spec.sessions[0].addon.as_mut().unwrap().tasks[0]
                .name
                .clear()
        },
        "needs at least one addon task, each with a name",
    ),
    (
        "at least one repository",
        |bc| bc.spec.sessions[0].repositories.clear(),
        "session \"frequent-backup\" needs at least one repository",
    ),
    (
        "repository backend must exist",
        |bc| bc.spec.sessions[0].repositories[0].backend = "s3-backend".to_owned(),
        "refers to backend \"s3-backend\", which is not in spec.backends",
    ),
    (
        "directory required",
        |bc| bc.spec.sessions[0].repositories[0].directory.clear(),
        "repository \"gcs-sdb-repo\" needs a directory",
    ),
    (
        "unique repository names",
        |bc| second_repo(bc).name = "gcs-sdb-repo".to_owned(),
        "repository name \"gcs-sdb-repo\" is used more than once",
    ),
    (
        "one repository per directory of a backend",
        |bc| second_repo(bc).directory = "singlestore/".to_owned(),
        "is used by more than one repository of backend \"gcs-backend\"",
    ),
    (
        "backupTimeout parses",
        |bc| bc.spec.sessions[0].backup_timeout = Some("soon".to_owned()),
        "backupTimeout \"soon\"",
    ),
    (
        "retry delay parses",
        |bc| {
            bc.spec.sessions[0].retry_config =
                Some(serde_json::from_str(r#"{"maxRetry": 1, "delay": "later"}"#).unwrap())
        },
        "retryConfig.delay \"later\"",
    ),
];

fn invalid_message(world: &World) -> (Option<BackupInvokerPhase>, String) {
    let status = world.backup_configurations[&ObjectKey::new("demo", "sample-sdb-backup")]
        .status
        .clone()
        .unwrap_or_default();
    (
        status.phase,
        message(&status.conditions, "ValidationPassed"),
    )
}

#[test]
fn every_webhook_rule_makes_the_configuration_invalid() {
    for (rule, edit, expected) in RULES {
        let mut bc = sample_config();
        edit(&mut bc);
        let world = configured_with(bc);
        let (phase, text) = invalid_message(&world);
        assert_eq!(
            phase,
            Some(BackupInvokerPhase::Invalid),
            "rule {rule}: {text}"
        );
        assert!(
            text.contains(expected),
            "rule {rule}: {text:?} lacks {expected:?}"
        );
        assert!(
            text.starts_with("BackupConfiguration demo/sample-sdb-backup is invalid"),
            "rule {rule}: the message names the object: {text}"
        );
        assert!(world.backup_sessions.is_empty(), "rule {rule}: no backup");
        assert!(world.repositories.is_empty(), "rule {rule}: no repository");
    }
}

#[test]
fn a_valid_configuration_passes() {
    let world = configured(CONFIG);
    let (phase, text) = invalid_message(&world);
    assert_eq!(phase, Some(BackupInvokerPhase::Ready), "{text}");
    assert!(text.contains("passed validation"), "{text}");
}

#[test]
fn no_backend_and_no_default_storage_is_invalid() {
    let mut bc = sample_config();
    bc.spec.backends.clear();
    bc.spec.sessions[0].repositories[0].backend.clear();
    let mut world = seeded_world();
    let mut storage: cairn_core::api::BackupStorage = serde_yaml::from_str(STORAGE).unwrap();
    storage.spec.default = false;
    tell(
        &mut world,
        [
            Fact::Applied(Object::BackupStorage(storage)),
            Fact::Applied(Object::BackupConfiguration(bc)),
        ],
    );
    settle_with_backend(&mut world, t0());
    let (phase, text) = invalid_message(&world);
    assert_eq!(phase, Some(BackupInvokerPhase::Invalid));
    assert!(
        text.contains("spec.backends needs at least one backend"),
        "{text}"
    );
}

#[test]
fn an_existing_repository_with_another_target_is_refused() {
    let mut world = seeded_world();
    settle_with_backend(&mut world, t0());
    let mut other: Repository = serde_yaml::from_str(
        r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: Repository
metadata: {name: gcs-sdb-repo, namespace: demo}
spec:
  appRef: {apiGroup: kubedb.com, kind: Singlestore, namespace: demo, name: another-db}
  storageRef: {namespace: demo, name: gcs-storage}
  path: /another
"#,
    )
    .unwrap();
    other.metadata.uid = Some("repo-uid".to_owned());
    tell(
        &mut world,
        [
            Fact::Applied(Object::Repository(other)),
            Fact::Applied(object("BackupConfiguration", CONFIG)),
        ],
    );
    settle_with_backend(&mut world, t0());
    let (phase, text) = invalid_message(&world);
    assert_eq!(phase, Some(BackupInvokerPhase::Invalid));
    assert!(
        text.contains("Repository demo/gcs-sdb-repo already exists with another target or storage"),
        "{text}"
    );
    let repo = &world.repositories[&ObjectKey::new("demo", "gcs-sdb-repo")];
    assert_eq!(
        repo.spec.path, "/another",
        "the other Repository is untouched"
    );
    let _ = Kind::Repository;
}
