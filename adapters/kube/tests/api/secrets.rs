//! The operator reads only the Secrets its BackupStorages and Repositories reference,
//! by name, and again only when one's resource version changes; the others (every other
//! application's tokens) are never read.

use cairn_core::api::{BackupStorage, Repository};
use cairn_kube::secrets::SecretReader;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::{PartialObjectMeta, PartialObjectMetaExt};
use kube::runtime::reflector::{self, store::Writer};
use kube::runtime::watcher::Event;

use super::support::*;

fn meta(name: &str, version: &str) -> PartialObjectMeta<Secret> {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some("demo".into()),
        resource_version: Some(version.into()),
        ..ObjectMeta::default()
    }
    .into_request_partial::<Secret>()
}

fn repository() -> Repository {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "storage.kubestash.com/v1alpha1", "kind": "Repository",
        "metadata": {"name": "gcs-sdb-repo", "namespace": "demo"},
        "spec": {"storageRef": {"name": "gcs-storage", "namespace": "demo"},
                 "appRef": {"name": "sdb"},
                 "encryptionSecret": {"name": "encrypt-secret", "namespace": "demo"}},
    }))
    .unwrap()
}

#[tokio::test]
async fn only_referenced_secrets_are_read_and_only_when_they_change() {
    let (client, fake) = Fake::start();
    seed(&fake);
    fake.put(secret(
        "demo",
        "other-app-token",
        &[("token", "TOPSECRET-other")],
    ));
    fake.take_log();
    let (store, mut writer): (_, Writer<PartialObjectMeta<Secret>>) = reflector::store();
    for name in [
        "gcs-secret",
        "encrypt-secret",
        "sdb-sample-root-cred",
        "other-app-token",
    ] {
        writer.apply_watcher_event(&Event::Apply(meta(name, "1")));
    }
    let storage: BackupStorage = serde_yaml::from_str(STORAGE).unwrap();
    let storages = [storage];
    let repositories = [repository()];
    let reader = SecretReader::default();

    let read = reader
        .referenced(&client, &store, &storages, &repositories)
        .await;
    let mut names: Vec<_> = read
        .iter()
        .filter_map(|s| s.metadata.name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["encrypt-secret", "gcs-secret"]);
    let gets: Vec<String> = fake.take_log().iter().map(|l| l.path.clone()).collect();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert!(
        gets.iter()
            .all(|p| p.contains("/secrets/encrypt-secret") || p.contains("/secrets/gcs-secret")),
        "{gets:?}"
    );

    // Unchanged versions: nothing is read again.
    reader
        .referenced(&client, &store, &storages, &repositories)
        .await;
    assert!(fake.take_log().is_empty());

    // A rotated credential is read again, alone.
    writer.apply_watcher_event(&Event::Apply(meta("gcs-secret", "2")));
    reader
        .referenced(&client, &store, &storages, &repositories)
        .await;
    let gets: Vec<String> = fake.take_log().iter().map(|l| l.path.clone()).collect();
    assert_eq!(gets, ["/api/v1/namespaces/demo/secrets/gcs-secret"]);

    // A deleted Secret is dropped without a request.
    writer.apply_watcher_event(&Event::Delete(meta("encrypt-secret", "1")));
    let read = reader
        .referenced(&client, &store, &storages, &repositories)
        .await;
    assert_eq!(read.len(), 1);
    assert!(fake.take_log().is_empty());
}
