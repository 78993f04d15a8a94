//! CronJob schedule checks as upstream's (`robfig/cron` `ParseStandard` plus the TZ rule).

/// The error of a schedule `robfig/cron` would refuse (its message), or None.
pub fn parse_error(schedule: &str) -> Option<String> {
    let s = schedule.trim();
    if s.is_empty() {
        return Some("empty spec string".into());
    }
    let mut spec = s;
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        match s.split_once(' ') {
            Some((_, rest)) => spec = rest.trim(),
            None => return Some("missing spec after timezone".into()),
        }
    }
    if let Some(d) = spec.strip_prefix('@') {
        if let Some(dur) = d.strip_prefix("every ") {
            return go_duration(dur.trim())
                .err()
                .map(|e| format!("failed to parse duration {spec}: {e}"));
        }
        return match d {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => None,
            _ => Some(format!("unrecognized descriptor: {spec}")),
        };
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Some(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    let bounds: [(u32, u32, &[&str]); 5] = [
        (0, 59, &[]),
        (0, 23, &[]),
        (1, 31, &[]),
        (
            1,
            12,
            &[
                "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
            ],
        ),
        (0, 6, &["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
    ];
    for (f, (min, max, names)) in fields.iter().zip(bounds) {
        for part in f.split(',') {
            if let Some(e) = range_error(part, min, max, names) {
                return Some(e);
            }
        }
    }
    None
}

fn value(s: &str, min: u32, names: &[&str]) -> Result<u32, String> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(i as u32 + min);
    }
    s.parse::<u32>().map_err(|_| {
        format!("failed to parse int from {s}: strconv.Atoi: parsing {s:?}: invalid syntax")
    })
}

fn range_error(part: &str, min: u32, max: u32, names: &[&str]) -> Option<String> {
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (part, None),
    };
    let (start, end) = if range == "*" || range == "?" {
        (min, max)
    } else {
        match range.split_once('-') {
            Some((a, b)) => match (value(a, min, names), value(b, min, names)) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => return Some(e),
            },
            None => match value(range, min, names) {
                Ok(v) => (v, v),
                Err(e) => return Some(e),
            },
        }
    };
    if let Some(st) = step {
        match st.parse::<u32>() {
            Ok(0) => return Some(format!("step of range should be a positive number: {part}")),
            Ok(_) => {}
            Err(_) => {
                return Some(format!(
                    "failed to parse int from {st}: strconv.Atoi: parsing {st:?}: invalid syntax"
                ))
            }
        }
    }
    if start < min {
        return Some(format!(
            "beginning of range ({start}) below minimum ({min}): {part}"
        ));
    }
    if end > max {
        return Some(format!(
            "end of range ({end}) above maximum ({max}): {part}"
        ));
    }
    if start > end {
        return Some(format!(
            "beginning of range ({start}) beyond end of range ({end}): {part}"
        ));
    }
    None
}

/// Go's `time.ParseDuration` acceptance (`1h30m`, `5s`, `100ms`).
pub fn go_duration(s: &str) -> Result<f64, String> {
    let bad = || format!("time: invalid duration {s:?}");
    if s.is_empty() {
        return Err(bad());
    }
    if s == "0" {
        return Ok(0.0);
    }
    let mut rest = s;
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("time: missing unit in duration {s:?}")),
            u => return Err(format!("time: unknown unit {u:?} in duration {s:?}")),
        };
        total += n * mult;
        rest = &rest[unit_end..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robfig_standard_schedules() {
        for ok in [
            "*/5 * * * *",
            "0 3 * * mon-fri",
            "@every 5s",
            "@every 1h30m",
            "@daily",
            "TZ=UTC 0 * * * *",
        ] {
            assert_eq!(parse_error(ok), None, "{ok}");
        }
        assert_eq!(
            parse_error("61 * * * *").as_deref(),
            Some("end of range (61) above maximum (59): 61")
        );
        assert_eq!(
            parse_error("* * *").as_deref(),
            Some("expected exactly 5 fields, found 3: [* * *]")
        );
        assert!(parse_error("@every 5").is_some_and(|e| e.contains("missing unit")));
    }
}
