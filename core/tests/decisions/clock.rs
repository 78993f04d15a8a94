//! The clock jumps across schedule boundaries (`*/5 * * * *`): an hour forward runs one
//! catch-up backup for the latest slot (not twelve), an hour back re-runs nothing, and
//! the schedule resumes with the first slot after the one already run.

use cairn_core::effect::Effect;
use cairn_core::plan::naming::backup_session_name;
use cairn_core::world::{Object, World};
use chrono::{DateTime, Utc};

use super::common::*;
use super::harness::*;

/// Names of the BackupSessions `effects` created.
fn created(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Apply(Object::BackupSession(s)) => s.metadata.name.clone(),
            _ => None,
        })
        .collect()
}

/// The scheduled session of the sample configuration for `slot`.
fn slot_session(slot: &str) -> String {
    backup_session_name("sample-sdb-backup", "frequent-backup", at(slot).timestamp())
}

/// Settles at `now`; the sessions created, each backed up successfully.
fn tick(world: &mut World, now: DateTime<Utc>) -> Vec<String> {
    let names = created(&settle_with_backend(world, now));
    for name in &names {
        backup_succeeds(world, name, &format!("gcs-sdb-repo-{name}"), now);
    }
    names
}

#[test]
fn a_clock_jumping_an_hour_forward_and_back_runs_one_catch_up_and_nothing_twice() {
    let mut world = configured(CONFIG);
    backup_succeeds(&mut world, SESSION, SNAPSHOT, at("2024-08-19T10:58:30Z"));

    // The 11:00 slot fires once, however often the daemon wakes around it.
    assert_eq!(
        tick(&mut world, at("2024-08-19T11:00:00Z")),
        [slot_session("2024-08-19T11:00:00Z")]
    );
    assert!(tick(&mut world, at("2024-08-19T11:00:01Z")).is_empty());
    assert!(tick(&mut world, at("2024-08-19T11:04:59Z")).is_empty());

    // The clock jumps forward an hour: twelve slots passed, one catch-up run for the
    // latest (12:00), none for the eleven before it.
    assert_eq!(
        tick(&mut world, at("2024-08-19T12:01:30Z")),
        [slot_session("2024-08-19T12:00:00Z")]
    );

    // The clock jumps back an hour: slots 11:05..12:00 come round again; none re-runs.
    for now in [
        "2024-08-19T11:01:30Z",
        "2024-08-19T11:05:00Z",
        "2024-08-19T11:30:00Z",
        "2024-08-19T12:00:00Z",
        "2024-08-19T12:04:59Z",
    ] {
        assert!(
            tick(&mut world, at(now)).is_empty(),
            "a slot re-ran at {now}"
        );
    }

    // The schedule goes on with the first slot after the last one run.
    assert_eq!(
        tick(&mut world, at("2024-08-19T12:05:00Z")),
        [slot_session("2024-08-19T12:05:00Z")]
    );
}
