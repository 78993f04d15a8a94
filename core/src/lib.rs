//! Cairn's core: API types and every decision as a pure function.
//!
//! Determinism contract: nothing in this crate reads a clock, draws a random number,
//! performs IO or depends on hash-map iteration order. Time and ids are inputs.

pub mod api;
pub mod catalog;
pub mod crd;
pub mod drive;
pub mod effect;
pub mod event;
pub mod invariants;
pub mod job;
pub mod plan;
pub mod reconcile;
pub mod world;
