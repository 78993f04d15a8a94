//! Admission: defaulting (the registry strategies'), validation, OwnerReferencesPermissionEnforcement,
//! ServiceAccount admission, webhooks.

pub mod defaults;
pub mod escalation;
pub mod ownerrefs;
pub mod schedule;
pub mod serviceaccount;
pub mod validation;
pub mod webhooks;
