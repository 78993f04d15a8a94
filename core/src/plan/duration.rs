//! Go `time.Duration` strings as used by Kubernetes `metav1.Duration`.
//!
//! KubeStash stores `retryConfig.delay`, `backupTimeout`, hook timeouts and
//! `status.duration` in this form ("30s", "1h30m0s", "7.472499073s"), so Cairn parses
//! exactly what Go's `time.ParseDuration` accepts and prints what `Duration.String()` prints.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

const NANOS_PER_MICRO: u64 = 1_000;
const NANOS_PER_MILLI: u64 = 1_000_000;
const NANOS_PER_SECOND: u64 = 1_000_000_000;
const NANOS_PER_MINUTE: u64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: u64 = 60 * NANOS_PER_MINUTE;

/// A signed nanosecond count that reads and writes Go duration syntax.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration {
    nanos: i64,
}

/// Why a Go duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The string is empty or only a sign.
    #[error("invalid duration {input:?}: empty, expected e.g. 30s, 2m, 1h30m, 1.5h, 300ms")]
    Empty {
        /// The rejected input.
        input: String,
    },
    /// A number was expected but something else was found.
    #[error("invalid duration {input:?}: expected a number at byte {at}, e.g. 30s, 1h30m")]
    ExpectedNumber {
        /// The rejected input.
        input: String,
        /// Byte offset of the problem.
        at: usize,
    },
    /// A number had no unit after it.
    #[error("invalid duration {input:?}: missing unit, expected one of ns, us, µs, ms, s, m, h")]
    MissingUnit {
        /// The rejected input.
        input: String,
    },
    /// A unit was not one of Go's.
    #[error("invalid duration {input:?}: unknown unit {unit:?}, expected one of ns, us, µs, ms, s, m, h")]
    UnknownUnit {
        /// The rejected input.
        input: String,
        /// The unknown unit.
        unit: String,
    },
    /// The value does not fit in a signed 64-bit nanosecond count (about 292 years).
    #[error("invalid duration {input:?}: out of range (max 2562047h47m16.854775807s)")]
    Overflow {
        /// The rejected input.
        input: String,
    },
}

impl GoDuration {
    /// The zero duration, printed "0s".
    pub const ZERO: GoDuration = GoDuration { nanos: 0 };

    /// A duration of `nanos` nanoseconds.
    pub const fn from_nanos(nanos: i64) -> Self {
        GoDuration { nanos }
    }

    /// A duration of whole seconds, saturating at the i64 nanosecond range.
    pub const fn from_secs(secs: i64) -> Self {
        GoDuration {
            nanos: secs.saturating_mul(NANOS_PER_SECOND as i64),
        }
    }

    /// The signed nanosecond count.
    pub const fn as_nanos(self) -> i64 {
        self.nanos
    }

    /// Whether the duration is negative.
    pub const fn is_negative(self) -> bool {
        self.nanos < 0
    }

    /// The same span as a `chrono::Duration` (always representable).
    pub fn to_chrono(self) -> chrono::Duration {
        chrono::Duration::nanoseconds(self.nanos)
    }

    /// Converts a `chrono::Duration`; `None` when it exceeds the i64 nanosecond range.
    pub fn from_chrono(d: chrono::Duration) -> Option<Self> {
        d.num_nanoseconds().map(Self::from_nanos)
    }

    /// The duration as `std::time::Duration`; `None` when negative.
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.nanos)
            .ok()
            .map(std::time::Duration::from_nanos)
    }

    /// Rounds to the nearest multiple of `m`, halves away from zero, saturating (Go's
    /// `Duration.Round`); `m <= 0` returns the duration unchanged.
    pub fn round(self, m: GoDuration) -> GoDuration {
        if m.nanos <= 0 {
            return self;
        }
        let (d, m) = (i128::from(self.nanos), i128::from(m.nanos));
        let r = d % m;
        let rounded = if r.abs() * 2 < m {
            d - r
        } else if d >= 0 {
            d - r + m
        } else {
            d - r - m
        };
        let clamped = rounded.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
        GoDuration::from_nanos(i64::try_from(clamped).unwrap_or(i64::MAX))
    }

    /// Parses Go syntax: `[-+]?([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+` or `0`.
    pub fn parse(input: &str) -> Result<Self, DurationError> {
        parse_go(input)
    }
}

impl fmt::Display for GoDuration {
    /// Formats like Go's `Duration.String()`: "1h30m0s", "1.5s", "300ms", "0s".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_go(self.nanos))
    }
}

impl FromStr for GoDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_go(s)
    }
}

impl serde::Serialize for GoDuration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for GoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(deserializer)?;
        parse_go(&s).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for GoDuration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // metav1.Duration is a plain string in every Kubernetes CRD schema.
        schemars::json_schema!({ "type": "string" })
    }
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => NANOS_PER_MICRO,
        "ms" => NANOS_PER_MILLI,
        "s" => NANOS_PER_SECOND,
        "m" => NANOS_PER_MINUTE,
        "h" => NANOS_PER_HOUR,
        _ => return None,
    })
}

fn parse_go(input: &str) -> Result<GoDuration, DurationError> {
    let overflow = || DurationError::Overflow {
        input: input.to_owned(),
    };
    let (neg, body) = match input.as_bytes().first() {
        Some(b'-') => (true, &input[1..]),
        Some(b'+') => (false, &input[1..]),
        _ => (false, input),
    };
    if body == "0" {
        return Ok(GoDuration::ZERO);
    }
    if body.is_empty() {
        return Err(DurationError::Empty {
            input: input.to_owned(),
        });
    }
    // Accumulate the magnitude unsigned so that -2^63 ns parses, as in Go.
    let limit: u64 = if neg { 1 << 63 } else { i64::MAX as u64 };
    let mut total: u64 = 0;
    let mut rest = body;
    while !rest.is_empty() {
        let at = input.len() - rest.len();
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &after_dot[..frac_len];
            rest = &after_dot[frac_len..];
        } else if int_len == 0 {
            return Err(DurationError::ExpectedNumber {
                input: input.to_owned(),
                at,
            });
        }
        if int_part.is_empty() && frac_part.is_empty() {
            // A lone "." is not a number.
            return Err(DurationError::ExpectedNumber {
                input: input.to_owned(),
                at,
            });
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        if unit.is_empty() {
            return Err(DurationError::MissingUnit {
                input: input.to_owned(),
            });
        }
        let per_unit = unit_nanos(unit).ok_or_else(|| DurationError::UnknownUnit {
            input: input.to_owned(),
            unit: unit.to_owned(),
        })?;
        let whole = digits_value(int_part).ok_or_else(overflow)?;
        let mut nanos = whole.checked_mul(per_unit).ok_or_else(overflow)?;
        nanos = nanos
            .checked_add(fraction_nanos(frac_part, per_unit))
            .ok_or_else(overflow)?;
        total = total.checked_add(nanos).ok_or_else(overflow)?;
        if total > limit {
            return Err(overflow());
        }
    }
    let nanos = if neg {
        // total <= 2^63, so the wrapping negation is exact.
        (total as i64).wrapping_neg()
    } else {
        total as i64
    };
    Ok(GoDuration { nanos })
}

/// Value of a digit string; `None` on overflow. The empty string is 0 (".5s" is valid).
fn digits_value(digits: &str) -> Option<u64> {
    digits.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// Nanoseconds contributed by a fractional part, truncated; digits beyond ns precision
/// are ignored (Go drops them too).
fn fraction_nanos(frac: &str, per_unit: u64) -> u64 {
    let mut numerator: u128 = 0;
    let mut scale: u128 = 1;
    for b in frac.bytes() {
        // 10^19 already exceeds any unit's ns count; further digits cannot matter.
        if scale >= 10_000_000_000_000_000_000 {
            break;
        }
        numerator = numerator * 10 + u128::from(b - b'0');
        scale *= 10;
    }
    (numerator * u128::from(per_unit) / scale) as u64
}

fn format_go(nanos: i64) -> String {
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < NANOS_PER_SECOND {
        // Sub-second values use the largest unit that keeps an integer part: 1.2ms, 300ns.
        let (scale, unit) = match u {
            0 => return "0s".to_owned(),
            1..NANOS_PER_MICRO => (1, "ns"),
            NANOS_PER_MICRO..NANOS_PER_MILLI => (NANOS_PER_MICRO, "µs"),
            _ => (NANOS_PER_MILLI, "ms"),
        };
        push_decimal(&mut out, u / scale, u % scale, scale);
        out.push_str(unit);
    } else {
        let hours = u / NANOS_PER_HOUR;
        let minutes = (u / NANOS_PER_MINUTE) % 60;
        let secs = (u / NANOS_PER_SECOND) % 60;
        if hours > 0 {
            out.push_str(&format!("{hours}h"));
        }
        if hours > 0 || minutes > 0 {
            out.push_str(&format!("{minutes}m"));
        }
        push_decimal(&mut out, secs, u % NANOS_PER_SECOND, NANOS_PER_SECOND);
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// Writes `int.frac` with `frac` in units of `1/scale`, trailing zeros (and a bare `.`) removed.
fn push_decimal(out: &mut String, int: u64, frac: u64, scale: u64) {
    out.push_str(&int.to_string());
    if frac == 0 {
        return;
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    out.push('.');
    out.push_str(digits.trim_end_matches('0'));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> i64 {
        GoDuration::parse(s).unwrap().as_nanos()
    }

    #[test]
    fn parse_table() {
        let s = 1_000_000_000i64;
        for (input, want) in [
            ("0", 0),
            ("-0", 0),
            ("+0", 0),
            ("0s", 0),
            ("30s", 30 * s),
            ("2m", 120 * s),
            ("1h30m", 5400 * s),
            ("1.5h", 5400 * s),
            ("300ms", 300_000_000),
            ("7.472499073s", 7_472_499_073),
            ("1µs", 1_000),
            ("1μs", 1_000),
            ("1us", 1_000),
            ("10ns", 10),
            (".5s", 500_000_000),
            ("5.s", 5 * s),
            ("-1.5m", -90 * s),
            ("1h1h", 7200 * s),
            ("2562047h47m16.854775807s", i64::MAX),
            ("-2562047h47m16.854775808s", i64::MIN),
            ("0.5h", 1800 * s),
            ("1.000000000000000000001s", s),
        ] {
            assert_eq!(d(input), want, "{input}");
        }
    }

    #[test]
    fn parse_errors() {
        for input in [
            "",
            "-",
            "1",
            "s",
            ".s",
            "1x",
            "1.2.3s",
            "2562047h47m16.854775808s",
            " 1s",
        ] {
            assert!(GoDuration::parse(input).is_err(), "{input}");
        }
        assert_eq!(
            GoDuration::parse("1x").unwrap_err().to_string(),
            "invalid duration \"1x\": unknown unit \"x\", expected one of ns, us, µs, ms, s, m, h"
        );
    }

    #[test]
    fn format_table() {
        for (nanos, want) in [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (300_000_000, "300ms"),
            (7_472_499_073, "7.472499073s"),
            (90_000_000_000, "1m30s"),
            (5_400_000_000_000, "1h30m0s"),
            (3_600_000_000_000, "1h0m0s"),
            (-1_500_000_000, "-1.5s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(GoDuration::from_nanos(nanos).to_string(), want);
        }
    }

    #[test]
    fn round_like_go() {
        let sec = GoDuration::from_secs(1);
        assert_eq!(
            GoDuration::from_nanos(7_472_499_073).round(sec).to_string(),
            "7s"
        );
        assert_eq!(
            GoDuration::from_nanos(1_500_000_000).round(sec).to_string(),
            "2s"
        );
        assert_eq!(
            GoDuration::from_nanos(-1_500_000_000)
                .round(sec)
                .to_string(),
            "-2s"
        );
        assert_eq!(
            GoDuration::from_nanos(i64::MAX).round(sec).as_nanos(),
            i64::MAX
        );
        assert_eq!(
            GoDuration::from_nanos(5).round(GoDuration::ZERO).as_nanos(),
            5
        );
    }

    #[test]
    fn serde_as_string() {
        let v: GoDuration = serde_json::from_str("\"1h30m\"").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"1h30m0s\"");
        assert!(serde_json::from_str::<GoDuration>("\"soon\"").is_err());
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(nanos in any::<i64>()) {
            let text = GoDuration::from_nanos(nanos).to_string();
            prop_assert_eq!(GoDuration::parse(&text).unwrap().as_nanos(), nanos);
        }

        #[test]
        fn components_add_up(h in 0i64..10_000, m in 0i64..600, sec in 0i64..600, ms in 0i64..10_000) {
            let text = format!("{h}h{m}m{sec}s{ms}ms");
            let want = ((h * 60 + m) * 60 + sec) * 1_000_000_000 + ms * 1_000_000;
            prop_assert_eq!(d(&text), want);
        }

        #[test]
        fn parse_never_panics(s in "[-+0-9.a-zµ]{0,20}") {
            let _ = GoDuration::parse(&s);
        }
    }
}
