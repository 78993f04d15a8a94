//! Table tests, one module per decision of the reconcile machine, plus properties over
//! random sequences of facts and user actions. One binary (style §2.5).

#[path = "scenarios/harness.rs"]
mod harness;

#[path = "decisions/common.rs"]
mod common;

#[path = "decisions/validation.rs"]
mod validation;

#[path = "decisions/defaults.rs"]
mod defaults;

#[path = "decisions/deletion.rs"]
mod deletion;

#[path = "decisions/sessions.rs"]
mod sessions;

#[path = "decisions/properties.rs"]
mod properties;

#[path = "decisions/retries.rs"]
mod retries;

#[path = "decisions/invariants.rs"]
mod invariants;

#[path = "decisions/clock.rs"]
mod clock;

#[path = "decisions/restart.rs"]
mod restart;
