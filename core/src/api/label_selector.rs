//! Pure evaluation of a Kubernetes `LabelSelector` against a label set, with
//! apimachinery's semantics (an invalid selector matches nothing).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

/// Whether `labels` satisfy `selector`: every `matchLabels` pair and every
/// `matchExpressions` requirement must hold. An empty selector matches everything; an
/// invalid one (unknown operator, `In`/`NotIn` without values, `Exists`/`DoesNotExist`
/// with values) matches nothing, as `metav1.LabelSelectorAsSelector` errors there.
pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let pairs_hold = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    let requirements_hold = selector
        .match_expressions
        .iter()
        .flatten()
        .all(|req| requirement_matches(req, labels) == Some(true));
    pairs_hold && requirements_hold
}

/// `None` when the requirement is invalid.
fn requirement_matches(
    req: &LabelSelectorRequirement,
    labels: &BTreeMap<String, String>,
) -> Option<bool> {
    let values = req.values.as_deref().unwrap_or_default();
    let actual = labels.get(&req.key);
    match req.operator.as_str() {
        "In" if !values.is_empty() => Some(actual.is_some_and(|v| values.contains(v))),
        "NotIn" if !values.is_empty() => Some(actual.is_none_or(|v| !values.contains(v))),
        "Exists" if values.is_empty() => Some(actual.is_some()),
        "DoesNotExist" if values.is_empty() => Some(actual.is_none()),
        _ => None,
    }
}
