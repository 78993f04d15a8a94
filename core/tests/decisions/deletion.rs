//! Deletion policies behind the `kubestash.com/cleanup` finalizer: what is deleted, what
//! data is wiped, and that the finalizer goes only after the cleanup finished.

use cairn_core::api::{DeletionPolicy, Kind, Snapshot};
use cairn_core::effect::Effect;
use cairn_core::world::{Fact, Object, ObjectKey, ObjectRef, World};

use super::common::*;
use super::harness::*;

fn backed_up(config: &str) -> World {
    let mut world = configured(config);
    backup_succeeds(&mut world, SESSION, SNAPSHOT, t0());
    world
}

fn delete(world: &mut World, kind: Kind, name: &str) {
    let at = at("2024-08-19T11:30:00Z");
    tell(
        world,
        [Fact::Deleted {
            object: ObjectRef::new(kind, "demo", name),
            at,
        }],
    );
}

/// The backend answers the IO requested by `effects`, then the world settles.
fn answer(world: &mut World, effects: &[Effect]) -> Vec<Effect> {
    tell(world, backend_answers(effects, later()));
    settle_with_backend(world, later())
}

fn later() -> chrono::DateTime<chrono::Utc> {
    at("2024-08-19T11:30:00Z")
}

fn wipes(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::WipeData { path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect()
}

fn forgets(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::ForgetSnapshots { .. }))
        .count()
}

fn snapshot_key() -> ObjectKey {
    ObjectKey::new("demo", SNAPSHOT)
}

#[test]
fn snapshot_delete_keeps_the_data() {
    let mut world = backed_up(CONFIG);
    delete(&mut world, Kind::Snapshot, SNAPSHOT);
    let effects = settle(&mut world, later());
    assert_eq!(forgets(&effects), 0);
    assert!(!world.snapshots.contains_key(&snapshot_key()));
}

#[test]
fn snapshot_wipeout_forgets_restic_data_before_the_finalizer_goes() {
    let mut world = backed_up(CONFIG);
    let mut snap: Snapshot = world.snapshots[&snapshot_key()].clone();
    snap.spec.deletion_policy = Some(DeletionPolicy::WipeOut);
    tell(&mut world, [Fact::Applied(Object::Snapshot(snap))]);
    delete(&mut world, Kind::Snapshot, SNAPSHOT);
    let effects = settle(&mut world, later());
    let restic: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::ForgetSnapshots { restic, .. } => Some(restic.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(restic.len(), 1);
    assert_eq!(
        restic[0][0].0,
        "singlestore/repository/v1/frequent-backup/dump"
    );
    assert!(
        world.snapshots[&snapshot_key()]
            .metadata
            .deletion_timestamp
            .is_some(),
        "held by the finalizer until the forget is done"
    );
    answer(&mut world, &effects);
    assert!(!world.snapshots.contains_key(&snapshot_key()));
}

#[test]
fn wiping_a_snapshot_whose_job_died_before_reporting_forgets_by_its_tag() {
    // The job was killed after restic's commit: the status names the component's path but
    // no restic id, so only the Snapshot's name (the restic tag) finds the data.
    let mut world = backed_up(CONFIG);
    let mut snap: Snapshot = world.snapshots[&snapshot_key()].clone();
    snap.spec.deletion_policy = Some(DeletionPolicy::WipeOut);
    for c in snap
        .status
        .as_mut()
        .expect("status")
        .components
        .values_mut()
    {
        c.restic_stats.clear();
    }
    world.snapshots.insert(snapshot_key(), snap);
    delete(&mut world, Kind::Snapshot, SNAPSHOT);
    let effects = settle(&mut world, later());
    let forgets: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::ForgetSnapshots {
                restic, tagged_in, ..
            } => Some((restic.clone(), tagged_in.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        forgets,
        vec![(
            vec![],
            vec!["singlestore/repository/v1/frequent-backup/dump".to_owned()]
        )]
    );
}

/// (repository deletionPolicy in the configuration, repository kept, directory wiped)
const CONFIG_POLICIES: [(&str, bool, bool); 3] = [
    ("Delete", false, false),
    ("WipeOut", false, true),
    ("Retain", true, false),
];

#[test]
fn configuration_deletion_follows_the_repository_policy() {
    for (policy, kept, wiped) in CONFIG_POLICIES {
        let config = CONFIG.replace(
            "      directory: /singlestore\n",
            &format!("      directory: /singlestore\n      deletionPolicy: {policy}\n"),
        );
        let mut world = backed_up(&config);
        delete(&mut world, Kind::BackupConfiguration, "sample-sdb-backup");
        let first = settle(&mut world, later());
        let bc = ObjectKey::new("demo", "sample-sdb-backup");
        if wiped {
            assert_eq!(wipes(&first), ["singlestore"], "{policy}");
            assert!(
                world.backup_configurations.contains_key(&bc),
                "{policy}: held until the wipe is done"
            );
        }
        let effects = answer(&mut world, &first);
        assert!(!world.backup_configurations.contains_key(&bc), "{policy}");
        assert!(world.backup_sessions.is_empty(), "{policy}: sessions go");
        let repo = world
            .repositories
            .get(&ObjectKey::new("demo", "gcs-sdb-repo"));
        assert_eq!(repo.is_some(), kept, "{policy}");
        assert_eq!(
            world.snapshots.contains_key(&snapshot_key()),
            kept,
            "{policy}"
        );
        if !wiped {
            assert!(
                wipes(&first).is_empty() && wipes(&effects).is_empty(),
                "{policy}"
            );
        }
        assert!(
            world.triggers.is_empty(),
            "{policy}: the schedule goes with it"
        );
    }
}

#[test]
fn storage_delete_removes_objects_and_keeps_data() {
    let mut world = backed_up(CONFIG);
    delete(&mut world, Kind::BackupConfiguration, "sample-sdb-backup");
    delete(&mut world, Kind::BackupStorage, "gcs-storage");
    let effects = settle_with_backend(&mut world, later());
    assert!(wipes(&effects).is_empty());
    assert_eq!(forgets(&effects), 0);
    assert!(world.backup_storages.is_empty());
    assert!(world.repositories.is_empty() && world.snapshots.is_empty());
}

#[test]
fn storage_wipeout_wipes_the_root_before_the_finalizer_goes() {
    let config_storage = STORAGE.replace("deletionPolicy: Delete", "deletionPolicy: WipeOut");
    let mut world = backed_up(CONFIG);
    tell(
        &mut world,
        [Fact::Applied(object("BackupStorage", &config_storage))],
    );
    settle_with_backend(&mut world, later());
    delete(&mut world, Kind::BackupConfiguration, "sample-sdb-backup");
    delete(&mut world, Kind::BackupStorage, "gcs-storage");
    let effects = settle(&mut world, later());
    assert_eq!(wipes(&effects), [""]);
    assert!(world
        .backup_storages
        .contains_key(&ObjectKey::new("demo", "gcs-storage")));
    answer(&mut world, &effects);
    assert!(world.backup_storages.is_empty());
}

#[test]
fn storage_in_use_is_deleted_without_a_livelock() {
    // The configuration still asks for its Repository; the storage going away must not
    // make it re-create the Repository forever.
    let mut world = backed_up(CONFIG);
    delete(&mut world, Kind::BackupStorage, "gcs-storage");
    settle_with_backend(&mut world, later());
    assert!(world.backup_storages.is_empty());
    assert!(world.repositories.is_empty());
}

#[test]
fn a_recreated_storage_initializes_its_backend_again() {
    let mut world = configured(CONFIG);
    delete(&mut world, Kind::BackupConfiguration, "sample-sdb-backup");
    delete(&mut world, Kind::BackupStorage, "gcs-storage");
    settle_with_backend(&mut world, later());
    assert!(world.backup_storages.is_empty());
    tell(
        &mut world,
        [Fact::Applied(object("BackupStorage", STORAGE))],
    );
    let effects = settle(&mut world, later());
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::InitBackend { .. })),
        "metadata.yaml is written again (the old facts died with the old storage)"
    );
}
