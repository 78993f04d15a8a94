//! Fault rates, drawn per seed (swarm testing): each run stresses a different mix, so
//! rare combinations (many restarts but no storage errors, say) get explored too.

use crate::prng::Prng;

/// Probabilities of each injected fault, per opportunity.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRates {
    /// A running job's pod is killed (it vanishes without reporting).
    pub job_killed: f64,
    /// The database connection drops (the job fails and says so).
    pub db_disconnect: f64,
    /// A storage write fails (bucket unreachable, 5xx).
    pub storage_unavailable: f64,
    /// The controller restarts (volatile state lost) at a step.
    pub controller_restart: f64,
    /// A fact is delivered twice.
    pub duplicate_fact: f64,
    /// Extra delivery delay, in seconds, that reorders facts.
    pub reorder_delay_s_max: u64,
    /// The controller's clock jumps or is skewed after a restart.
    pub clock_skew: f64,
}

impl FaultRates {
    /// No faults at all (the liveness phase).
    pub fn none() -> Self {
        Self {
            job_killed: 0.0,
            db_disconnect: 0.0,
            storage_unavailable: 0.0,
            controller_restart: 0.0,
            duplicate_fact: 0.0,
            reorder_delay_s_max: 0,
            clock_skew: 0.0,
        }
    }

    /// Rates for one seed: each fault is switched off in about a third of the runs and
    /// otherwise gets a rate of up to its ceiling.
    pub fn draw(prng: &mut Prng) -> Self {
        let mut rate = |ceiling: f64| {
            if prng.chance(1.0 / 3.0) {
                0.0
            } else {
                prng.unit() * ceiling
            }
        };
        let job_killed = rate(0.2);
        let db_disconnect = rate(0.2);
        let storage_unavailable = rate(0.3);
        let controller_restart = rate(0.02);
        let duplicate_fact = rate(0.2);
        let clock_skew = rate(0.3);
        let reorder_delay_s_max = prng.below(4) * 30;
        Self {
            job_killed,
            db_disconnect,
            storage_unavailable,
            controller_restart,
            duplicate_fact,
            reorder_delay_s_max,
            clock_skew,
        }
    }
}
