//! The transition invariant "the newest Succeeded Snapshot survives" over a whole turn.

use cairn_core::api::SnapshotPhase;
use cairn_core::invariants::{check_transition, Violation};
use cairn_core::world::{ObjectKey, World};
use chrono::Duration;

use super::common::*;
use super::harness::CONFIG;

/// A world with the sample repository holding one Succeeded Snapshot.
fn with_succeeded_snapshot() -> World {
    let mut world = configured(CONFIG);
    backup_succeeds(&mut world, SESSION, SNAPSHOT, t0());
    world
}

/// Adds a newer Snapshot of the same repository in `phase`.
fn add_newer(world: &mut World, phase: SnapshotPhase) -> ObjectKey {
    let old = &world.snapshots[&ObjectKey::new("demo", SNAPSHOT)];
    let mut newer = old.clone();
    newer.metadata.name = Some(format!("{SNAPSHOT}-newer"));
    let status = newer.status.get_or_insert_with(Default::default);
    status.snapshot_time = status.snapshot_time.map(|t| t + Duration::hours(1));
    status.phase = Some(phase);
    let key = ObjectKey::of(&newer.metadata);
    world.snapshots.insert(key.clone(), newer);
    key
}

#[test]
fn retention_removing_the_older_snapshot_after_a_newer_one_succeeded_in_the_same_turn_is_fine() {
    let mut before = with_succeeded_snapshot();
    let newer = add_newer(&mut before, SnapshotPhase::Running);
    let mut after = before.clone();
    after
        .snapshots
        .get_mut(&newer)
        .and_then(|s| s.status.as_mut())
        .unwrap()
        .phase = Some(SnapshotPhase::Succeeded);
    after.snapshots.remove(&ObjectKey::new("demo", SNAPSHOT));
    assert_eq!(check_transition(&before, &after), Ok(()));
}

#[test]
fn removing_the_newest_succeeded_snapshot_is_caught_whichever_world_it_is_newest_in() {
    // Newest in `before`; the newer one never succeeded.
    let mut before = with_succeeded_snapshot();
    add_newer(&mut before, SnapshotPhase::Running);
    let mut after = before.clone();
    after.snapshots.remove(&ObjectKey::new("demo", SNAPSHOT));
    assert!(matches!(
        check_transition(&before, &after),
        Err(Violation::NewestSucceededDeleted { .. })
    ));
    // A newer Succeeded one is the newest: removing it is caught, not the older one.
    let mut before = with_succeeded_snapshot();
    let newer = add_newer(&mut before, SnapshotPhase::Succeeded);
    let mut after = before.clone();
    after.snapshots.remove(&newer);
    assert_eq!(
        check_transition(&before, &after),
        Err(Violation::NewestSucceededDeleted {
            repository: "demo/gcs-sdb-repo".to_owned(),
            snapshot: newer.to_string(),
        })
    );
}
