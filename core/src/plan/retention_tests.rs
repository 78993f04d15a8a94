use super::*;
use chrono::Duration;
use proptest::prelude::*;

fn now() -> DateTime<Utc> {
    "2026-11-20T12:00:00Z".parse().unwrap()
}

fn snap(name: &str, time: &str, phase: CandidatePhase) -> Candidate {
    Candidate {
        name: name.to_owned(),
        time: time.parse().unwrap(),
        phase,
    }
}

use CandidatePhase::{Failed, Succeeded, Unfinished};

#[test]
fn kubedb_example_policy() {
    // demo-retention: maxRetentionPeriod 2mo, successfulSnapshots.last 5, failedSnapshots.last 2.
    let policy = KeepPolicy {
        last: 5,
        failed_last: 2,
        max_retention_period: Some(RetentionPeriod::parse("2mo").unwrap()),
        ..KeepPolicy::default()
    };
    let mut snaps: Vec<Candidate> = (0..8)
        .map(|i| {
            snap(
                &format!("ok-{i}"),
                &format!("2026-11-{:02}T00:05:00Z", 10 + i),
                Succeeded,
            )
        })
        .collect();
    snaps.push(snap("old-ok", "2026-08-01T00:00:00Z", Succeeded));
    snaps.push(snap("fail-a", "2026-11-19T00:00:00Z", Failed));
    snaps.push(snap("fail-b", "2026-11-18T00:00:00Z", Failed));
    snaps.push(snap("fail-c", "2026-11-17T00:00:00Z", Failed));
    snaps.push(snap("running", "2026-11-20T11:59:00Z", Unfinished));
    let plan = plan_retention(&snaps, &policy, now());
    insta::assert_snapshot!("kubedb_example_policy", plan.to_string());
    let deleted: Vec<&str> = plan.to_delete().collect();
    assert_eq!(deleted, ["fail-c", "ok-2", "ok-1", "ok-0", "old-ok"]);
}

#[test]
fn bucket_rules_gfs() {
    let policy = KeepPolicy {
        last: 2,
        hourly: 2,
        daily: 3,
        weekly: 2,
        monthly: 2,
        yearly: 2,
        ..KeepPolicy::default()
    };
    let snaps = [
        snap("a", "2026-11-20T11:30:00Z", Succeeded),
        snap("b", "2026-11-20T11:00:00Z", Succeeded),
        snap("c", "2026-11-20T10:59:00Z", Succeeded),
        snap("d", "2026-11-20T09:00:00Z", Succeeded),
        snap("e", "2026-11-19T23:00:00Z", Succeeded),
        snap("f", "2026-11-19T01:00:00Z", Succeeded),
        snap("g", "2026-11-15T01:00:00Z", Succeeded),
        snap("h", "2026-10-31T01:00:00Z", Succeeded),
        snap("i", "2025-12-31T23:59:00Z", Succeeded),
        snap("j", "2025-06-01T00:00:00Z", Succeeded),
        snap("k", "2024-06-01T00:00:00Z", Succeeded),
    ];
    let plan = plan_retention(&snaps, &policy, now());
    insta::assert_snapshot!("bucket_rules_gfs", plan.to_string());
}

#[test]
fn newest_success_survives_an_expired_repository() {
    let policy = KeepPolicy {
        last: 3,
        max_retention_period: Some(RetentionPeriod::parse("1d").unwrap()),
        ..KeepPolicy::default()
    };
    let snaps = [
        snap("new-fail", "2026-11-20T00:00:00Z", Failed),
        snap("ok-old", "2026-10-01T00:00:00Z", Succeeded),
        snap("ok-older", "2026-09-01T00:00:00Z", Succeeded),
    ];
    let plan = plan_retention(&snaps, &policy, now());
    assert_eq!(
        plan.to_string(),
        "keep   new-fail 2026-11-20T00:00:00Z (failed last 1)\n\
         keep   ok-old 2026-10-01T00:00:00Z (newest successful snapshot)\n\
         delete ok-older 2026-09-01T00:00:00Z (older than 1d)\n"
    );
}

#[test]
fn default_policy_keeps_successes_and_one_failure() {
    let snaps = [
        snap("f1", "2026-11-20T00:00:00Z", Failed),
        snap("f2", "2026-11-19T00:00:00Z", Failed),
        snap("s1", "2020-01-01T00:00:00Z", Succeeded),
        snap("s2", "2019-01-01T00:00:00Z", Succeeded),
    ];
    let plan = plan_retention(&snaps, &KeepPolicy::default(), now());
    assert_eq!(plan.to_delete().collect::<Vec<_>>(), ["f2"]);
    assert_eq!(
        plan.decisions[2].verdict,
        Verdict::Keep(vec![KeepReason::NoCountRule])
    );
}

#[test]
fn duplicate_names_are_decided_once() {
    let snaps = [
        snap("x", "2026-11-19T00:00:00Z", Succeeded),
        snap("x", "2026-11-18T00:00:00Z", Failed),
    ];
    let plan = plan_retention(&snaps, &KeepPolicy::default(), now());
    assert_eq!(plan.decisions.len(), 1);
    assert_eq!(plan.decisions[0].phase, Succeeded);
}

#[test]
fn restic_args() {
    let policy = KeepPolicy {
        last: 5,
        daily: 7,
        yearly: 1,
        ..KeepPolicy::default()
    };
    assert_eq!(
        policy.to_restic_args(),
        [
            "--keep-last",
            "5",
            "--keep-daily",
            "7",
            "--keep-yearly",
            "1"
        ]
    );
    assert!(KeepPolicy::default().to_restic_args().is_empty());
}

#[test]
fn from_spec_reads_the_kubedb_example() {
    let spec: RetentionPolicySpec = serde_yaml::from_str(
        "maxRetentionPeriod: 2mo\nsuccessfulSnapshots:\n  last: 5\nfailedSnapshots:\n  last: 2\n",
    )
    .unwrap();
    let policy = KeepPolicy::from_spec(&spec).unwrap();
    assert_eq!(
        policy,
        KeepPolicy {
            last: 5,
            failed_last: 2,
            max_retention_period: Some(RetentionPeriod {
                months: 2,
                ..RetentionPeriod::default()
            }),
            ..KeepPolicy::default()
        }
    );
    let defaulted = KeepPolicy::from_spec(&RetentionPolicySpec::default()).unwrap();
    assert_eq!(defaulted, KeepPolicy::default());
    let bad: RetentionPolicySpec = serde_yaml::from_str("maxRetentionPeriod: 1x\n").unwrap();
    assert_eq!(
        KeepPolicy::from_spec(&bad).unwrap_err().to_string(),
        "invalid duration \"1x\" in maxRetentionPeriod: expected e.g. 1y2mo3w4d5h6m"
    );
    let negative: RetentionPolicySpec =
        serde_yaml::from_str("successfulSnapshots:\n  daily: -3\n").unwrap();
    assert_eq!(KeepPolicy::from_spec(&negative).unwrap().daily, 0);
}

fn candidates() -> impl Strategy<Value = Vec<Candidate>> {
    let phase = prop_oneof![
        6 => Just(Succeeded),
        3 => Just(Failed),
        1 => Just(Unfinished),
    ];
    // Minutes back from now(), up to ~3 years; future times (clock skew) included.
    proptest::collection::vec((-600i64..1_600_000, phase), 0..40).prop_map(|items| {
        items
            .into_iter()
            .enumerate()
            .map(|(i, (minutes_ago, phase))| Candidate {
                name: format!("snap-{i}"),
                time: now() - Duration::minutes(minutes_ago),
                phase,
            })
            .collect()
    })
}

fn policies() -> impl Strategy<Value = KeepPolicy> {
    let count = prop_oneof![2 => Just(0u32), 3 => 1u32..6];
    let period = proptest::option::of((0u32..3, 0u32..400, 0u32..48).prop_map(
        |(months, days, hours)| RetentionPeriod {
            months,
            days,
            hours,
            ..RetentionPeriod::default()
        },
    ));
    (
        (count.clone(), count.clone(), count.clone()),
        (count.clone(), count.clone(), count),
        0u32..4,
        period,
    )
        .prop_map(
            |((last, hourly, daily), (weekly, monthly, yearly), failed_last, period)| KeepPolicy {
                last,
                hourly,
                daily,
                weekly,
                monthly,
                yearly,
                failed_last,
                max_retention_period: period,
            },
        )
}

fn kept(plan: &RetentionPlan, input: &[Candidate]) -> Vec<Candidate> {
    let names: BTreeSet<&str> = plan.to_keep().collect();
    input
        .iter()
        .filter(|c| names.contains(c.name.as_str()))
        .cloned()
        .collect()
}

proptest! {
    #[test]
    fn newest_success_and_unfinished_are_never_deleted(snaps in candidates(), policy in policies()) {
        let plan = plan_retention(&snaps, &policy, now());
        let deleted: BTreeSet<&str> = plan.to_delete().collect();
        let newest = snaps
            .iter()
            .filter(|c| c.phase == Succeeded)
            .max_by(|a, b| a.time.cmp(&b.time).then_with(|| a.name.cmp(&b.name)));
        if let Some(newest) = newest {
            prop_assert!(!deleted.contains(newest.name.as_str()));
        }
        for c in snaps.iter().filter(|c| c.phase == Unfinished) {
            prop_assert!(!deleted.contains(c.name.as_str()));
        }
        prop_assert_eq!(plan.decisions.len(), snaps.len());
        for d in &plan.decisions {
            if let Verdict::Keep(reasons) = &d.verdict {
                prop_assert!(!reasons.is_empty());
            }
        }
    }

    #[test]
    fn planning_is_idempotent(snaps in candidates(), policy in policies()) {
        let plan = plan_retention(&snaps, &policy, now());
        let survivors = kept(&plan, &snaps);
        let again = plan_retention(&survivors, &policy, now());
        prop_assert_eq!(again.to_delete().count(), 0, "{}", again);
    }

    #[test]
    fn order_does_not_matter(snaps in candidates(), policy in policies(), seed in any::<u64>()) {
        let mut shuffled = snaps.clone();
        // A deterministic permutation from the seed: rotate, then reverse halves.
        if !shuffled.is_empty() {
            let k = (seed % shuffled.len() as u64) as usize;
            shuffled.rotate_left(k);
            let mid = shuffled.len() / 2;
            shuffled[..mid].reverse();
        }
        prop_assert_eq!(
            plan_retention(&snaps, &policy, now()),
            plan_retention(&shuffled, &policy, now())
        );
    }

    #[test]
    fn larger_counts_keep_a_superset(snaps in candidates(), policy in policies(), extra in 1u32..4, which in 0usize..7) {
        let mut bigger = policy;
        let field = match which {
            0 => &mut bigger.last,
            1 => &mut bigger.hourly,
            2 => &mut bigger.daily,
            3 => &mut bigger.weekly,
            4 => &mut bigger.monthly,
            5 => &mut bigger.yearly,
            _ => &mut bigger.failed_last,
        };
        // Switching the first count rule on restricts (no rule = keep all); anything else grows.
        if *field == 0 && which != 6 && !policy.has_count_rule() {
            return Ok(());
        }
        *field += extra;
        let small: BTreeSet<String> =
            plan_retention(&snaps, &policy, now()).to_keep().map(str::to_owned).collect();
        let big: BTreeSet<String> =
            plan_retention(&snaps, &bigger, now()).to_keep().map(str::to_owned).collect();
        prop_assert!(small.is_subset(&big));
    }

    #[test]
    fn last_n_keeps_exactly_n(snaps in candidates(), n in 1u32..6) {
        let policy = KeepPolicy { last: n, failed_last: 0, ..KeepPolicy::default() };
        let plan = plan_retention(&snaps, &policy, now());
        let successes = snaps.iter().filter(|c| c.phase == Succeeded).count();
        let kept_successes = plan
            .decisions
            .iter()
            .filter(|d| d.phase == Succeeded && matches!(d.verdict, Verdict::Keep(_)))
            .count();
        prop_assert_eq!(kept_successes, successes.min(n as usize));
        prop_assert!(plan.decisions.iter().all(|d| d.phase != Failed || matches!(d.verdict, Verdict::Delete(_))));
    }

    #[test]
    fn nothing_finished_outlives_the_period(snaps in candidates(), policy in policies()) {
        let plan = plan_retention(&snaps, &policy, now());
        let Some(cutoff) = policy.max_retention_period.and_then(|p| p.cutoff(now())) else {
            return Ok(());
        };
        for d in &plan.decisions {
            if d.time < cutoff && matches!(d.verdict, Verdict::Keep(_)) {
                let Verdict::Keep(reasons) = &d.verdict else { unreachable!() };
                prop_assert!(
                    reasons == &vec![KeepReason::Unfinished]
                        || reasons == &vec![KeepReason::NewestSuccessful],
                    "{}", d
                );
            }
        }
    }
}
