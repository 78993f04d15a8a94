//! Phase rules of every kind, one test per rule branch (KubeStash `*_helpers.go`).

use cairn_core::api::backup_configuration::{BackendReference, BackendStatus, SessionStatus};
use cairn_core::api::backup_session::{
    RetentionPolicyApplyPhase, RetentionPolicyApplyStatus, SnapshotStatus as SessionSnapshot,
};
use cairn_core::api::component_stats::ResticStats;
use cairn_core::api::condition_type::*;
use cairn_core::api::restore_session::ComponentRestoreStatus;
use cairn_core::api::{
    BackupConfiguration, BackupConfigurationSpec, BackupConfigurationStatus, BackupInvokerPhase,
    BackupSessionPhase, BackupSessionStatus, BackupStoragePhase, BackupStorageStatus, Component,
    ComponentPhase, Condition, ConditionStatus, RepositoryPhase, RepositoryStatus, RestorePhase,
    RestoreSessionStatus, Session, SnapshotPhase, SnapshotStatus,
};
use chrono::{DateTime, TimeZone, Utc};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 8, 19, 11, 0, 0).unwrap()
}

fn cond(type_: &str, status: bool) -> Condition {
    let s = if status {
        ConditionStatus::True
    } else {
        ConditionStatus::False
    };
    Condition::new(type_, s, "", "", t0())
}

fn conds(list: &[(&str, bool)]) -> Vec<Condition> {
    list.iter().map(|(t, s)| cond(t, *s)).collect()
}

// BackupStorage.

#[test]
fn backup_storage_ready_without_secret_condition() {
    let s = BackupStorageStatus {
        conditions: conds(&[(TYPE_BACKEND_INITIALIZED, true)]),
        ..Default::default()
    };
    assert_eq!(s.calculate_phase(), BackupStoragePhase::Ready);
}

#[test]
fn backup_storage_ready_with_secret_found() {
    let s = BackupStorageStatus {
        conditions: conds(&[
            (TYPE_BACKEND_INITIALIZED, true),
            (TYPE_BACKEND_SECRET_FOUND, true),
        ]),
        ..Default::default()
    };
    assert_eq!(s.calculate_phase(), BackupStoragePhase::Ready);
}

#[test]
fn backup_storage_not_ready_when_secret_missing() {
    let s = BackupStorageStatus {
        conditions: conds(&[
            (TYPE_BACKEND_INITIALIZED, true),
            (TYPE_BACKEND_SECRET_FOUND, false),
        ]),
        ..Default::default()
    };
    assert_eq!(s.calculate_phase(), BackupStoragePhase::NotReady);
}

#[test]
fn backup_storage_not_ready_until_initialized() {
    assert_eq!(
        BackupStorageStatus::default().calculate_phase(),
        BackupStoragePhase::NotReady
    );
    let s = BackupStorageStatus {
        conditions: conds(&[(TYPE_BACKEND_INITIALIZED, false)]),
        ..Default::default()
    };
    assert_eq!(s.calculate_phase(), BackupStoragePhase::NotReady);
}

// Repository.

#[test]
fn repository_phase_follows_initialized() {
    assert_eq!(
        RepositoryStatus::default().calculate_phase(),
        RepositoryPhase::NotReady
    );
    let ok = RepositoryStatus {
        conditions: conds(&[(TYPE_REPOSITORY_INITIALIZED, true)]),
        ..Default::default()
    };
    assert_eq!(ok.calculate_phase(), RepositoryPhase::Ready);
    let bad = RepositoryStatus {
        conditions: conds(&[(TYPE_REPOSITORY_INITIALIZED, false)]),
        ..Default::default()
    };
    assert_eq!(bad.calculate_phase(), RepositoryPhase::NotReady);
}

// Snapshot.

fn component(phase: ComponentPhase) -> Component {
    Component {
        phase: Some(phase),
        ..Default::default()
    }
}

fn snapshot(total: i32, phases: &[ComponentPhase], c: &[(&str, bool)]) -> SnapshotStatus {
    SnapshotStatus {
        total_components: total,
        components: phases
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("c{i}"), component(*p)))
            .collect(),
        conditions: conds(c),
        ..Default::default()
    }
}

#[test]
fn snapshot_failed_on_bookkeeping_failures() {
    use ComponentPhase::Succeeded;
    for c in [
        (TYPE_SNAPSHOT_METADATA_UPLOADED, false),
        (TYPE_RECENT_SNAPSHOT_LIST_UPDATED, false),
        (TYPE_BACKUP_INCOMPLETE, true),
    ] {
        assert_eq!(
            snapshot(1, &[Succeeded], &[c]).calculate_phase(),
            SnapshotPhase::Failed,
            "{c:?}"
        );
    }
}

#[test]
fn snapshot_pending_without_components() {
    assert_eq!(
        snapshot(1, &[], &[]).calculate_phase(),
        SnapshotPhase::Pending
    );
}

#[test]
fn snapshot_running_until_metadata_uploaded() {
    use ComponentPhase::Succeeded;
    assert_eq!(
        snapshot(1, &[Succeeded], &[]).calculate_phase(),
        SnapshotPhase::Running
    );
    let done = snapshot(1, &[Succeeded], &[(TYPE_SNAPSHOT_METADATA_UPLOADED, true)]);
    assert_eq!(done.calculate_phase(), SnapshotPhase::Succeeded);
}

#[test]
fn snapshot_components_phase_branches() {
    use ComponentPhase::{Failed, Running, Succeeded};
    assert_eq!(
        snapshot(2, &[Succeeded, Succeeded], &[]).components_phase(),
        SnapshotPhase::Succeeded
    );
    assert_eq!(
        snapshot(2, &[Succeeded, Failed], &[]).components_phase(),
        SnapshotPhase::Failed
    );
    assert_eq!(
        snapshot(3, &[Running, Failed], &[]).components_phase(),
        SnapshotPhase::Failed
    );
    assert_eq!(
        snapshot(2, &[Running, Succeeded], &[]).components_phase(),
        SnapshotPhase::Running
    );
    // Fewer components reported than expected: still running.
    assert_eq!(
        snapshot(2, &[Succeeded], &[]).components_phase(),
        SnapshotPhase::Running
    );
}

#[test]
fn snapshot_size_sums_components() {
    let mut s = snapshot(2, &[], &[]);
    s.components.insert(
        "a".into(),
        Component {
            size: "1.5 MiB".into(),
            ..Default::default()
        },
    );
    s.components.insert(
        "b".into(),
        Component {
            size: "512 KiB".into(),
            ..Default::default()
        },
    );
    assert_eq!(s.calculate_size(), "2.000 MiB");
}

#[test]
fn snapshot_size_unknown_while_restic_component_has_none() {
    let mut s = snapshot(2, &[], &[]);
    s.components.insert(
        "a".into(),
        Component {
            size: "1 MiB".into(),
            ..Default::default()
        },
    );
    let restic = Component {
        restic_stats: vec![ResticStats::default()],
        ..Default::default()
    };
    s.components.insert("b".into(), restic);
    assert_eq!(s.calculate_size(), "");
    assert_eq!(snapshot(1, &[], &[]).calculate_size(), "");
}

#[test]
fn snapshot_integrity_is_and_of_components() {
    let mut s = snapshot(2, &[], &[]);
    assert_eq!(s.calculate_integrity(), None);
    s.components.insert(
        "a".into(),
        Component {
            integrity: Some(true),
            ..Default::default()
        },
    );
    assert_eq!(s.calculate_integrity(), Some(true));
    s.components.insert(
        "b".into(),
        Component {
            integrity: Some(false),
            ..Default::default()
        },
    );
    assert_eq!(s.calculate_integrity(), Some(false));
    let restic = Component {
        restic_stats: vec![ResticStats::default()],
        ..Default::default()
    };
    s.components.insert("c".into(), restic);
    assert_eq!(s.calculate_integrity(), None);
}

// BackupConfiguration.

fn config(
    backends: usize,
    sessions: usize,
    status: BackupConfigurationStatus,
) -> BackupConfiguration {
    let spec = BackupConfigurationSpec {
        backends: vec![BackendReference::default(); backends],
        sessions: vec![Session::default(); sessions],
        ..Default::default()
    };
    let mut bc = BackupConfiguration::new("c", spec);
    bc.status = Some(status);
    bc
}

fn ready_status() -> BackupConfigurationStatus {
    BackupConfigurationStatus {
        target_found: Some(true),
        backends: vec![BackendStatus {
            ready: Some(true),
            ..Default::default()
        }],
        sessions: vec![SessionStatus {
            conditions: conds(&[(TYPE_SCHEDULER_ENSURED, true)]),
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[test]
fn backup_configuration_ready() {
    assert_eq!(
        config(1, 1, ready_status()).calculate_phase(),
        BackupInvokerPhase::Ready
    );
}

#[test]
fn backup_configuration_invalid_when_validation_failed() {
    let mut s = ready_status();
    s.conditions = conds(&[(TYPE_VALIDATION_PASSED, false)]);
    assert_eq!(
        config(1, 1, s).calculate_phase(),
        BackupInvokerPhase::Invalid
    );
}

#[test]
fn backup_configuration_not_ready_branches() {
    let mut no_target = ready_status();
    no_target.target_found = Some(false);
    assert_eq!(
        config(1, 1, no_target).calculate_phase(),
        BackupInvokerPhase::NotReady
    );

    let mut unset_target = ready_status();
    unset_target.target_found = None;
    assert_eq!(
        config(1, 1, unset_target).calculate_phase(),
        BackupInvokerPhase::NotReady
    );

    assert_eq!(
        config(2, 1, ready_status()).calculate_phase(),
        BackupInvokerPhase::NotReady
    );
    assert_eq!(
        config(1, 2, ready_status()).calculate_phase(),
        BackupInvokerPhase::NotReady
    );

    let mut backend_down = ready_status();
    backend_down.backends[0].ready = Some(false);
    assert_eq!(
        config(1, 1, backend_down).calculate_phase(),
        BackupInvokerPhase::NotReady
    );

    let mut backend_unknown = ready_status();
    backend_unknown.backends[0].ready = None;
    assert_eq!(
        config(1, 1, backend_unknown).calculate_phase(),
        BackupInvokerPhase::NotReady
    );

    let mut no_scheduler = ready_status();
    no_scheduler.sessions[0].conditions = conds(&[(TYPE_SCHEDULER_ENSURED, false)]);
    assert_eq!(
        config(1, 1, no_scheduler).calculate_phase(),
        BackupInvokerPhase::NotReady
    );

    let mut bc = config(1, 1, ready_status());
    bc.status = None;
    assert_eq!(bc.calculate_phase(), BackupInvokerPhase::NotReady);
}

// BackupSession.

fn session(snapshots: &[SnapshotPhase], c: &[(&str, bool)]) -> BackupSessionStatus {
    BackupSessionStatus {
        snapshots: snapshots
            .iter()
            .map(|p| SessionSnapshot {
                phase: Some(*p),
                ..Default::default()
            })
            .collect(),
        conditions: conds(c),
        ..Default::default()
    }
}

#[test]
fn backup_session_failed_when_metrics_push_failed() {
    let s = session(&[SnapshotPhase::Succeeded], &[(TYPE_METRICS_PUSHED, false)]);
    assert_eq!(s.calculate_phase(), BackupSessionPhase::Failed);
}

#[test]
fn backup_session_skipped() {
    let s = session(&[], &[(TYPE_BACKUP_SKIPPED, true)]);
    assert_eq!(s.calculate_phase(), BackupSessionPhase::Skipped);
}

#[test]
fn backup_session_failed_steps_after_final_step() {
    let ok = SnapshotPhase::Succeeded;
    for failed in [
        (TYPE_BACKUP_EXECUTOR_ENSURED, false),
        (TYPE_SNAPSHOTS_ENSURED, false),
        (TYPE_PRE_BACKUP_HOOKS_EXECUTION_SUCCEEDED, false),
        (TYPE_POST_BACKUP_HOOKS_EXECUTION_SUCCEEDED, false),
        (TYPE_SESSION_HISTORY_CLEANED, false),
        (TYPE_SNAPSHOT_CLEANUP_INCOMPLETE, true),
    ] {
        let s = session(&[ok], &[failed, (TYPE_METRICS_PUSHED, true)]);
        assert_eq!(
            s.calculate_phase(),
            BackupSessionPhase::Failed,
            "{failed:?}"
        );
        // Before the final step a failed step does not decide the phase yet.
        let s = session(&[ok], &[failed]);
        assert_eq!(
            s.calculate_phase(),
            BackupSessionPhase::Running,
            "{failed:?}"
        );
    }
}

#[test]
fn backup_session_failed_retention_after_final_step() {
    let mut s = session(&[SnapshotPhase::Succeeded], &[(TYPE_METRICS_PUSHED, true)]);
    s.retention_policies = vec![RetentionPolicyApplyStatus {
        phase: Some(RetentionPolicyApplyPhase::FailedToApply),
        ..Default::default()
    }];
    assert_eq!(s.calculate_phase(), BackupSessionPhase::Failed);
}

#[test]
fn backup_session_pending_without_snapshots_or_all_pending() {
    assert_eq!(
        session(&[], &[]).calculate_phase(),
        BackupSessionPhase::Pending
    );
    let s = session(&[SnapshotPhase::Pending, SnapshotPhase::Pending], &[]);
    assert_eq!(s.calculate_phase(), BackupSessionPhase::Pending);
}

#[test]
fn backup_session_running_until_final_step() {
    use SnapshotPhase::{Failed, Running, Succeeded};
    assert_eq!(
        session(&[Running, Succeeded], &[]).calculate_phase(),
        BackupSessionPhase::Running
    );
    assert_eq!(
        session(&[Succeeded], &[]).calculate_phase(),
        BackupSessionPhase::Running
    );
    assert_eq!(
        session(&[Failed], &[]).calculate_phase(),
        BackupSessionPhase::Running
    );
}

#[test]
fn backup_session_outcome_after_final_step() {
    use SnapshotPhase::{Failed, Running, Succeeded};
    let done = [(TYPE_METRICS_PUSHED, true)];
    assert_eq!(
        session(&[Succeeded, Succeeded], &done).calculate_phase(),
        BackupSessionPhase::Succeeded
    );
    assert_eq!(
        session(&[Succeeded, Failed], &done).calculate_phase(),
        BackupSessionPhase::Failed
    );
    assert_eq!(
        session(&[Running, Succeeded], &done).calculate_phase(),
        BackupSessionPhase::Running
    );
}

#[test]
fn backup_session_completed_phases() {
    use BackupSessionPhase::*;
    assert!(Succeeded.is_completed() && Failed.is_completed() && Skipped.is_completed());
    assert!(!Pending.is_completed() && !Running.is_completed());
}

// RestoreSession.

fn restore(total: i32, phases: &[RestorePhase], c: &[(&str, bool)]) -> RestoreSessionStatus {
    RestoreSessionStatus {
        total_components: total,
        components: phases
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    format!("c{i}"),
                    ComponentRestoreStatus {
                        phase: Some(*p),
                        ..Default::default()
                    },
                )
            })
            .collect(),
        conditions: conds(c),
        ..Default::default()
    }
}

#[test]
fn restore_failed_when_metrics_push_failed() {
    assert_eq!(
        restore(1, &[], &[(TYPE_METRICS_PUSHED, false)]).calculate_phase(),
        RestorePhase::Failed
    );
}

#[test]
fn restore_invalid_when_validation_failed() {
    assert_eq!(
        restore(1, &[], &[(TYPE_VALIDATION_PASSED, false)]).calculate_phase(),
        RestorePhase::Invalid
    );
}

#[test]
fn restore_failed_steps_after_final_step() {
    for failed in [
        (TYPE_PRE_RESTORE_HOOKS_EXECUTION_SUCCEEDED, false),
        (TYPE_POST_RESTORE_HOOKS_EXECUTION_SUCCEEDED, false),
        (TYPE_RESTORE_EXECUTOR_ENSURED, false),
        (TYPE_RESTORE_INCOMPLETE, true),
    ] {
        let s = restore(
            1,
            &[RestorePhase::Succeeded],
            &[failed, (TYPE_METRICS_PUSHED, true)],
        );
        assert_eq!(s.calculate_phase(), RestorePhase::Failed, "{failed:?}");
    }
}

#[test]
fn restore_components_phase_branches() {
    use RestorePhase::{Failed, Running, Succeeded, Unknown};
    assert_eq!(
        restore(1, &[], &[]).components_phase(),
        RestorePhase::Pending
    );
    assert_eq!(
        restore(2, &[Succeeded, Succeeded], &[]).components_phase(),
        Succeeded
    );
    assert_eq!(
        restore(2, &[Succeeded, Failed], &[]).components_phase(),
        Failed
    );
    assert_eq!(
        restore(2, &[Succeeded, Unknown], &[]).components_phase(),
        Unknown
    );
    assert_eq!(
        restore(3, &[Running, Failed], &[]).components_phase(),
        Failed
    );
    assert_eq!(
        restore(2, &[Running, Succeeded], &[]).components_phase(),
        Running
    );
}

#[test]
fn restore_phase_reports_pending_and_unknown_early() {
    use RestorePhase::{Running, Succeeded, Unknown};
    assert_eq!(
        restore(1, &[], &[]).calculate_phase(),
        RestorePhase::Pending
    );
    assert_eq!(restore(1, &[Unknown], &[]).calculate_phase(), Unknown);
    assert_eq!(restore(1, &[Succeeded], &[]).calculate_phase(), Running);
    let done = [(TYPE_METRICS_PUSHED, true)];
    assert_eq!(restore(1, &[Succeeded], &done).calculate_phase(), Succeeded);
}

// Fixtures agree with the rules.

#[test]
fn fixture_statuses_match_phase_rules() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    let read = |f: &str| std::fs::read_to_string(format!("{dir}{f}")).unwrap();
    let bs: cairn_core::api::BackupStorage =
        serde_yaml::from_str(&read("backupstorage-gcs-storage.yaml")).unwrap();
    assert_eq!(
        Some(bs.calculate_phase()),
        bs.status.as_ref().and_then(|s| s.phase)
    );
    let snap: cairn_core::api::Snapshot = serde_yaml::from_str(&read(
        "snapshot-gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065200.yaml",
    ))
    .unwrap();
    let status = snap.status.as_ref().unwrap();
    assert_eq!(Some(snap.calculate_phase()), status.phase);
    assert_eq!(status.calculate_size(), status.size);
    assert_eq!(status.calculate_integrity(), status.integrity);
    let bc: BackupConfiguration =
        serde_yaml::from_str(&read("backupconfiguration-sample-sdb-backup.yaml")).unwrap();
    assert_eq!(
        Some(bc.calculate_phase()),
        bc.status.as_ref().and_then(|s| s.phase)
    );
    let bss: cairn_core::api::BackupSession = serde_yaml::from_str(&read(
        "backupsession-sample-sdb-backup-frequent-backup-1724065200.yaml",
    ))
    .unwrap();
    assert_eq!(
        Some(bss.calculate_phase()),
        bss.status.as_ref().and_then(|s| s.phase)
    );
    let rs: cairn_core::api::RestoreSession =
        serde_yaml::from_str(&read("restoresession-restore-sample-singlestore.yaml")).unwrap();
    assert_eq!(
        Some(rs.calculate_phase()),
        rs.status.as_ref().and_then(|s| s.phase)
    );
}
