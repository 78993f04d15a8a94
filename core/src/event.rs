//! Kubernetes-style events the core emits on every visible transition.

use serde::{Deserialize, Serialize};

use crate::world::ObjectRef;

/// Severity of an event, as Kubernetes spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// Progress.
    Normal,
    /// Something needs attention.
    Warning,
}

/// One event about one object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The object the event is about.
    pub object: ObjectRef,
    /// Normal or Warning.
    #[serde(rename = "type")]
    pub type_: EventType,
    /// CamelCase reason (usually a condition reason).
    pub reason: String,
    /// Human-readable message: what happened, on which object, what to do.
    pub message: String,
}

impl Event {
    /// A `Normal` event.
    pub fn normal(
        object: ObjectRef,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            object,
            type_: EventType::Normal,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A `Warning` event.
    pub fn warning(
        object: ObjectRef,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            object,
            type_: EventType::Warning,
            reason: reason.into(),
            message: message.into(),
        }
    }
}
