//! The driver around `reconcile`: what every control plane (operator, local daemon,
//! simulator, model, test harnesses) does the same way, so there is one definition of it.
//!
//! - [`settle`]: one turn, reconcile → apply until the plan is empty, invariants checked;
//! - [`backoff`]: a refused write holds back its own object only, with exponential waits;
//! - [`io`]: the exhaustive mapping from an effect to the IO it needs;
//! - [`restart`]: what a control plane that runs its own jobs does when it starts again;
//! - [`report`]: when a finished executor's missing report counts as missing;
//! - [`unfinished`]: what is still to happen, and what failed for good.

pub mod backoff;
pub mod io;
pub mod report;
pub mod restart;
pub mod settle;
pub mod unfinished;
