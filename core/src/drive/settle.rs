//! One control-plane turn, as every driver runs it (operator, local daemon, simulator,
//! model, test harnesses): reconcile, apply, repeat until the plan is empty (a bounded
//! loop), checking the core's invariants.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::effect::Effect;
use crate::invariants::{self, Violation};
use crate::reconcile::reconcile;
use crate::world::{apply, World};

use super::io::Io;

/// Rounds after which a plan that is still not empty counts as a livelock.
pub const MAX_ROUNDS: usize = 32;

/// What one turn produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Turn {
    /// Effects applied to the world, in order.
    pub effects: Vec<Effect>,
    /// The earliest time the core wants to look again without a new fact.
    pub next_wakeup: Option<DateTime<Utc>>,
    /// Why the turn stopped early, if it did (the world holds the effects applied so far).
    pub broken: Option<Broken>,
}

impl Turn {
    /// The effects that need IO of one of `kinds`, in order.
    pub fn needing<'a>(&'a self, kinds: &'a [Io]) -> impl Iterator<Item = &'a Effect> + 'a {
        self.effects
            .iter()
            .filter(move |e| kinds.contains(&Io::of(e)))
    }
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
    /// The transition invariants after every round, the single-world ones at rest (the
    /// decision tests: a deletion cascade passes through worlds that only hold at rest).
    TransitionsEveryRound,
    /// Once the turn is at rest, with the transition invariants checked from the turn's
    /// start to its end (the model runs hundreds of thousands of turns; the daemons).
    AtRest,
}

/// Runs reconcile/apply to quiescence at `now`.
pub fn settle(world: &mut World, now: DateTime<Utc>, checks: Checks) -> Turn {
    let mut turn = Turn::default();
    // The transition invariants hold for a round as for a whole turn (the newest
    // Succeeded Snapshot is taken over both worlds).
    let mut turn_start: Option<World> = None;
    for _ in 0..MAX_ROUNDS {
        let plan = reconcile(world, now);
        turn.next_wakeup = plan.next_wakeup;
        if plan.effects.is_empty() {
            let at_rest = invariants::check(world).and_then(|()| match &turn_start {
                Some(start) => invariants::check_transition(start, world),
                None => Ok(()),
            });
            turn.broken = at_rest.err().map(Broken::Invariant);
            return turn;
        }
        let before = match checks {
            Checks::EveryRound | Checks::TransitionsEveryRound => Some(transition_view(world)),
            Checks::AtRest => {
                if turn_start.is_none() {
                    turn_start = Some(transition_view(world));
                }
                None
            }
        };
        for effect in &plan.effects {
            apply(world, effect);
        }
        turn.effects.extend(plan.effects);
        if let Some(before) = before {
            let round = match checks {
                Checks::EveryRound => invariants::check(world),
                Checks::TransitionsEveryRound | Checks::AtRest => Ok(()),
            }
            .and_then(|()| invariants::check_transition(&before, world));
            if let Err(v) = round {
                turn.broken = Some(Broken::Invariant(v));
                return turn;
            }
        }
    }
    let stuck: Vec<String> = reconcile(world, now)
        .effects
        .iter()
        .map(|e| format!("{e:?}"))
        .collect();
    turn.broken = Some(Broken::Livelock(format!(
        "reconcile did not settle within {MAX_ROUNDS} rounds; still planning: {}",
        stuck.join(" | ")
    )));
    turn.next_wakeup = Some(now);
    turn
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
