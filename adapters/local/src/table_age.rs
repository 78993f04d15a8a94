//! Ages the way kubectl prints them (`duration.HumanDuration`): `45s`, `3m10s`, `5h2m`,
//! `3d4h`, `120d`, `2y30d`.

use chrono::{DateTime, Utc};

/// The age of `since` at `now` (`<unknown>` when in the future by more than a second
/// is not expected; negative ages print as `0s`).
pub fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    human_duration((now - since).num_seconds().max(0))
}

/// kubectl's human-readable duration of `seconds`.
pub fn human_duration(seconds: i64) -> String {
    let (s, m, h, d) = (seconds, seconds / 60, seconds / 3600, seconds / 86_400);
    let y = d / 365;
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        match s % 60 {
            0 => format!("{m}m"),
            rest => format!("{m}m{rest}s"),
        }
    } else if h < 3 {
        format!("{m}m")
    } else if h < 8 {
        match m % 60 {
            0 => format!("{h}h"),
            rest => format!("{h}h{rest}m"),
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        match h % 24 {
            0 => format!("{d}d"),
            rest => format!("{d}d{rest}h"),
        }
    } else if y < 2 {
        format!("{d}d")
    } else if y < 8 {
        match d % 365 {
            0 => format!("{y}y"),
            rest => format!("{y}y{rest}d"),
        }
    } else {
        format!("{y}y")
    }
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn matches_kubectl() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (190, "3m10s"),
            (600, "10m"),
            (3 * 3600 + 120, "3h2m"),
            (20 * 3600, "20h"),
            (3 * 86_400 + 4 * 3600, "3d4h"),
            (120 * 86_400, "120d"),
            (3 * 365 * 86_400 + 86_400, "3y1d"),
        ];
        for (s, want) in cases {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }
}
