//! RetentionPolicy `maxRetentionPeriod` strings such as "2mo" or "1y2mo3w4d5h6m".
//!
//! Units are y, mo, w, d, h, m (m is minutes, mo is months). Like KubeStash's
//! `RetentionPeriod.ToMinutes`, a month is 30 days and a year 365 days: the period is a
//! fixed span, not a calendar offset. Cairn is stricter than KubeStash's parser, which
//! silently accepts negative numbers and lets a repeated unit overwrite the first.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

const EXAMPLE: &str = "expected e.g. 1y2mo3w4d5h6m";

/// A parsed `maxRetentionPeriod`; each field is a count of its unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RetentionPeriod {
    /// Years of 365 days.
    pub years: u32,
    /// Months of 30 days.
    pub months: u32,
    /// Weeks of 7 days.
    pub weeks: u32,
    /// Days of 24 hours.
    pub days: u32,
    /// Hours.
    pub hours: u32,
    /// Minutes.
    pub minutes: u32,
}

/// Why a `maxRetentionPeriod` string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// The string is empty or blank.
    #[error("invalid duration \"\" in maxRetentionPeriod: empty, {EXAMPLE}")]
    Empty,
    /// A number or unit is missing or malformed.
    #[error("invalid duration {input:?} in maxRetentionPeriod: {EXAMPLE}")]
    Invalid {
        /// The rejected input.
        input: String,
    },
    /// The same unit appears twice.
    #[error(
        "invalid duration {input:?} in maxRetentionPeriod: unit {unit:?} given twice, {EXAMPLE}"
    )]
    DuplicateUnit {
        /// The rejected input.
        input: String,
        /// The repeated unit.
        unit: &'static str,
    },
    /// A count does not fit in 32 bits.
    #[error("invalid duration {input:?} in maxRetentionPeriod: number too large")]
    TooLarge {
        /// The rejected input.
        input: String,
    },
}

/// Units in canonical (printing) order with their length in minutes.
const UNITS: [(&str, u64); 6] = [
    ("y", 365 * 24 * 60),
    ("mo", 30 * 24 * 60),
    ("w", 7 * 24 * 60),
    ("d", 24 * 60),
    ("h", 60),
    ("m", 1),
];

impl RetentionPeriod {
    /// Parses "1y2mo3w4d5h6m"; units may come in any order but each at most once.
    pub fn parse(input: &str) -> Result<Self, PeriodError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(PeriodError::Empty);
        }
        let invalid = || PeriodError::Invalid {
            input: input.to_owned(),
        };
        let mut counts: [Option<u32>; 6] = [None; 6];
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(invalid());
            }
            let number: u32 = rest[..digits].parse().map_err(|_| PeriodError::TooLarge {
                input: input.to_owned(),
            })?;
            rest = &rest[digits..];
            // "mo" must be tried before "m": it is the only two-letter unit.
            let slot = if rest.starts_with("mo") {
                1
            } else {
                UNITS
                    .iter()
                    .position(|(unit, _)| unit.len() == 1 && rest.starts_with(unit))
                    .ok_or_else(invalid)?
            };
            rest = &rest[UNITS[slot].0.len()..];
            if counts[slot].replace(number).is_some() {
                return Err(PeriodError::DuplicateUnit {
                    input: input.to_owned(),
                    unit: UNITS[slot].0,
                });
            }
        }
        let [years, months, weeks, days, hours, minutes] = counts.map(Option::unwrap_or_default);
        Ok(RetentionPeriod {
            years,
            months,
            weeks,
            days,
            hours,
            minutes,
        })
    }

    /// Parses an optional API field: absent or blank means "no maximum".
    pub fn parse_optional(input: Option<&str>) -> Result<Option<Self>, PeriodError> {
        match input.map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => Self::parse(text).map(Some),
        }
    }

    fn counts(&self) -> [u32; 6] {
        [
            self.years,
            self.months,
            self.weeks,
            self.days,
            self.hours,
            self.minutes,
        ]
    }

    /// Total length in minutes, as KubeStash's `ToMinutes` (months 30 d, years 365 d).
    pub fn to_minutes(&self) -> u64 {
        self.counts()
            .iter()
            .zip(UNITS)
            .map(|(count, (_, per))| u64::from(*count) * per)
            .sum()
    }

    /// The span as a `chrono::Duration`; `None` if beyond chrono's range (~292 million years).
    pub fn to_chrono(&self) -> Option<chrono::Duration> {
        chrono::Duration::try_minutes(i64::try_from(self.to_minutes()).ok()?)
    }

    /// The retention cutoff `now - period`; `None` when it precedes every representable time.
    pub fn cutoff(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        now.checked_sub_signed(self.to_chrono()?)
    }
}

impl fmt::Display for RetentionPeriod {
    /// Canonical form: units in y, mo, w, d, h, m order, zero counts omitted, "0m" if all zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        for (count, (unit, _)) in self.counts().iter().zip(UNITS) {
            if *count > 0 {
                write!(f, "{count}{unit}")?;
                wrote = true;
            }
        }
        if !wrote {
            f.write_str("0m")?;
        }
        Ok(())
    }
}

impl FromStr for RetentionPeriod {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for RetentionPeriod {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for RetentionPeriod {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for RetentionPeriod {
    fn schema_name() -> Cow<'static, str> {
        "RetentionPeriod".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn minutes_table() {
        for (input, minutes) in [
            ("2mo", 2 * 30 * 24 * 60),
            ("30d", 30 * 24 * 60),
            ("1y", 365 * 24 * 60),
            ("12h", 720),
            ("30m", 30),
            ("30d12h30m", 30 * 1440 + 750),
            ("1y2mo3w4d5h6m", 525_600 + 86_400 + 30_240 + 5_760 + 300 + 6),
            ("6m1y", 525_606),
            (" 2w ", 20_160),
            ("0m", 0),
        ] {
            assert_eq!(
                RetentionPeriod::parse(input).unwrap().to_minutes(),
                minutes,
                "{input}"
            );
        }
    }

    #[test]
    fn errors_are_clear() {
        assert_eq!(
            RetentionPeriod::parse("1x").unwrap_err().to_string(),
            "invalid duration \"1x\" in maxRetentionPeriod: expected e.g. 1y2mo3w4d5h6m"
        );
        assert_eq!(
            RetentionPeriod::parse("1d2d").unwrap_err().to_string(),
            "invalid duration \"1d2d\" in maxRetentionPeriod: unit \"d\" given twice, expected e.g. 1y2mo3w4d5h6m"
        );
        for bad in [
            "",
            "  ",
            "d",
            "1",
            "-1d",
            "1.5d",
            "1D",
            "1 d",
            "99999999999d",
            "1mon",
        ] {
            assert!(RetentionPeriod::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(RetentionPeriod::parse_optional(Some(" ")), Ok(None));
        assert_eq!(RetentionPeriod::parse_optional(None), Ok(None));
    }

    #[test]
    fn display_is_canonical() {
        assert_eq!(
            RetentionPeriod::parse("6m5h4d3w2mo1y").unwrap().to_string(),
            "1y2mo3w4d5h6m"
        );
        assert_eq!(RetentionPeriod::default().to_string(), "0m");
        assert_eq!(RetentionPeriod::parse("0y2mo").unwrap().to_string(), "2mo");
    }

    #[test]
    fn cutoff_is_now_minus_period() {
        let now: DateTime<Utc> = "2026-11-20T12:00:00Z".parse().unwrap();
        let p = RetentionPeriod::parse("2mo").unwrap();
        assert_eq!(
            p.cutoff(now).unwrap(),
            "2026-09-21T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let huge = RetentionPeriod {
            years: u32::MAX,
            ..Default::default()
        };
        assert_eq!(huge.cutoff(now), None);
    }

    fn period() -> impl Strategy<Value = RetentionPeriod> {
        (
            0u32..50,
            0u32..50,
            0u32..50,
            0u32..400,
            0u32..100,
            0u32..100_000,
        )
            .prop_map(
                |(years, months, weeks, days, hours, minutes)| RetentionPeriod {
                    years,
                    months,
                    weeks,
                    days,
                    hours,
                    minutes,
                },
            )
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(p in period()) {
            prop_assert_eq!(RetentionPeriod::parse(&p.to_string()).unwrap(), p);
        }

        #[test]
        fn minutes_are_additive(a in period(), b in period()) {
            let sum = RetentionPeriod {
                years: a.years + b.years,
                months: a.months + b.months,
                weeks: a.weeks + b.weeks,
                days: a.days + b.days,
                hours: a.hours + b.hours,
                minutes: a.minutes + b.minutes,
            };
            prop_assert_eq!(sum.to_minutes(), a.to_minutes() + b.to_minutes());
        }

        #[test]
        fn parse_never_panics(s in "[0-9ymowdh -]{0,16}") {
            let _ = RetentionPeriod::parse(&s);
        }
    }
}
