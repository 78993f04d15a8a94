//! Hostile input to the core: the string parsers users feed through manifests (cron
//! schedules, Go durations, sizes, retention periods) never panic and reject with one
//! clear line naming the input; and namespace isolation (usage policies of
//! BackupStorage and RetentionPolicy, RestoreSession reading another namespace's
//! Repository).
//!
//! The parsers run under proptest (stable toolchain: no cargo-fuzz sanitizers) with two
//! generators each: arbitrary strings, and structure-aware ones built from the grammar's
//! tokens with mutations (huge numbers, signs, stray separators, unicode) that reach past
//! the first character check. A panic fails the test; case counts keep each target
//! well under a second in a debug build.

#[path = "scenarios/harness.rs"]
mod harness;

#[path = "decisions/common.rs"]
mod common;

use cairn_core::api::backup_configuration::BackupInvokerPhase;
use cairn_core::api::condition::{get_condition, ConditionStatus};
use cairn_core::api::restore_session::RestorePhase;
use cairn_core::api::{BackupStorage, RetentionPolicy};
use cairn_core::plan::{parse_size, GoDuration, RetentionPeriod, Schedule};
use cairn_core::world::{Fact, Object, ObjectKey, World};
use chrono::{TimeZone, Utc};
use proptest::prelude::*;

use common::*;
use harness::*;

/// One line, and the rejected input shown escaped (`{:?}`), so a hostile value cannot
/// forge log lines or hide in a status message.
fn assert_clear(message: &str, prefix: &str) {
    assert!(message.starts_with(prefix), "{message:?}");
    assert!(
        !message.contains(['\n', '\r', '\0']),
        "multi-line error: {message:?}"
    );
}

/// Tokens of a cron field plus hostile ones.
fn cron_field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        (0u64..70).prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (0u64..70, 0u64..70).prop_map(|(a, b)| format!("{a}-{b}")),
        (1u64..100).prop_map(|n| format!("*/{n}")),
        Just("*/0".to_owned()),
        (0u64..70, 0u64..70).prop_map(|(a, b)| format!("{a},{b}")),
        Just("MON-FRI".to_owned()),
        Just("L".to_owned()),
        Just("?".to_owned()),
        Just("#".to_owned()),
        Just("-1".to_owned()),
        "\\PC{0,4}",
    ]
}

fn schedule_text() -> impl Strategy<Value = String> {
    let cron = proptest::collection::vec(cron_field(), 0..8).prop_map(|f| f.join(" "));
    let prefix = prop_oneof![
        Just(String::new()),
        Just("CRON_TZ=Europe/Berlin ".to_owned()),
        Just("TZ=Mars/Olympus ".to_owned()),
        Just("CRON_TZ= ".to_owned()),
        "TZ=\\PC{0,12} ",
    ];
    prop_oneof![
        (prefix, cron).prop_map(|(p, c)| p + &c),
        duration_text().prop_map(|d| format!("@every {d}")),
        "@\\PC{0,12}",
        any::<String>(),
    ]
}

/// Go-duration-shaped text: signed number/unit runs with huge and fractional numbers.
fn duration_text() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        (0u64..1000).prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        "[0-9]{20,40}",
        "[0-9]{0,3}\\.[0-9]{0,25}",
        Just(".".to_owned()),
    ];
    let unit = prop_oneof![
        Just("ns"),
        Just("us"),
        Just("µs"),
        Just("ms"),
        Just("s"),
        Just("m"),
        Just("h"),
        Just("d"),
        Just(""),
        Just("μs"), // Greek mu, not the micro sign
    ];
    let sign = prop_oneof![Just(""), Just("-"), Just("+"), Just("--")];
    (sign, proptest::collection::vec((number, unit), 0..5)).prop_map(|(s, parts)| {
        let body: String = parts.into_iter().map(|(n, u)| n + u).collect();
        format!("{s}{body}")
    })
}

fn size_text() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        (0u64..5000).prop_map(|n| n.to_string()),
        "[0-9]{1,4}\\.[0-9]{1,6}",
        "[0-9]{19,400}",
        Just("1e308".to_owned()),
        Just("NaN".to_owned()),
        Just("inf".to_owned()),
        Just("-1".to_owned()),
        Just("0x10".to_owned()),
    ];
    let unit = prop_oneof![
        Just("B"),
        Just("KiB"),
        Just("MiB"),
        Just("GiB"),
        Just("TiB"),
        Just("PiB"),
        Just("kb"),
        Just(""),
    ];
    let gap = prop_oneof![Just(" "), Just(""), Just("  "), Just("\t")];
    (number, gap, unit).prop_map(|(n, g, u)| format!("{n}{g}{u}"))
}

fn period_text() -> impl Strategy<Value = String> {
    let unit = prop_oneof![
        Just("y"),
        Just("mo"),
        Just("w"),
        Just("d"),
        Just("h"),
        Just("m"),
        Just("s"),
        Just(""),
    ];
    let number = prop_oneof![
        (0u64..100).prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        Just(u32::MAX.to_string()),
        Just("-1".to_owned()),
    ];
    proptest::collection::vec((number, unit), 0..7)
        .prop_map(|parts| parts.into_iter().map(|(n, u)| n + u).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn schedule_parse_is_total(input in schedule_text()) {
        match Schedule::parse(&input) {
            Err(e) => assert_clear(&e.to_string(), "invalid schedule "),
            Ok(schedule) => {
                // Slot arithmetic over a parsed schedule must not panic either, far into
                // the future included (chrono's range ends in year 262143).
                for t in [Utc.timestamp_opt(0, 0).unwrap(), Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 0).unwrap()] {
                    let next = schedule.next_after(t);
                    prop_assert!(next.is_none_or(|n| n > t));
                    let prev = schedule.latest_at_or_before(t);
                    prop_assert!(prev.is_none_or(|p| p <= t));
                }
                prop_assert_eq!(Schedule::parse(&schedule.to_string()).ok(), Some(schedule));
            }
        }
    }

    #[test]
    fn schedule_time_zone_is_total(zone in "\\PC{0,30}") {
        if let Err(e) = Schedule::parse("@daily").unwrap().with_time_zone(&zone) {
            assert_clear(&e.to_string(), "invalid schedule ");
        }
    }

    #[test]
    fn duration_parse_is_total(input in prop_oneof![duration_text(), any::<String>()]) {
        match GoDuration::parse(&input) {
            Err(e) => assert_clear(&e.to_string(), "invalid duration "),
            Ok(d) => {
                prop_assert_eq!(GoDuration::parse(&d.to_string()), Ok(d));
                let _ = (d.to_std(), d.to_chrono());
            }
        }
    }

    #[test]
    fn size_parse_is_total(input in prop_oneof![size_text(), any::<String>()]) {
        if let Err(e) = parse_size(&input) {
            assert_clear(&e.to_string(), "invalid size ");
        }
    }

    #[test]
    fn period_parse_is_total(input in prop_oneof![period_text(), any::<String>()]) {
        match RetentionPeriod::parse(&input) {
            Err(e) => {
                let msg = e.to_string();
                assert_clear(&msg, "invalid duration ");
                prop_assert!(msg.contains("maxRetentionPeriod"), "{}", msg);
            }
            Ok(p) => {
                let _ = p.to_minutes();
                let _ = p.cutoff(Utc.timestamp_opt(0, 0).unwrap());
                prop_assert_eq!(RetentionPeriod::parse(&p.to_string()), Ok(p));
            }
        }
    }
}

#[test]
fn parser_errors_name_the_input() {
    let schedule = Schedule::parse("*/5 * * *").unwrap_err().to_string();
    assert!(schedule.contains("\"*/5 * * *\""), "{schedule}");
    assert!(schedule.contains("expected 5 cron fields"), "{schedule}");
    let duration = GoDuration::parse("1h\n30x").unwrap_err().to_string();
    assert!(duration.contains("\"1h\\n30x\""), "{duration}");
    let size = parse_size("12 XB").unwrap_err().to_string();
    assert!(size.contains("unknown unit \"XB\""), "{size}");
    let period = RetentionPeriod::parse("99999999999d")
        .unwrap_err()
        .to_string();
    assert!(period.contains("number too large"), "{period}");
}

// --- Usage policies and namespace isolation -------------------------------------------

const SAME: &str = "{allowedNamespaces: {from: Same}}";
const ALL: &str = "{allowedNamespaces: {from: All}}";

/// The sample configuration moved to namespace `app`; storage and policy stay in `demo`.
fn config_in_app() -> cairn_core::api::BackupConfiguration {
    let mut bc = sample_config();
    bc.metadata.namespace = Some("app".to_owned());
    bc.spec.target.as_mut().unwrap().namespace = "app".to_owned();
    bc
}

fn app_binding_in(namespace: &str, name: &str) -> Object {
    let mut app = object("AppBinding", APP_BINDING);
    if let Object::AppBinding(a) = &mut app {
        a.metadata.namespace = Some(namespace.to_owned());
        a.metadata.name = Some(name.to_owned());
    }
    app
}

#[test]
fn retention_policy_usage_policy_keeps_other_namespaces_out() {
    for (usage, allowed) in [(SAME, false), (ALL, true)] {
        let mut world = seeded_world();
        let mut policy: RetentionPolicy = serde_yaml::from_str(RETENTION).unwrap();
        policy.spec.usage_policy = serde_yaml::from_str(usage).unwrap();
        tell(
            &mut world,
            [
                Fact::Applied(Object::RetentionPolicy(policy)),
                Fact::Applied(app_binding_in("app", "sdb-sample")),
                Fact::Applied(Object::BackupConfiguration(config_in_app())),
            ],
        );
        settle_with_backend(&mut world, t0());
        let status = world.backup_configurations[&ObjectKey::new("app", "sample-sdb-backup")]
            .status
            .clone()
            .unwrap();
        if allowed {
            let rp = status.backends[0].retention_policy.clone().unwrap();
            assert_eq!(status.phase, Some(BackupInvokerPhase::Ready), "{usage}");
            assert_eq!(rp.reason, "");
        } else {
            // Invalid (KubeStash's webhook refuses it); fixing the policy, another object,
            // makes the configuration valid again by itself: validation runs every reconcile.
            assert_eq!(status.phase, Some(BackupInvokerPhase::Invalid), "{usage}");
            let message = status
                .conditions
                .iter()
                .find(|c| c.type_ == "ValidationPassed")
                .map(|c| c.message.clone())
                .unwrap_or_default();
            assert!(
                message.contains(
                    "RetentionPolicy demo/demo-retention of backend \"gcs-backend\" does not allow use from namespace app"
                ),
                "{message}"
            );
            assert!(
                world.backup_sessions.is_empty(),
                "no backup when not allowed"
            );
        }
    }
}

const RESTORE_FROM_DEMO: &str = r#"
apiVersion: core.kubestash.com/v1alpha1
kind: RestoreSession
metadata: {name: steal, namespace: other, creationTimestamp: "2024-08-19T12:00:00Z"}
spec:
  target: {apiGroup: kubedb.com, kind: Singlestore, namespace: other, name: thief-db}
  dataSource:
    namespace: demo
    repository: gcs-sdb-repo
    snapshot: latest
  addon:
    name: singlestore-addon
    tasks: [{name: logical-backup-restore}]
"#;

/// A world with one Succeeded backup in `demo`, its storage carrying `usage`, and a
/// RestoreSession in `other` reading demo's Repository.
fn cross_namespace_restore(usage: &str, restore: &str) -> World {
    let mut world = configured(CONFIG);
    backup_succeeds(&mut world, SESSION, SNAPSHOT, t0());
    let mut storage: BackupStorage = serde_yaml::from_str(STORAGE).unwrap();
    storage.spec.usage_policy = serde_yaml::from_str(usage).unwrap();
    tell(
        &mut world,
        [
            Fact::Applied(Object::BackupStorage(storage)),
            Fact::Applied(app_binding_in("other", "thief-db")),
            Fact::Applied(object("RestoreSession", restore)),
        ],
    );
    settle_with_backend(&mut world, t0());
    world
}

#[test]
fn restore_cannot_read_another_namespace_unless_the_storage_allows_it() {
    let world = cross_namespace_restore(SAME, RESTORE_FROM_DEMO);
    let status = world.restore_sessions[&ObjectKey::new("other", "steal")]
        .status
        .clone()
        .unwrap();
    assert_eq!(status.phase, Some(RestorePhase::Invalid));
    let cond = get_condition(&status.conditions, "ValidationPassed").unwrap();
    assert!(
        cond.message.contains(
            "reads Repository demo/gcs-sdb-repo of another namespace, but its BackupStorage \
             demo/gcs-storage does not allow use from namespace other"
        ),
        "{}",
        cond.message
    );
    assert!(
        world.jobs.keys().all(|k| k.namespace != "other"),
        "no restore job for a refused RestoreSession"
    );

    // A named Snapshot without `repository` is held to the same rule.
    let by_name = RESTORE_FROM_DEMO
        .replace("    repository: gcs-sdb-repo\n", "")
        .replace("snapshot: latest", &format!("snapshot: {SNAPSHOT}"));
    let world = cross_namespace_restore(SAME, &by_name);
    let status = world.restore_sessions[&ObjectKey::new("other", "steal")]
        .status
        .clone()
        .unwrap();
    assert_eq!(status.phase, Some(RestorePhase::Invalid));

    // Allowed by the storage: validation passes and the restore goes ahead.
    let world = cross_namespace_restore(ALL, RESTORE_FROM_DEMO);
    let status = world.restore_sessions[&ObjectKey::new("other", "steal")]
        .status
        .clone()
        .unwrap();
    assert_ne!(status.phase, Some(RestorePhase::Invalid));
    let cond = get_condition(&status.conditions, "ValidationPassed").unwrap();
    assert_eq!(cond.status, ConditionStatus::True, "{}", cond.message);
}
