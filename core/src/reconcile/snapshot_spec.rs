//! The Snapshot objects a BackupSession creates: one per repository, with KubeStash's
//! name, labels, owner and a deterministic ULID-shaped `snapshotID`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::api::component::SNAPSHOT_VERSION_V1;
use crate::api::label::*;
use crate::api::snapshot::BackupType;
use crate::api::{BackupSession, Kind, Repository, Snapshot, SnapshotSpec};
use crate::plan::naming::snapshot_name;
use crate::world::object::to_time;

/// Crockford base32 alphabet used by ULIDs.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID-shaped id: 48-bit milliseconds of `at`, then 80 bits hashed from `seed`.
///
/// No randomness: the same session and snapshot always get the same id, so a replayed
/// create is a no-op. Ids still sort by time like real ULIDs.
pub fn snapshot_id(at: DateTime<Utc>, seed: &str) -> String {
    let millis = u128::try_from(at.timestamp_millis().max(0)).unwrap_or(0) & ((1 << 48) - 1);
    let (a, b) = (
        fnv1a(seed, 0xcbf2_9ce4_8422_2325),
        fnv1a(seed, 0x6c62_272e_07bb_0142),
    );
    let entropy = ((u128::from(a) << 16) ^ u128::from(b)) & ((1 << 80) - 1);
    let mut value = (millis << 80) | entropy;
    let mut out = [0u8; 26];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn fnv1a(text: &str, basis: u64) -> u64 {
    text.bytes().fold(basis, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The Snapshot of `session` in `repository`.
pub fn desired_snapshot(
    session: &BackupSession,
    repository: &Repository,
    db_version: Option<&str>,
    now: DateTime<Utc>,
) -> Snapshot {
    let namespace = session.metadata.namespace.clone().unwrap_or_default();
    let session_name = session.metadata.name.clone().unwrap_or_default();
    let repo_name = repository.metadata.name.clone().unwrap_or_default();
    let name = snapshot_name(&repo_name, &session_name);
    let app = repository.spec.app_ref.clone();
    let labels = BTreeMap::from([
        (MANAGED_BY.to_owned(), MANAGED_BY_KUBESTASH.to_owned()),
        (REPO_NAME.to_owned(), repo_name.clone()),
        (APP_REF_KIND.to_owned(), app.kind.clone()),
        (
            APP_REF_NAMESPACE.to_owned(),
            if app.namespace.is_empty() {
                namespace.clone()
            } else {
                app.namespace.clone()
            },
        ),
        (APP_REF_NAME.to_owned(), app.name.clone()),
        (SESSION_NAME.to_owned(), session.spec.session.clone()),
    ]);
    let annotations =
        db_version.map(|v| BTreeMap::from([(ANN_KUBEDB_APP_VERSION.to_owned(), v.to_owned())]));
    let owner = OwnerReference {
        api_version: Kind::Repository.api_version(),
        kind: Kind::Repository.name().to_owned(),
        name: repo_name.clone(),
        uid: repository.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    let created = crate::world::object::created_at(&session.metadata).unwrap_or(now);
    Snapshot {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(namespace.clone()),
            labels: Some(labels),
            annotations,
            owner_references: Some(vec![owner]),
            finalizers: Some(vec![CLEANUP_FINALIZER.to_owned()]),
            creation_timestamp: Some(to_time(now)),
            ..ObjectMeta::default()
        },
        spec: SnapshotSpec {
            snapshot_id: snapshot_id(created, &format!("{namespace}/{name}")),
            type_: Some(BackupType::FullBackup),
            repository: repo_name,
            session: session.spec.session.clone(),
            backup_session: session_name,
            version: SNAPSHOT_VERSION_V1.to_owned(),
            app_ref: app,
            deletion_policy: repository.spec.deletion_policy,
            paused: false,
        },
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_id_is_ulid_shaped_and_deterministic() {
        let at = DateTime::from_timestamp(1_724_065_200, 0).unwrap();
        let a = snapshot_id(
            at,
            "demo/gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065200",
        );
        assert_eq!(a.len(), 26);
        assert!(a.bytes().all(|b| CROCKFORD.contains(&b)));
        assert_eq!(
            a,
            snapshot_id(
                at,
                "demo/gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065200"
            )
        );
        assert_ne!(a, snapshot_id(at, "demo/other"));
        let later = snapshot_id(at + chrono::Duration::seconds(1), "demo/x");
        assert!(
            later.as_str() > snapshot_id(at, "demo/x").as_str(),
            "ids sort by time"
        );
    }
}
