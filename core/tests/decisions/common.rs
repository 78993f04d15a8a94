//! Fixtures shared by the decision tables.

#![allow(dead_code)] // each table uses a different subset

use cairn_core::api::condition::get_condition;
use cairn_core::api::{BackupConfiguration, BackupSessionPhase, Condition};
use cairn_core::job::{JobKey, JobKind, JobResult};
use cairn_core::world::{Fact, Object, ObjectKey, World};
use chrono::{DateTime, Utc};

use super::harness::*;

/// The instant session the sample configuration creates at [`t0`].
pub const SESSION: &str = "sample-sdb-backup-frequent-backup-1724065100";
/// Its Snapshot.
pub const SNAPSHOT: &str = "gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065100";

/// When the configuration is applied.
pub fn t0() -> DateTime<Utc> {
    at("2024-08-19T10:58:20Z")
}

/// The sample configuration, parsed.
pub fn sample_config() -> BackupConfiguration {
    serde_yaml::from_str(CONFIG).unwrap()
}

/// A seeded world with a Ready storage and `config` applied and settled at [`t0`].
pub fn configured(config: &str) -> World {
    let mut world = seeded_world();
    settle_with_backend(&mut world, t0());
    tell(
        &mut world,
        [Fact::Applied(object("BackupConfiguration", config))],
    );
    settle_with_backend(&mut world, t0());
    world
}

/// Same as [`configured`] with an already parsed configuration.
pub fn configured_with(config: BackupConfiguration) -> World {
    let mut world = seeded_world();
    settle_with_backend(&mut world, t0());
    tell(
        &mut world,
        [Fact::Applied(Object::BackupConfiguration(config))],
    );
    settle_with_backend(&mut world, t0());
    world
}

/// The backup job of `session` reports one successful `dump` of `snapshot`.
pub fn backup_succeeds(world: &mut World, session: &str, snapshot: &str, now: DateTime<Utc>) {
    let job = JobKey::new(JobKind::Backup, "demo", session);
    let result = JobResult::Backup(
        [(
            snapshot.to_owned(),
            [("dump".to_owned(), dump(&format!("{session:0>64}")))].into(),
        )]
        .into(),
    );
    tell(
        world,
        [Fact::JobSucceeded {
            job,
            result,
            at: now,
        }],
    );
    settle_with_backend(world, now);
}

/// A successful dump component with restic snapshot id `id`.
pub fn dump(id: &str) -> cairn_core::api::Component {
    use cairn_core::api::component_stats::{ResticStats, ResticSummary};
    cairn_core::api::Component {
        path: "repository/v1/frequent-backup/dump".to_owned(),
        phase: Some(cairn_core::api::ComponentPhase::Succeeded),
        size: "1.000 MiB".to_owned(),
        integrity: Some(true),
        driver: Some(cairn_core::api::Driver::Restic),
        restic_stats: vec![ResticStats {
            summary: Some(ResticSummary {
                id: id.to_owned(),
                ..ResticSummary::default()
            }),
            progress: None,
        }],
        ..cairn_core::api::Component::default()
    }
}

/// Phase of BackupSession `demo/name`.
pub fn session_phase(world: &World, name: &str) -> Option<BackupSessionPhase> {
    world
        .backup_sessions
        .get(&ObjectKey::new("demo", name))?
        .status
        .as_ref()?
        .phase
}

/// Message of condition `type_`, or a placeholder naming what is missing.
pub fn message(conditions: &[Condition], type_: &str) -> String {
    get_condition(conditions, type_)
        .map(|c| c.message.clone())
        .unwrap_or_else(|| format!("<no {type_} condition in {conditions:?}>"))
}

/// BackupSessions of the sample configuration, by name.
pub fn session_names(world: &World) -> Vec<String> {
    world
        .backup_sessions
        .keys()
        .map(|k| k.name.clone())
        .collect()
}
