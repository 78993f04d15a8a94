//! Names and annotations of the Jobs a CronJob creates (upstream `getJobName`).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Annotation recording a Job's scheduled time (RFC 3339 in the CronJob's zone).
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// `<cronjob>-<scheduled time in minutes since the epoch>`, exactly as upstream; two slots
/// of an `@every` schedule within one minute share a name, so the second create gets
/// AlreadyExists and that slot is skipped, as in a real cluster.
pub fn job_name(cronjob: &str, scheduled: DateTime<Utc>) -> String {
    format!("{cronjob}-{}", scheduled.timestamp().div_euclid(60))
}

/// The value of [`SCHEDULED_TIMESTAMP`].
pub fn scheduled_timestamp(scheduled: DateTime<Utc>, tz: Tz) -> String {
    scheduled
        .with_timezone(&tz)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_count_minutes() {
        let t = DateTime::parse_from_rfc3339("2026-01-01T00:01:30Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            job_name("backup", t),
            format!("backup-{}", 1_767_225_660 / 60)
        );
        let same_minute = t + chrono::Duration::seconds(20);
        assert_eq!(job_name("backup", t), job_name("backup", same_minute));
    }

    #[test]
    fn timestamps_are_in_the_zone() {
        let t = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(scheduled_timestamp(t, Tz::UTC), "2026-01-01T00:00:00Z");
        assert_eq!(
            scheduled_timestamp(t, Tz::Europe__Paris),
            "2026-01-01T01:00:00+01:00"
        );
    }
}
