//! Cairn's Kubernetes operator: kube-rs controllers that observe objects, call the core
//! and apply its effects.
//!
//! The adapter holds no business rules. One reconcile, whichever object triggered it:
//!
//! 1. [`observe`] refreshes the core's `World` from the reflector stores (objects,
//!    Secrets, namespaces) and turns batch/v1 Jobs and CronJobs into facts;
//! 2. `cairn_core::reconcile::reconcile(&world, now)` plans effects;
//! 3. [`translate`] turns each effect, purely, into HTTP requests against the API server
//!    ([`request::Request`]) or into backend IO; [`execute`] sends them in order;
//! 4. each effect that went through is applied to the in-memory world, facts from the
//!    backend are observed, and the loop repeats (bounded) until the plan is empty;
//! 5. the core's `next_wakeup` becomes the requeue.
//!
//! Facts that live nowhere in the API server (backend files written, schedule slots
//! fired, jobs requested) are kept in memory; after a restart the core asks again for
//! the same idempotent effects, which rebuilds them.

pub mod backend;
pub mod cli;
pub mod driver;
pub mod error;
pub mod exec;
pub mod execute;
pub mod metrics;
pub mod objects;
pub mod observe;
pub mod operator;
pub mod pod_liveness;
pub mod rbac;
pub mod request;
pub mod resource;
pub mod secrets;
pub mod tasks;
pub mod translate;
pub mod trigger;

pub use error::{Error, Result};
