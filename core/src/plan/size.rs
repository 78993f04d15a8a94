//! KubeStash size strings ("1.234 MiB", "512 B"): base-1024 units, three decimals.
//!
//! Mirrors `formatBytes`/`convertSizeToByte` in KubeStash's snapshot helpers, including
//! their quirks: thresholds are strict (exactly 1 MiB prints as "1024.000 KiB") and
//! parsing truncates to whole bytes.

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const TIB: u64 = 1 << 40;

/// Why a size string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// Not of the form `<number> <unit>`.
    #[error("invalid size {input:?}: expected \"<number> <unit>\", e.g. \"1.234 MiB\"")]
    Malformed {
        /// The rejected input.
        input: String,
    },
    /// The number is not a finite, non-negative decimal.
    #[error("invalid size {input:?}: {number:?} is not a non-negative number")]
    BadNumber {
        /// The rejected input.
        input: String,
        /// The rejected number.
        number: String,
    },
    /// The unit is not one of TiB, GiB, MiB, KiB, B.
    #[error("invalid size {input:?}: unknown unit {unit:?}, expected TiB, GiB, MiB, KiB or B")]
    UnknownUnit {
        /// The rejected input.
        input: String,
        /// The rejected unit.
        unit: String,
    },
}

/// Formats a byte count: `%.3f TiB|GiB|MiB|KiB` above each threshold, else `%d B`.
pub fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    // Strict `>` as in KubeStash (and restic): 1024 B stays "1024 B".
    match bytes {
        c if c > TIB => format!("{:.3} TiB", b / TIB as f64),
        c if c > GIB => format!("{:.3} GiB", b / GIB as f64),
        c if c > MIB => format!("{:.3} MiB", b / MIB as f64),
        c if c > KIB => format!("{:.3} KiB", b / KIB as f64),
        c => format!("{c} B"),
    }
}

/// Parses `"<number> <unit>"` into bytes, truncating fractions of a byte.
pub fn parse_size(input: &str) -> Result<u64, SizeError> {
    let (number, unit) = input.split_once(' ').ok_or_else(|| SizeError::Malformed {
        input: input.to_owned(),
    })?;
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| SizeError::BadNumber {
            input: input.to_owned(),
            number: number.to_owned(),
        })?;
    let per = match unit {
        "TiB" => TIB,
        "GiB" => GIB,
        "MiB" => MIB,
        "KiB" => KIB,
        "B" => 1,
        _ => {
            return Err(SizeError::UnknownUnit {
                input: input.to_owned(),
                unit: unit.to_owned(),
            })
        }
    };
    // `as` saturates at u64::MAX, matching the only sane reading of an absurd size.
    Ok((value * per as f64) as u64)
}

/// Sums size strings into one formatted size, as a Snapshot sums its components.
pub fn sum_sizes(sizes: &[&str]) -> Result<String, SizeError> {
    let total = sizes.iter().try_fold(0u64, |acc, s| {
        parse_size(s).map(|bytes| acc.saturating_add(bytes))
    })?;
    Ok(format_bytes(total))
}

/// `Snapshot.status.size` from component sizes: "" when there are no components or any
/// size is missing or invalid (KubeStash's `GetSize` reports unknown rather than partial).
pub fn snapshot_size(component_sizes: &[&str]) -> String {
    if component_sizes.is_empty() {
        return String::new();
    }
    sum_sizes(component_sizes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn format_table() {
        for (bytes, want) in [
            (0, "0 B"),
            (1024, "1024 B"),
            (1025, "1.001 KiB"),
            (1088, "1.062 KiB"), // exact tie 1.0625: round half to even, as Go's %.3f
            (MIB, "1024.000 KiB"),
            (1_526_726, "1.456 MiB"),
            (3_834_839, "3.657 MiB"),
            (5 * GIB + 1, "5.000 GiB"),
            (u64::MAX, "16777216.000 TiB"),
        ] {
            assert_eq!(format_bytes(bytes), want, "{bytes}");
        }
    }

    #[test]
    fn parse_table() {
        assert_eq!(parse_size("1.456 MiB"), Ok(1_526_726));
        assert_eq!(parse_size("512 B"), Ok(512));
        assert_eq!(parse_size("1 TiB"), Ok(TIB));
        assert_eq!(parse_size("0.5 B"), Ok(0));
        for bad in [
            "", "1MiB", "1 mib", "x MiB", "-1 MiB", "NaN B", "inf B", "1  MiB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_size("1 PB").unwrap_err().to_string(),
            "invalid size \"1 PB\": unknown unit \"PB\", expected TiB, GiB, MiB, KiB or B"
        );
    }

    #[test]
    fn snapshot_size_rule() {
        assert_eq!(sum_sizes(&["1.456 MiB", "512 B"]).unwrap(), "1.456 MiB");
        assert_eq!(sum_sizes(&[]).unwrap(), "0 B");
        assert_eq!(snapshot_size(&[]), "");
        assert_eq!(snapshot_size(&["1 KiB", ""]), "");
        assert_eq!(snapshot_size(&["1 KiB", "1 KiB"]), "2.000 KiB");
        assert_eq!(snapshot_size(&["512 B", "512 B"]), "1024 B");
    }

    proptest! {
        #[test]
        fn parse_of_format_is_close(bytes in any::<u64>()) {
            let back = parse_size(&format_bytes(bytes)).unwrap();
            // Three decimals of the printed unit: error at most half a thousandth of it.
            let unit = [TIB, GIB, MIB, KIB].into_iter().find(|u| bytes > *u).unwrap_or(1);
            let tolerance = unit as f64 / 2000.0 + 1.0;
            prop_assert!((back as f64 - bytes as f64).abs() <= tolerance * (1.0 + 1e-9),
                "{} -> {} -> {}", bytes, format_bytes(bytes), back);
        }

        #[test]
        fn small_sizes_are_exact(bytes in 0u64..=1024) {
            prop_assert_eq!(parse_size(&format_bytes(bytes)).unwrap(), bytes);
        }

        #[test]
        fn sum_is_order_independent(mut xs in proptest::collection::vec(0u64..(1 << 50), 0..6)) {
            let texts: Vec<String> = xs.iter().map(|b| format!("{b} B")).collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let forward = sum_sizes(&refs).unwrap();
            xs.reverse();
            let texts: Vec<String> = xs.iter().map(|b| format!("{b} B")).collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            prop_assert_eq!(&forward, &sum_sizes(&refs).unwrap());
            prop_assert_eq!(forward, format_bytes(xs.iter().sum()));
        }
    }
}
