//! Pure planners: retention, schedules, durations, sizes and naming rules.
//!
//! Every function here is total over its inputs and deterministic: time is always an
//! argument (`now`, `anchor`), never read from a clock.

pub mod duration;
pub mod naming;
pub mod period;
pub mod retention;
pub mod schedule;
pub mod size;

pub use duration::{DurationError, GoDuration};
pub use period::{PeriodError, RetentionPeriod};
pub use retention::{
    plan_retention, Candidate, CandidatePhase, Decision, DeleteReason, KeepPolicy, KeepReason,
    RetentionPlan, Verdict,
};
pub use schedule::{Schedule, ScheduleError};
pub use size::{format_bytes, parse_size, snapshot_size, sum_sizes, SizeError};
