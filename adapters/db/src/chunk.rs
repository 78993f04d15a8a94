//! Splitting big tables into primary-key ranges, one data file each.
//!
//! Only a single-column integer primary key is split: ranges come from MIN/MAX read
//! inside the snapshot. The first range is open below and the last open above, so rows
//! outside the observed bounds are never lost.

use mysql_async::prelude::Queryable;

use crate::conn::{Conn, Error, Result};
use crate::row_format::{qualified, quote_ident, KeyRange};

/// Upper bound on chunks per table (keeps the snapshot tree small).
pub const MAX_CHUNKS: u64 = 10_000;

/// The ranges of one table and the key step between their boundaries (`None`: one file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangePlan {
    /// The ranges; a single `None` means "whole table, one file".
    pub ranges: Vec<Option<KeyRange>>,
    /// The power-of-two step the boundaries are multiples of.
    pub step: Option<i128>,
}

/// Plans the ranges of one table.
///
/// Boundaries are multiples of a power-of-two step, so they stay put from one backup to
/// the next while rows are added, removed or re-estimated: unchanged key ranges give
/// byte-identical data files, which the repository stores only once. The step follows
/// the server's size estimate, which moves by several per cent after updates; near a
/// power of two that alone would halve or double every range, so the `previous` step
/// (from the last snapshot) is kept while ranges stay between half and four times the
/// wanted size (the step alone rounds up to twice).
pub fn plan_ranges(
    key: Option<&str>,
    bounds: Option<(i128, i128)>,
    rows_estimate: u64,
    chunk_rows: u64,
    previous: Option<i128>,
) -> RangePlan {
    let whole = RangePlan {
        ranges: vec![None],
        step: None,
    };
    let (Some(column), Some((min, max))) = (key, bounds) else {
        return whole;
    };
    if chunk_rows == 0 || rows_estimate <= chunk_rows || max <= min {
        return whole;
    }
    let wanted = rows_estimate.div_ceil(chunk_rows).min(MAX_CHUNKS) as i128;
    let span = max - min + 1;
    let raw = span.div_euclid(wanted).max(1);
    let step = match previous {
        Some(p) if p > 0 && p.count_ones() == 1 && p >= raw / 2 && p < raw.saturating_mul(4) => p,
        _ => aligned_step(raw),
    };
    // Every multiple of `step` strictly inside (min, max] starts a new range.
    let first = (min.div_euclid(step) + 1) * step;
    let mut cuts = Vec::new();
    let mut cut = first;
    while cut <= max && (cuts.len() as u64) < MAX_CHUNKS - 1 {
        cuts.push(cut);
        cut += step;
    }
    if cuts.is_empty() {
        return whole;
    }
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut lower = None;
    for &c in &cuts {
        out.push(Some(KeyRange {
            column: column.to_string(),
            lower,
            upper: Some(c),
        }));
        lower = Some(c);
    }
    out.push(Some(KeyRange {
        column: column.to_string(),
        lower,
        upper: None,
    }));
    RangePlan {
        ranges: out,
        step: Some(step),
    }
}

/// The smallest power of two at least `raw` (capped so multiples stay in range).
fn aligned_step(raw: i128) -> i128 {
    let raw = raw.clamp(1, 1 << 100);
    let mut step = 1i128;
    while step < raw {
        step <<= 1;
    }
    step
}

/// MIN and MAX of a key column as text-protocol bytes.
type MinMax = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Ranges of about `chunk_rows` rows of `db.table` on its integer key, from the key's
/// MIN/MAX read on `conn`; one whole-table range when there is no such key or the table
/// is not bigger than one range (then nothing is queried).
pub async fn read_key_ranges(
    conn: &mut Conn,
    db: &str,
    table: &str,
    key: Option<&str>,
    rows: u64,
    chunk_rows: u64,
    previous: Option<i128>,
) -> Result<RangePlan> {
    let Some(key) = key.filter(|_| chunk_rows > 0 && rows > chunk_rows) else {
        return Ok(RangePlan {
            ranges: vec![None],
            step: None,
        });
    };
    let sql = format!(
        "SELECT MIN({0}), MAX({0}) FROM {1}",
        quote_ident(key),
        qualified(db, table)
    );
    let row: Option<MinMax> = conn
        .query_first(&sql)
        .await
        .map_err(|e| Error::query(sql.clone(), e))?;
    let bounds =
        row.and_then(|(lo, hi)| Some((parse_bound(lo.as_deref())?, parse_bound(hi.as_deref())?)));
    Ok(plan_ranges(Some(key), bounds, rows, chunk_rows, previous))
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

    fn plan(
        key: Option<&str>,
        bounds: Option<(i128, i128)>,
        est: u64,
        per: u64,
    ) -> Vec<Option<KeyRange>> {
        plan_ranges(key, bounds, est, per, None).ranges
    }

    #[test]
    fn the_previous_step_is_kept_while_the_estimate_wobbles_around_a_power_of_two() {
        // 1 000 000 keys, 15 ranges wanted: raw step 66 666 -> 131 072. Seven per cent more
        // estimated rows want 16: raw 62 500 -> 65 536, which would halve every range.
        let first = plan_ranges(Some("id"), Some((1, 1_000_000)), 1_500_000, 100_000, None);
        assert_eq!(first.step, Some(131_072));
        let grown = plan_ranges(Some("id"), Some((1, 1_000_000)), 1_600_000, 100_000, None);
        assert_eq!(grown.step, Some(65_536), "without memory the step halves");
        let kept = plan_ranges(
            Some("id"),
            Some((1, 1_000_000)),
            1_600_000,
            100_000,
            first.step,
        );
        assert_eq!(kept.step, Some(131_072));
        assert_eq!(kept.ranges, first.ranges);
    }

    #[test]
    fn a_previous_step_far_from_the_wanted_size_is_dropped() {
        let plan_with = |previous| {
            plan_ranges(
                Some("id"),
                Some((1, 1_000_000)),
                1_500_000,
                100_000,
                Some(previous),
            )
            .step
        };
        assert_eq!(plan_with(1 << 10), Some(131_072), "ranges far too small");
        assert_eq!(plan_with(1 << 20), Some(131_072), "ranges far too large");
        assert_eq!(plan_with(100_000), Some(131_072), "not a power of two");
        assert_eq!(plan_with(1 << 16), Some(65_536), "half the size: kept");
    }

    #[test]
    fn small_or_keyless_tables_are_one_chunk() {
        assert_eq!(plan(None, Some((1, 100)), 1_000_000, 10), vec![None]);
        assert_eq!(plan(Some("id"), Some((1, 100)), 5, 10), vec![None]);
        assert_eq!(plan(Some("id"), None, 1000, 10), vec![None]);
    }

    #[test]
    fn splits_at_aligned_boundaries() {
        let r = plan(Some("id"), Some((1, 100)), 100, 25);
        assert_eq!(r.len(), 4);
        let r: Vec<_> = r.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!((r[0].lower, r[0].upper), (None, Some(32)));
        assert_eq!((r[1].lower, r[1].upper), (Some(32), Some(64)));
        assert_eq!((r[3].lower, r[3].upper), (Some(96), None));
        assert_eq!(parse_bound(Some(b"-42")), Some(-42));
        assert_eq!(
            parse_bound(Some(b"18446744073709551615")),
            Some(u64::MAX as i128)
        );
    }

    #[test]
    fn boundaries_survive_appends_and_new_estimates() {
        let before = plan(Some("id"), Some((1, 1_000_000)), 1_000_000, 100_000);
        let after = plan(Some("id"), Some((1, 1_040_000)), 1_030_000, 100_000);
        // Every boundary of the first plan is still a boundary of the second.
        let cuts = |rs: &[Option<KeyRange>]| -> Vec<i128> {
            rs.iter()
                .filter_map(|r| r.as_ref().and_then(|r| r.upper))
                .collect()
        };
        let (b, a) = (cuts(&before), cuts(&after));
        assert!(b.iter().all(|c| a.contains(c)), "{b:?} vs {a:?}");
        assert!((8..=20).contains(&before.len()), "{}", before.len());
    }

    proptest! {
        #[test]
        fn ranges_partition_every_key(min in -1_000_000i128..1_000_000, len in 0i128..100_000, est in 0u64..1_000_000, per in 1u64..50_000, probe in -2_000_000i128..2_000_000, prev_exp in 0u32..24) {
            let previous = (prev_exp > 0).then(|| 1i128 << prev_exp);
            let ranges = plan_ranges(Some("id"), Some((min, min + len)), est, per, previous).ranges;
            prop_assert!(!ranges.is_empty());
            let hits = ranges.iter().filter(|r| match r { None => true, Some(r) => contains(r, probe) }).count();
            prop_assert_eq!(hits, 1);
            prop_assert!(ranges.len() as u64 <= MAX_CHUNKS);
        }

        #[test]
        fn ranges_are_ordered_and_not_empty(min in -1_000_000i128..1_000_000, len in 0i128..100_000, est in 0u64..1_000_000, per in 1u64..50_000) {
            let ranges = plan(Some("id"), Some((min, min + len)), est, per);
            for r in ranges.iter().flatten() {
                if let (Some(l), Some(u)) = (r.lower, r.upper) {
                    prop_assert!(l < u);
                }
            }
        }
    }
}
