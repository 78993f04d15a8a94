//! One control-plane turn, as every driver runs it (operator, local daemon, simulator,
//! model, test harnesses): reconcile, apply, repeat until the plan is empty (a bounded
//! loop), checking the core's invariants.

use std::collections::{BTreeSet, VecDeque};
use std::fmt;

use chrono::{DateTime, Utc};

use crate::effect::Effect;
use crate::invariants::{self, Violation};
use crate::reconcile::reconcile;
use crate::world::{apply, ObjectRef, World};

use super::backoff::subject;
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
    /// Objects whose effects the turn left for later (refused now or earlier, see
    /// [`super::backoff`]): the world is not at rest, so no at-rest invariant was checked.
    pub held: BTreeSet<ObjectRef>,
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
    let mut rounds = Rounds::new(checks);
    while let Some(effect) = rounds.next(world, now) {
        rounds.carried_out(world, effect);
    }
    rounds.finish()
}

/// The turn's loop as a state machine, for drivers that carry out each effect before it
/// counts (the operator awaits an API request per effect, and a refused request must not
/// change the world): ask [`Rounds::next`] for an effect, carry it out, report it with
/// [`Rounds::carried_out`], until `next` says the turn is over; [`settle`] is the same
/// loop with nothing to carry out.
#[derive(Debug)]
pub struct Rounds {
    checks: Checks,
    rounds: usize,
    queue: VecDeque<Effect>,
    in_round: bool,
    /// The world before the current round (transition invariants per round).
    before: Option<World>,
    /// The world before the first round (transition invariants at rest).
    turn_start: Option<World>,
    /// Objects whose effects wait: a refused write stays with its own object.
    holding: BTreeSet<ObjectRef>,
    turn: Turn,
}

impl Rounds {
    /// A turn that checks invariants as `checks` says.
    pub fn new(checks: Checks) -> Self {
        Self {
            checks,
            rounds: 0,
            queue: VecDeque::new(),
            in_round: false,
            before: None,
            turn_start: None,
            holding: BTreeSet::new(),
            turn: Turn::default(),
        }
    }

    /// A turn that leaves the effects of `holding` for later (objects still in backoff).
    pub fn holding(checks: Checks, holding: BTreeSet<ObjectRef>) -> Self {
        Self {
            holding,
            ..Self::new(checks)
        }
    }

    /// Records that `effect` (from [`Rounds::next`]) could not be carried out: the world
    /// is left as it was, and no further effect on the same object runs in this turn.
    pub fn refused(&mut self, effect: &Effect) {
        let held = subject(effect);
        self.queue.retain(|e| subject(e) != held);
        self.holding.insert(held);
    }

    fn held(&mut self, effect: &Effect) -> bool {
        let held = subject(effect);
        let is_held = self.holding.contains(&held);
        if is_held {
            self.turn.held.insert(held);
        }
        is_held
    }

    /// The next effect to carry out (planning a new round from `world` when the last one
    /// is done), or `None` when the turn is at rest, broken or out of rounds.
    pub fn next(&mut self, world: &World, now: DateTime<Utc>) -> Option<Effect> {
        while let Some(effect) = self.queue.pop_front() {
            if !self.held(&effect) {
                return Some(effect);
            }
        }
        if self.in_round {
            self.in_round = false;
            if let Some(before) = self.before.take() {
                let round = match self.checks {
                    Checks::EveryRound => invariants::check(world),
                    Checks::TransitionsEveryRound | Checks::AtRest => Ok(()),
                }
                .and_then(|()| invariants::check_transition(&before, world));
                if let Err(v) = round {
                    self.turn.broken = Some(Broken::Invariant(v));
                }
            }
        }
        if self.turn.broken.is_some() {
            return None;
        }
        let mut plan = reconcile(world, now);
        self.turn.next_wakeup = plan.next_wakeup;
        plan.effects.retain(|e| !self.held(e));
        if plan.effects.is_empty() && !self.turn.held.is_empty() {
            // Not at rest: the held objects' effects are still to come.
            return None;
        }
        if plan.effects.is_empty() {
            let at_rest = invariants::check(world).and_then(|()| match &self.turn_start {
                Some(start) => invariants::check_transition(start, world),
                None => Ok(()),
            });
            self.turn.broken = at_rest.err().map(Broken::Invariant);
            return None;
        }
        if self.rounds == MAX_ROUNDS {
            let stuck: Vec<String> = plan.effects.iter().map(|e| format!("{e:?}")).collect();
            self.turn.broken = Some(Broken::Livelock(format!(
                "reconcile did not settle within {MAX_ROUNDS} rounds; still planning: {}",
                stuck.join(" | ")
            )));
            self.turn.next_wakeup = Some(now);
            return None;
        }
        self.rounds += 1;
        match self.checks {
            Checks::EveryRound | Checks::TransitionsEveryRound => {
                self.before = Some(transition_view(world));
            }
            Checks::AtRest => {
                if self.turn_start.is_none() {
                    self.turn_start = Some(transition_view(world));
                }
            }
        }
        self.queue = plan.effects.into();
        self.in_round = true;
        self.queue.pop_front()
    }

    /// Records that `effect` (from [`Rounds::next`]) was carried out: applies it.
    pub fn carried_out(&mut self, world: &mut World, effect: Effect) {
        apply(world, &effect);
        self.turn.effects.push(effect);
    }

    /// What the turn did.
    pub fn finish(self) -> Turn {
        self.turn
    }
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
