//! Pods on the node: state and status, container instances, the per-pod worker.

pub mod container;
pub mod state;
pub mod worker;
