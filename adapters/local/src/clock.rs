//! The real clock of the local control plane: the only place local mode reads time for
//! the core (`now` is passed into every reconcile), and bounded sleeps until the
//! core's next wakeup.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Longest single sleep: wakes up at least this often to notice wall-clock jumps and
/// changes other commands (`cairn apply`, `cairn trigger`) made to the state directory.
pub const MAX_SLEEP: Duration = Duration::from_secs(2);

/// Now, as the core receives it.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// How long to sleep before `at` (capped at [`MAX_SLEEP`]; zero when due).
pub fn until(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Duration {
    match at {
        Some(at) => (at - now).to_std().unwrap_or(Duration::ZERO).min(MAX_SLEEP),
        None => MAX_SLEEP,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_are_capped_and_never_negative() {
        let now = Utc::now();
        assert_eq!(until(None, now), MAX_SLEEP);
        assert_eq!(
            until(Some(now - chrono::Duration::seconds(5)), now),
            Duration::ZERO
        );
        assert_eq!(
            until(Some(now + chrono::Duration::milliseconds(300)), now),
            Duration::from_millis(300)
        );
        assert_eq!(
            until(Some(now + chrono::Duration::hours(1)), now),
            MAX_SLEEP
        );
    }
}
