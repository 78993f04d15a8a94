//! The virtual clock: simulated time only moves when the simulator says so.

use chrono::{DateTime, Duration, Utc};

/// Wall time the controller reads, with an optional skew (a restarted controller on
/// another node whose clock is a little off).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Clock {
    /// True simulated time.
    now: DateTime<Utc>,
    /// Offset of the controller's clock from true time.
    skew: Duration,
}

impl Clock {
    /// A clock starting at `start`, without skew.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: start,
            skew: Duration::zero(),
        }
    }

    /// True simulated time (what the environment uses for its own timers).
    pub fn true_now(&self) -> DateTime<Utc> {
        self.now
    }

    /// What the controller reads.
    pub fn controller_now(&self) -> DateTime<Utc> {
        self.now + self.skew
    }

    /// Moves true time forward to `t` (never backward: true time is monotonic).
    pub fn advance_to(&mut self, t: DateTime<Utc>) {
        if t > self.now {
            self.now = t;
        }
    }

    /// Sets the controller's skew (may be negative: its clock reads earlier).
    pub fn set_skew(&mut self, skew: Duration) {
        self.skew = skew;
    }

    /// The controller clock time that corresponds to controller-time `t` in true time.
    pub fn to_true(&self, controller_time: DateTime<Utc>) -> DateTime<Utc> {
        controller_time - self.skew
    }
}

/// The fixed origin of every run: a Monday, so weekly schedules line up the same way.
pub fn epoch() -> DateTime<Utc> {
    DateTime::from_timestamp(1_724_065_200, 0).unwrap_or_default()
}
