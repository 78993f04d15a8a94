//! Backup schedules: 5-field cron, `@hourly`-style descriptors and `@every <duration>`,
//! optionally in an IANA time zone.
//!
//! `due` turns "what time is it" into "which slot to fire", tolerant of clock jumps: it
//! fires at most the single most recent missed slot, and never a slot at or before the
//! last one fired, so a clock that goes back cannot cause a second run.

use std::fmt;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

use super::duration::{DurationError, GoDuration};

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// A parsed schedule; compare and print it by its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    source: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Wall-clock cron in `tz` (UTC when `None`).
    Cron { cron: Box<Cron>, tz: Option<Tz> },
    /// Fixed period; slots are `anchor + k * period` for every integer k.
    Every {
        period: GoDuration,
        anchor: DateTime<Utc>,
    },
}

/// Why a schedule string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Nothing to parse.
    #[error("invalid schedule {input:?}: empty, expected e.g. \"*/5 * * * *\", \"@daily\" or \"@every 30s\"")]
    Empty {
        /// The rejected input.
        input: String,
    },
    /// The time zone name is not in the IANA database.
    #[error("invalid schedule {input:?}: unknown time zone {zone:?}, expected an IANA name such as Europe/Berlin")]
    UnknownTimeZone {
        /// The rejected input.
        input: String,
        /// The unknown zone.
        zone: String,
    },
    /// Two different time zones were given (prefix and argument).
    #[error("invalid schedule {input:?}: time zone {given:?} conflicts with {existing:?} in the schedule")]
    TimeZoneConflict {
        /// The schedule text.
        input: String,
        /// The zone already in the schedule.
        existing: String,
        /// The zone passed separately.
        given: String,
    },
    /// An `@` descriptor that is not known.
    #[error("invalid schedule {input:?}: unknown descriptor, expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>")]
    UnknownDescriptor {
        /// The rejected input.
        input: String,
    },
    /// `@every` with a bad or non-positive duration.
    #[error("invalid schedule {input:?}: @every needs a positive duration such as 30s or 1h30m")]
    BadEvery {
        /// The rejected input.
        input: String,
        /// The duration parse error, if parsing failed.
        cause: Option<DurationError>,
    },
    /// A cron expression without exactly five fields.
    #[error("invalid schedule {input:?}: expected 5 cron fields (minute hour day-of-month month day-of-week), found {found}")]
    FieldCount {
        /// The rejected input.
        input: String,
        /// Number of fields found.
        found: usize,
    },
    /// A five-field expression that cron rejects.
    #[error("invalid schedule {input:?}: {reason}")]
    InvalidCron {
        /// The rejected input.
        input: String,
        /// The cron parser's explanation.
        reason: String,
    },
}

impl Schedule {
    /// Parses `[CRON_TZ=<zone> |TZ=<zone> ]<5-field cron | @descriptor | @every <duration>>`.
    ///
    /// `@every` slots are anchored at the Unix epoch until [`Schedule::anchored_at`].
    pub fn parse(input: &str) -> Result<Self, ScheduleError> {
        let err_input = || input.to_owned();
        let text = input.trim();
        let (tz, spec) = split_time_zone(text).map_err(|zone| ScheduleError::UnknownTimeZone {
            input: err_input(),
            zone,
        })?;
        if spec.is_empty() {
            return Err(ScheduleError::Empty { input: err_input() });
        }
        let kind = if let Some(rest) = spec.strip_prefix("@every") {
            let period = parse_every(rest).map_err(|cause| ScheduleError::BadEvery {
                input: err_input(),
                cause,
            })?;
            Kind::Every {
                period,
                anchor: DateTime::UNIX_EPOCH,
            }
        } else {
            let cron_text = match spec {
                s if s.starts_with('@') => {
                    descriptor(s).ok_or(ScheduleError::UnknownDescriptor { input: err_input() })?
                }
                s => s,
            };
            Kind::Cron {
                cron: Box::new(parse_cron(cron_text, input)?),
                tz,
            }
        };
        Ok(Schedule {
            source: input.trim().to_owned(),
            kind,
        })
    }

    /// Evaluates a cron schedule in the IANA zone `zone` (e.g. a CronJob's `timeZone`).
    ///
    /// Agreeing with a `CRON_TZ=` prefix is fine, contradicting it is an error;
    /// `@every` schedules are absolute and ignore the zone.
    pub fn with_time_zone(mut self, zone: &str) -> Result<Self, ScheduleError> {
        let parsed: Tz = zone.parse().map_err(|_| ScheduleError::UnknownTimeZone {
            input: self.source.clone(),
            zone: zone.to_owned(),
        })?;
        if let Kind::Cron { tz, .. } = &mut self.kind {
            match tz {
                Some(existing) if *existing != parsed => {
                    return Err(ScheduleError::TimeZoneConflict {
                        input: self.source.clone(),
                        existing: existing.name().to_owned(),
                        given: zone.to_owned(),
                    })
                }
                _ => *tz = Some(parsed),
            }
        }
        Ok(self)
    }

    /// Anchors `@every` slots at `anchor` (slots are `anchor + k * period`); no-op for cron.
    pub fn anchored_at(mut self, anchor: DateTime<Utc>) -> Self {
        if let Kind::Every { anchor: a, .. } = &mut self.kind {
            *a = anchor;
        }
        self
    }

    /// The first slot strictly after `t`; `None` if the schedule never fires again.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.kind {
            Kind::Cron { cron, tz } => cron_search(cron, *tz, t, Direction::After),
            Kind::Every { period, anchor } => every_slot(*period, *anchor, t, Direction::After),
        }
    }

    /// The latest slot at or before `t`; `None` if there is none.
    pub fn latest_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.kind {
            Kind::Cron { cron, tz } => cron_search(cron, *tz, t, Direction::AtOrBefore),
            Kind::Every { period, anchor } => {
                every_slot(*period, *anchor, t, Direction::AtOrBefore)
            }
        }
    }

    /// Slots `s` with `a < s <= b`, in increasing order, at most `max` of them.
    pub fn slots_between(
        &self,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
        max: usize,
    ) -> Vec<DateTime<Utc>> {
        let mut slots = Vec::new();
        let mut cursor = a;
        while slots.len() < max {
            match self.next_after(cursor) {
                Some(s) if s <= b => {
                    slots.push(s);
                    cursor = s;
                }
                _ => break,
            }
        }
        slots
    }

    /// The slot to fire now, if any: the most recent slot `s <= now` with
    /// `s > last_fired`, and, with a starting deadline, `s >= now - deadline`.
    ///
    /// Older missed slots are skipped (at most one catch-up run), and a clock that went
    /// back yields nothing until it passes `last_fired` again. `last_fired = None` means
    /// "never fired": pass the schedule's creation time instead to avoid a catch-up run
    /// for a slot from before the schedule existed (Kubernetes uses the CronJob's
    /// creation time the same way).
    pub fn due(
        &self,
        last_fired: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        starting_deadline: Option<chrono::Duration>,
    ) -> Option<DateTime<Utc>> {
        let slot = self.latest_at_or_before(now)?;
        if last_fired.is_some_and(|last| slot <= last) {
            return None;
        }
        let too_late = starting_deadline
            .and_then(|d| now.checked_sub_signed(d))
            .is_some_and(|earliest| slot < earliest);
        (!too_late).then_some(slot)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    After,
    AtOrBefore,
}

/// A schedule as a CronJob takes it: the API server refuses `CRON_TZ=`/`TZ=` prefixes in
/// `spec.schedule` (use `spec.timeZone`), so the prefix moves there. Returns the schedule
/// without it and the zone it named, if any.
pub fn cron_job_schedule(text: &str) -> (&str, Option<&str>) {
    let trimmed = text.trim_start();
    let Some(rest) = trimmed
        .strip_prefix("CRON_TZ=")
        .or_else(|| trimmed.strip_prefix("TZ="))
    else {
        return (text, None);
    };
    let (zone, spec) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    (spec.trim_start(), Some(zone))
}

/// Splits an optional `CRON_TZ=` / `TZ=` prefix; `Err(zone)` for an unknown zone.
fn split_time_zone(text: &str) -> Result<(Option<Tz>, &str), String> {
    let Some(rest) = text
        .strip_prefix("CRON_TZ=")
        .or_else(|| text.strip_prefix("TZ="))
    else {
        return Ok((None, text));
    };
    let (zone, spec) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let tz: Tz = zone.parse().map_err(|_| zone.to_owned())?;
    Ok((Some(tz), spec.trim_start()))
}

/// The 5-field cron equivalent of a descriptor.
fn descriptor(spec: &str) -> Option<&'static str> {
    Some(match spec {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => return None,
    })
}

fn parse_every(rest: &str) -> Result<GoDuration, Option<DurationError>> {
    // "@every30s" is not a descriptor; a separator is required.
    if !rest.starts_with(char::is_whitespace) {
        return Err(None);
    }
    let period = GoDuration::parse(rest.trim()).map_err(Some)?;
    if period.as_nanos() <= 0 {
        return Err(None);
    }
    Ok(period)
}

fn parse_cron(cron_text: &str, input: &str) -> Result<Cron, ScheduleError> {
    let found = cron_text.split_whitespace().count();
    if found != 5 {
        return Err(ScheduleError::FieldCount {
            input: input.to_owned(),
            found,
        });
    }
    // Kubernetes' cron parser accepts "5/15" for "5-59/15"; so does croner in sloppy mode.
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .sloppy_ranges(true)
        .build()
        .parse(cron_text)
        .map_err(|e| ScheduleError::InvalidCron {
            input: input.to_owned(),
            reason: e.to_string(),
        })
}

fn cron_search(
    cron: &Cron,
    tz: Option<Tz>,
    t: DateTime<Utc>,
    direction: Direction,
) -> Option<DateTime<Utc>> {
    fn search<Z: TimeZone>(
        cron: &Cron,
        t: DateTime<Z>,
        direction: Direction,
    ) -> Option<DateTime<Utc>> {
        let found = match direction {
            Direction::After => cron.find_next_occurrence(&t, false),
            Direction::AtOrBefore => cron.find_previous_occurrence(&t, true),
        };
        found.ok().map(|d| d.with_timezone(&Utc))
    }
    let found = match tz {
        Some(tz) => search(cron, t.with_timezone(&tz), direction),
        None => search(cron, t, direction),
    }?;
    // Guard the contract against sub-second edge cases in the wall-clock walk.
    let ok = match direction {
        Direction::After => found > t,
        Direction::AtOrBefore => found <= t,
    };
    ok.then_some(found)
}

fn every_slot(
    period: GoDuration,
    anchor: DateTime<Utc>,
    t: DateTime<Utc>,
    direction: Direction,
) -> Option<DateTime<Utc>> {
    let p = i128::from(period.as_nanos());
    let anchor_ns = to_nanos(anchor);
    let k = (to_nanos(t) - anchor_ns).div_euclid(p);
    let k = match direction {
        Direction::After => k + 1,
        Direction::AtOrBefore => k,
    };
    from_nanos(anchor_ns + k * p)
}

fn to_nanos(t: DateTime<Utc>) -> i128 {
    i128::from(t.timestamp()) * NANOS_PER_SECOND + i128::from(t.timestamp_subsec_nanos())
}

fn from_nanos(ns: i128) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(ns.div_euclid(NANOS_PER_SECOND)).ok()?;
    let sub = u32::try_from(ns.rem_euclid(NANOS_PER_SECOND)).ok()?;
    DateTime::from_timestamp(secs, sub)
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
