//! Splitting big tables into primary-key ranges, one data file each.
//!
//! Only a single-column integer primary key is split: ranges come from MIN/MAX read
//! inside the snapshot. The first range is open below and the last open above, so rows
//! outside the observed bounds are never lost.

use crate::row_format::KeyRange;

/// Upper bound on chunks per table (keeps the snapshot tree small).
pub const MAX_CHUNKS: u64 = 10_000;

/// Plans the ranges of one table; a single `None` means "whole table, one file".
pub fn plan_ranges(
    key: Option<&str>,
    bounds: Option<(i128, i128)>,
    rows_estimate: u64,
    chunk_rows: u64,
) -> Vec<Option<KeyRange>> {
    let (Some(column), Some((min, max))) = (key, bounds) else {
        return vec![None];
    };
    if chunk_rows == 0 || rows_estimate <= chunk_rows || max <= min {
        return vec![None];
    }
    let wanted = rows_estimate.div_ceil(chunk_rows).min(MAX_CHUNKS) as i128;
    let span = max - min + 1;
    let chunks = wanted.min(span);
    let step = (span + chunks - 1) / chunks;
    let mut out = Vec::with_capacity(chunks as usize);
    for i in 0..chunks {
        let lower = (i > 0).then(|| min + i * step);
        let upper = (i + 1 < chunks).then(|| min + (i + 1) * step);
        if let (Some(l), Some(u)) = (lower, upper) {
            if l >= u {
                continue;
            }
        }
        out.push(Some(KeyRange {
            column: column.to_string(),
            lower,
            upper,
        }));
    }
    out
}

/// Parses a MIN/MAX result cell (text protocol bytes) as an integer.
pub fn parse_bound(cell: Option<&[u8]>) -> Option<i128> {
    std::str::from_utf8(cell?).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn contains(r: &KeyRange, v: i128) -> bool {
        r.lower.is_none_or(|l| v >= l) && r.upper.is_none_or(|u| v < u)
    }

    #[test]
    fn small_or_keyless_tables_are_one_chunk() {
        assert_eq!(plan_ranges(None, Some((1, 100)), 1_000_000, 10), vec![None]);
        assert_eq!(plan_ranges(Some("id"), Some((1, 100)), 5, 10), vec![None]);
        assert_eq!(plan_ranges(Some("id"), None, 1000, 10), vec![None]);
    }

    #[test]
    fn splits_evenly() {
        let r = plan_ranges(Some("id"), Some((1, 100)), 100, 25);
        assert_eq!(r.len(), 4);
        let r: Vec<_> = r.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!((r[0].lower, r[0].upper), (None, Some(26)));
        assert_eq!((r[3].lower, r[3].upper), (Some(76), None));
        assert_eq!(parse_bound(Some(b"-42")), Some(-42));
        assert_eq!(
            parse_bound(Some(b"18446744073709551615")),
            Some(u64::MAX as i128)
        );
    }

    proptest! {
        #[test]
        fn ranges_partition_every_key(min in -1_000_000i128..1_000_000, len in 0i128..100_000, est in 0u64..1_000_000, per in 1u64..50_000, probe in -2_000_000i128..2_000_000) {
            let ranges = plan_ranges(Some("id"), Some((min, min + len)), est, per);
            prop_assert!(!ranges.is_empty());
            let hits = ranges.iter().filter(|r| match r { None => true, Some(r) => contains(r, probe) }).count();
            prop_assert_eq!(hits, 1);
        }
    }
}
