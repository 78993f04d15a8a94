//! Status conditions (kmodules `kmapi.Condition`) and the pure helpers every phase rule
//! is built from. Time is an argument: the helpers never read a clock.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::wire::is_zero_i64;

/// Truth value of a condition.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// The condition does not hold.
    False,
    /// Not yet determined.
    Unknown,
}

/// How serious a `False` condition is; the empty string is kmapi's "none".
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum ConditionSeverity {
    /// Blocks progress.
    Error,
    /// Degraded but progressing.
    Warning,
    /// Informational only.
    Info,
    /// No severity (kmapi `ConditionSeverityNone`).
    #[serde(rename = "")]
    None,
}

/// One observation about an object, as kmodules writes it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Condition type, e.g. `BackendInitialized`.
    #[serde(rename = "type")]
    pub type_: String,
    /// True, False or Unknown.
    pub status: ConditionStatus,
    /// `.metadata.generation` the condition was computed from; 0 when unset.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_generation: i64,
    /// Severity of a `False` condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<ConditionSeverity>,
    /// When the condition last changed.
    pub last_transition_time: DateTime<Utc>,
    /// Machine-readable CamelCase reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable detail.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl Condition {
    /// A condition of `type_` with the given status, reason and message, stamped `now`.
    pub fn new(
        type_: impl Into<String>,
        status: ConditionStatus,
        reason: impl Into<String>,
        message: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            type_: type_.into(),
            status,
            observed_generation: 0,
            severity: None,
            last_transition_time: now,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// Same condition carrying the generation it was computed from.
    pub fn with_generation(mut self, generation: i64) -> Self {
        self.observed_generation = generation;
        self
    }

    /// Same condition carrying a severity.
    pub fn with_severity(mut self, severity: ConditionSeverity) -> Self {
        self.severity = Some(severity);
        self
    }
}

/// The condition of `type_`, if present.
pub fn get_condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether a condition of `type_` is present, whatever its status.
pub fn has_condition(conditions: &[Condition], type_: &str) -> bool {
    get_condition(conditions, type_).is_some()
}

/// Whether the condition of `type_` is present and `True`.
pub fn is_condition_true(conditions: &[Condition], type_: &str) -> bool {
    status_is(conditions, type_, ConditionStatus::True)
}

/// Whether the condition of `type_` is present and `False` (absent is not false).
pub fn is_condition_false(conditions: &[Condition], type_: &str) -> bool {
    status_is(conditions, type_, ConditionStatus::False)
}

/// Whether the condition of `type_` is present and `Unknown`.
pub fn is_condition_unknown(conditions: &[Condition], type_: &str) -> bool {
    status_is(conditions, type_, ConditionStatus::Unknown)
}

fn status_is(conditions: &[Condition], type_: &str, status: ConditionStatus) -> bool {
    get_condition(conditions, type_).is_some_and(|c| c.status == status)
}

/// Adds or updates `new` (kmapi `SetCondition`); returns whether the list changed.
///
/// Unchanged status, reason, message and generation leave the list (and its transition
/// time) alone, so repeated reconciles do not rewrite status. An update computed from an
/// older generation than the stored one is ignored. A change is stamped with `now`,
/// whatever `new.last_transition_time` held.
pub fn set_condition(
    conditions: &mut Vec<Condition>,
    mut new: Condition,
    now: DateTime<Utc>,
) -> bool {
    let generation_unset = new.observed_generation <= 0;
    new.last_transition_time = now;
    let Some(current) = conditions.iter_mut().find(|c| c.type_ == new.type_) else {
        conditions.push(new);
        return true;
    };
    let same = current.status == new.status
        && current.reason == new.reason
        && current.message == new.message
        && (generation_unset || current.observed_generation == new.observed_generation);
    if same {
        return false;
    }
    if generation_unset || new.observed_generation >= current.observed_generation {
        *current = new;
        return true;
    }
    false
}

/// Removes the condition of `type_`; returns whether one was present.
pub fn remove_condition(conditions: &mut Vec<Condition>, type_: &str) -> bool {
    let before = conditions.len();
    conditions.retain(|c| c.type_ != type_);
    conditions.len() != before
}
