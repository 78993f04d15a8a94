//! How decisions write: a status patch only when the status changed, finalizers only when
//! missing, events only on transitions. This is what makes a settled world produce an
//! empty plan (the fixpoint the drivers loop to).

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::condition::{get_condition, set_condition, Condition, ConditionStatus};
use crate::api::label::CLEANUP_FINALIZER;
use crate::effect::{Effect, Plan};
use crate::event::Event;
use crate::world::object::has_finalizer;
use crate::world::{ObjectRef, Status};

/// Emits `PatchStatus` when `new` differs from `old`.
pub fn patch_status<S: PartialEq + Clone>(
    plan: &mut Plan,
    object: &ObjectRef,
    old: Option<&S>,
    new: S,
    wrap: fn(S) -> Status,
) {
    if old != Some(&new) {
        plan.push(Effect::PatchStatus {
            object: object.clone(),
            status: wrap(new),
        });
    }
}

/// Emits `AddFinalizer` when the cleanup finalizer is missing.
pub fn ensure_finalizer(plan: &mut Plan, object: &ObjectRef, meta: &ObjectMeta) {
    if !has_finalizer(meta, CLEANUP_FINALIZER) {
        plan.push(Effect::AddFinalizer(object.clone()));
    }
}

/// Sets a condition and, when it changed, emits a Normal (True) or Warning (False) event
/// carrying the condition's reason and message.
#[allow(clippy::too_many_arguments)] // a condition is exactly these fields
pub fn set_and_announce(
    plan: &mut Plan,
    object: &ObjectRef,
    conditions: &mut Vec<Condition>,
    type_: &str,
    ok: bool,
    reason: &str,
    message: String,
    now: DateTime<Utc>,
) {
    let status = if ok {
        ConditionStatus::True
    } else {
        ConditionStatus::False
    };
    let before =
        get_condition(conditions, type_).map(|c| (c.status, c.reason.clone(), c.message.clone()));
    let changed = set_condition(
        conditions,
        Condition::new(type_, status, reason, message.clone(), now),
        now,
    );
    let same_as_before = before.is_some_and(|(s, r, m)| s == status && r == reason && m == message);
    if changed && !same_as_before {
        let event = if ok {
            Event::normal(object.clone(), reason, message)
        } else {
            Event::warning(object.clone(), reason, message)
        };
        plan.push(Effect::Emit(event));
    }
}

/// Sets a condition silently (bookkeeping conditions that need no event).
pub fn set_quietly(
    conditions: &mut Vec<Condition>,
    type_: &str,
    ok: bool,
    reason: &str,
    message: String,
    now: DateTime<Utc>,
) {
    let status = if ok {
        ConditionStatus::True
    } else {
        ConditionStatus::False
    };
    set_condition(
        conditions,
        Condition::new(type_, status, reason, message, now),
        now,
    );
}
