//! CronJob schedules: 5-field cron (via `croner`), the `@hourly`-style descriptors and
//! robfig/cron's `@every <duration>`, evaluated in the CronJob's time zone; plus upstream's
//! most-recent-missed-slot arithmetic (kubernetes/pkg/controller/cronjob/utils.go).

use std::str::FromStr as _;
use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds};
use croner::Cron;

/// Why a schedule cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The cron text does not parse.
    #[error("unparseable schedule {0:?}: {1}")]
    Cron(String, String),
    /// `@every` with a bad duration.
    #[error("unparseable @every duration {0:?}")]
    Every(String),
    /// `spec.timeZone` names no known zone.
    #[error("unknown time zone {0:?}")]
    TimeZone(String),
    /// Two consecutive slots less than a second apart (e.g. `59 23 31 2 *`).
    #[error("time difference between two schedules is less than 1 second")]
    TooFrequent,
}

/// A parsed schedule in a time zone.
#[derive(Debug)]
pub struct Schedule {
    kind: Kind,
    tz: Tz,
}

#[derive(Debug)]
enum Kind {
    Cron(Box<Cron>),
    Every(Duration),
}

impl Schedule {
    /// Parses `text` (as `spec.schedule`) for the zone `time_zone` (`spec.timeZone`, UTC when unset).
    pub fn parse(text: &str, time_zone: Option<&str>) -> Result<Self, ScheduleError> {
        let tz = match time_zone {
            None => Tz::UTC,
            Some(z) => Tz::from_str(z).map_err(|_| ScheduleError::TimeZone(z.to_owned()))?,
        };
        let text = text.trim();
        if let Some(d) = text.strip_prefix("@every ") {
            let d =
                parse_go_duration(d.trim()).ok_or_else(|| ScheduleError::Every(d.to_owned()))?;
            // robfig/cron rounds sub-second delays up to one second.
            return Ok(Self {
                kind: Kind::Every(d.max(Duration::from_secs(1))),
                tz,
            });
        }
        let expanded = match text {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .build()
            .parse(expanded)
            .map_err(|e| ScheduleError::Cron(text.to_owned(), e.to_string()))?;
        Ok(Self {
            kind: Kind::Cron(Box::new(cron)),
            tz,
        })
    }

    /// The time zone the schedule is evaluated in.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The first slot strictly after `t` (robfig's `Schedule.Next`).
    pub fn next(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.kind {
            Kind::Every(d) => {
                // ConstantDelaySchedule.Next: t + delay, truncated to whole seconds.
                let whole = t.timestamp();
                Some(Utc.timestamp_opt(whole, 0).single()? + chrono::Duration::from_std(*d).ok()?)
            }
            Kind::Cron(c) => {
                let local = t.with_timezone(&self.tz);
                c.find_next_occurrence(&local, false)
                    .ok()
                    .map(|n| n.with_timezone(&Utc))
            }
        }
    }

    /// The most recent slot in `(earliest, now]`, upstream's `mostRecentScheduleTime`
    /// (`earliest` is the last schedule time or creation time, moved up to
    /// `now - startingDeadlineSeconds` when that is later).
    pub fn most_recent(
        &self,
        earliest: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, ScheduleError> {
        let Some(t1) = self.next(earliest) else {
            return Ok(None);
        };
        if now < t1 {
            return Ok(None);
        }
        let Some(t2) = self.next(t1) else {
            return Ok(Some(t1));
        };
        if now < t2 {
            return Ok(Some(t1));
        }
        let between = (t2 - t1).num_milliseconds().div_euclid(1000)
            + i64::from((t2 - t1).num_milliseconds().rem_euclid(1000) >= 500);
        if between < 1 {
            return Err(ScheduleError::TooFrequent);
        }
        let elapsed = (now - t1).num_seconds();
        let missed = elapsed / between + 1;
        let mut t = t1 + chrono::Duration::seconds((missed - 2) * between);
        let mut recent = None;
        while let Some(n) = self.next(t) {
            if n > now {
                break;
            }
            recent = Some(n);
            t = n;
        }
        Ok(recent)
    }
}

/// Go's `time.ParseDuration` for what schedules use (`1h30m`, `5s`, `1.5m`, `250ms`): the
/// parser the API server validates `@every` with, so both accept the same schedules.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    crate::apiserver::admission::schedule::go_duration(s)
        .ok()
        .map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_go_duration("5"), None);
        assert_eq!(parse_go_duration("5x"), None);
    }

    #[test]
    fn every_adds_the_delay_to_whole_seconds() {
        let s = Schedule::parse("@every 5s", None).unwrap();
        let t = at("2026-01-01T00:00:00.700Z");
        assert_eq!(s.next(t), Some(at("2026-01-01T00:00:05Z")));
    }

    #[test]
    fn cron_next_in_utc_and_in_a_zone() {
        let s = Schedule::parse("30 2 * * *", None).unwrap();
        assert_eq!(
            s.next(at("2026-01-01T00:00:00Z")),
            Some(at("2026-01-01T02:30:00Z"))
        );
        let s = Schedule::parse("30 2 * * *", Some("Europe/Paris")).unwrap();
        assert_eq!(
            s.next(at("2026-01-01T00:00:00Z")),
            Some(at("2026-01-01T01:30:00Z"))
        );
        assert!(Schedule::parse("30 2 * * *", Some("Mars/Olympus")).is_err());
        assert!(Schedule::parse("nonsense", None).is_err());
    }

    #[test]
    fn descriptors_expand() {
        let s = Schedule::parse("@hourly", None).unwrap();
        assert_eq!(
            s.next(at("2026-01-01T00:10:00Z")),
            Some(at("2026-01-01T01:00:00Z"))
        );
    }

    #[test]
    fn most_recent_takes_the_last_missed_slot() {
        let s = Schedule::parse("*/5 * * * *", None).unwrap();
        let earliest = at("2026-01-01T00:00:00Z");
        assert_eq!(
            s.most_recent(earliest, at("2026-01-01T00:04:59Z")).unwrap(),
            None
        );
        assert_eq!(
            s.most_recent(earliest, at("2026-01-01T00:07:00Z")).unwrap(),
            Some(at("2026-01-01T00:05:00Z"))
        );
        assert_eq!(
            s.most_recent(earliest, at("2026-01-01T01:02:00Z")).unwrap(),
            Some(at("2026-01-01T01:00:00Z"))
        );
        let every = Schedule::parse("@every 3s", None).unwrap();
        assert_eq!(
            every
                .most_recent(earliest, at("2026-01-01T00:00:10Z"))
                .unwrap(),
            Some(at("2026-01-01T00:00:09Z"))
        );
    }
}
