//! Condition helpers, usage policies and label selectors: pure building blocks.

use std::collections::BTreeMap;

use cairn_core::api::label_selector::selector_matches;
use cairn_core::api::{
    get_condition, has_condition, is_condition_false, is_condition_true, is_condition_unknown,
    remove_condition, set_condition, usage_allowed, AllowedNamespaces, Condition, ConditionStatus,
    FromNamespaces, UsagePolicy,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 8, 19, 11, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn c(status: ConditionStatus, reason: &str) -> Condition {
    Condition::new("Ready", status, reason, "", t(0))
}

#[test]
fn set_adds_then_keeps_transition_time_when_unchanged() {
    let mut list = Vec::new();
    assert!(set_condition(
        &mut list,
        c(ConditionStatus::True, "Ok"),
        t(1)
    ));
    assert!(!set_condition(
        &mut list,
        c(ConditionStatus::True, "Ok"),
        t(2)
    ));
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].last_transition_time, t(1));
}

#[test]
fn set_updates_on_any_change_and_stamps_now() {
    let mut list = vec![c(ConditionStatus::True, "Ok")];
    assert!(set_condition(
        &mut list,
        c(ConditionStatus::True, "Other"),
        t(5)
    ));
    assert_eq!(list[0].reason, "Other");
    assert_eq!(list[0].last_transition_time, t(5));
    assert!(set_condition(
        &mut list,
        c(ConditionStatus::False, "Other"),
        t(6)
    ));
    assert!(is_condition_false(&list, "Ready"));
}

#[test]
fn set_ignores_older_generation() {
    let mut list = vec![c(ConditionStatus::True, "Ok").with_generation(3)];
    assert!(!set_condition(
        &mut list,
        c(ConditionStatus::False, "Old").with_generation(2),
        t(1)
    ));
    assert!(is_condition_true(&list, "Ready"));
    assert!(set_condition(
        &mut list,
        c(ConditionStatus::False, "New").with_generation(4),
        t(1)
    ));
    assert_eq!(list[0].observed_generation, 4);
}

#[test]
fn predicates_distinguish_absent_from_false() {
    let list = vec![Condition::new("A", ConditionStatus::Unknown, "", "", t(0))];
    assert!(has_condition(&list, "A") && !has_condition(&list, "B"));
    assert!(is_condition_unknown(&list, "A"));
    assert!(!is_condition_true(&list, "B") && !is_condition_false(&list, "B"));
    assert_eq!(
        get_condition(&list, "A").map(|c| c.status),
        Some(ConditionStatus::Unknown)
    );
}

#[test]
fn remove_reports_presence() {
    let mut list = vec![c(ConditionStatus::True, "Ok")];
    assert!(remove_condition(&mut list, "Ready"));
    assert!(!remove_condition(&mut list, "Ready"));
}

#[test]
fn condition_serialises_like_kmapi() {
    let json = serde_json::to_value(c(ConditionStatus::True, "Ok")).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"type": "Ready", "status": "True", "lastTransitionTime": "2024-08-19T11:00:00Z", "reason": "Ok"})
    );
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn policy(from: Option<FromNamespaces>, selector: Option<LabelSelector>) -> UsagePolicy {
    UsagePolicy {
        allowed_namespaces: AllowedNamespaces { from, selector },
    }
}

#[test]
fn usage_policy_branches() {
    let none = labels(&[]);
    assert!(!policy(None, None).allows("a", "a", &none));
    assert!(policy(Some(FromNamespaces::All), None).allows("a", "b", &none));
    assert!(policy(Some(FromNamespaces::Same), None).allows("a", "a", &none));
    assert!(!policy(Some(FromNamespaces::Same), None).allows("a", "b", &none));
    let selector = LabelSelector {
        match_labels: Some(labels(&[("team", "db")])),
        ..Default::default()
    };
    let by_label = policy(Some(FromNamespaces::Selector), Some(selector));
    assert!(by_label.allows("a", "b", &labels(&[("team", "db")])));
    assert!(!by_label.allows("a", "b", &labels(&[("team", "web")])));
    assert!(!policy(Some(FromNamespaces::Selector), None).allows("a", "a", &none));
    assert!(usage_allowed(None, "a", "a", &none));
    assert!(!usage_allowed(None, "a", "b", &none));
}

fn req(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
    LabelSelectorRequirement {
        key: key.into(),
        operator: op.into(),
        values: (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect()),
    }
}

fn exprs(list: Vec<LabelSelectorRequirement>) -> LabelSelector {
    LabelSelector {
        match_expressions: Some(list),
        ..Default::default()
    }
}

#[test]
fn selector_operators() {
    let l = labels(&[("env", "prod"), ("team", "db")]);
    assert!(selector_matches(&LabelSelector::default(), &l));
    assert!(selector_matches(
        &exprs(vec![req("env", "In", &["prod", "qa"])]),
        &l
    ));
    assert!(!selector_matches(
        &exprs(vec![req("env", "NotIn", &["prod"])]),
        &l
    ));
    assert!(selector_matches(
        &exprs(vec![req("zone", "NotIn", &["x"])]),
        &l
    ));
    assert!(selector_matches(
        &exprs(vec![req("team", "Exists", &[])]),
        &l
    ));
    assert!(selector_matches(
        &exprs(vec![req("zone", "DoesNotExist", &[])]),
        &l
    ));
    // Invalid selectors match nothing.
    assert!(!selector_matches(&exprs(vec![req("env", "In", &[])]), &l));
    assert!(!selector_matches(
        &exprs(vec![req("env", "Exists", &["x"])]),
        &l
    ));
    assert!(!selector_matches(
        &exprs(vec![req("env", "Gt", &["1"])]),
        &l
    ));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn status() -> impl Strategy<Value = ConditionStatus> {
        prop_oneof![
            Just(ConditionStatus::True),
            Just(ConditionStatus::False),
            Just(ConditionStatus::Unknown)
        ]
    }

    proptest! {
        /// Any sequence of sets keeps one condition per type, and re-setting the last
        /// value is a no-op.
        #[test]
        fn set_is_idempotent_and_unique(ops in prop::collection::vec((0..3usize, status(), 0..3usize), 1..20)) {
            let mut list = Vec::new();
            let types = ["A", "B", "C"];
            for (i, (ty, st, reason)) in ops.iter().enumerate() {
                let now = t(i64::try_from(i).unwrap());
                let cond = Condition::new(types[*ty], *st, format!("r{reason}"), "", now);
                set_condition(&mut list, cond.clone(), now);
                prop_assert!(!set_condition(&mut list, cond, t(100)));
            }
            let mut seen: Vec<&str> = list.iter().map(|c| c.type_.as_str()).collect();
            seen.sort_unstable();
            seen.dedup();
            prop_assert_eq!(seen.len(), list.len());
        }
    }
}
