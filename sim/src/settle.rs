//! One controller turn, as every driver runs it: reconcile, apply, repeat until the plan
//! is empty (a bounded loop), checking the core's invariants after every round.
//!
//! This is the only place the simulator and the model call the core's decisions; they
//! differ only in how they play the environment around it.

use cairn_core::effect::Effect;
use std::fmt;

use cairn_core::invariants::{self, Violation};
use cairn_core::reconcile::reconcile;
use cairn_core::world::{apply, World};
use chrono::{DateTime, Utc};

use crate::request::Request;

/// Rounds after which a plan that is still not empty counts as a livelock.
pub const MAX_ROUNDS: usize = 24;

/// What one turn produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Turn {
    /// Storage requests the core made, in order.
    pub requests: Vec<Request>,
    /// The earliest time the core wants to look again without a new fact.
    pub next_wakeup: Option<DateTime<Utc>>,
    /// Effects applied, in order (the simulator hashes them into its trace).
    pub effects: Vec<Effect>,
}

/// Why a turn failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Broken {
    /// A core invariant does not hold.
    Invariant(Violation),
    /// The plan never became empty.
    Livelock(String),
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broken::Invariant(v) => write!(f, "invariant broken: {v}"),
            Broken::Livelock(what) => write!(f, "livelock: {what}"),
        }
    }
}

/// How often the single-world invariants are checked during a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checks {
    /// After every round of effects: also catches a state that is visible to users only
    /// between two rounds (the simulator).
    EveryRound,
    /// Once the turn is at rest (the model runs hundreds of thousands of turns), with the
    /// transition invariants checked from the turn's start to its end.
    AtRest,
}

/// Runs the controller to quiescence at `now`; `Err` names the broken invariant or the
/// livelock.
pub fn settle(world: &mut World, now: DateTime<Utc>, checks: Checks) -> Result<Turn, Broken> {
    let mut turn = Turn::default();
    // The transition invariants hold for a round as for a whole turn (the newest
    // Succeeded Snapshot is taken over both worlds): the simulator checks every round,
    // the model once per turn, against the world the turn started from.
    let mut turn_start: Option<World> = None;
    for _ in 0..MAX_ROUNDS {
        let plan = reconcile(world, now);
        turn.next_wakeup = plan.next_wakeup;
        if plan.effects.is_empty() {
            invariants::check(world).map_err(Broken::Invariant)?;
            if let Some(start) = &turn_start {
                invariants::check_transition(start, world).map_err(Broken::Invariant)?;
            }
            return Ok(turn);
        }
        let before = match checks {
            Checks::EveryRound => Some(transition_view(world)),
            Checks::AtRest => {
                if turn_start.is_none() {
                    turn_start = Some(transition_view(world));
                }
                None
            }
        };
        for effect in &plan.effects {
            apply(world, effect);
            turn.requests.extend(Request::of(effect));
        }
        if let Some(before) = before {
            invariants::check(world).map_err(Broken::Invariant)?;
            invariants::check_transition(&before, world).map_err(Broken::Invariant)?;
        }
        turn.effects.extend(plan.effects);
    }
    let stuck: Vec<String> = reconcile(world, now)
        .effects
        .iter()
        .map(|e| format!("{e:?}"))
        .collect();
    Err(Broken::Livelock(format!(
        "reconcile did not settle within {MAX_ROUNDS} rounds; still planning: {}",
        stuck.join(" | ")
    )))
}

/// The part of a world the core's transition invariants read (sessions, snapshots,
/// repositories): cloning only that, once per round, instead of the whole world (job
/// specs, secrets, configurations) is a large share of the model's speed.
fn transition_view(world: &World) -> World {
    World {
        backup_sessions: world.backup_sessions.clone(),
        restore_sessions: world.restore_sessions.clone(),
        snapshots: world.snapshots.clone(),
        repositories: world.repositories.clone(),
        ..World::default()
    }
}
