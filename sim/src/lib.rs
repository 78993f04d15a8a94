//! Model checking and deterministic simulation of Cairn's core.
//!
//! Both play only the environment — the user, the cron clock, jobs, storage, restarts,
//! duplicated and late deliveries — and call the core's own `reconcile`, `apply`,
//! `observe` and `invariants` (see `cairn_core::drive::settle`). Nothing here decides what the operator
//! does.

pub mod action;
pub mod clock;
pub mod driver;
pub mod executor;
pub mod faults;
pub mod fingerprint;
pub mod liveness;
pub mod manifests;
pub mod model;
pub mod model_state;
pub mod prng;
pub mod request;
pub mod scenario;
