//! Conversions between Cairn's snapshot types and rustic_core's `SnapshotFile` (jiff times).

use chrono::{DateTime, Utc};
use rustic_core::jiff::{tz::TimeZone, Timestamp, Zoned};
use rustic_core::repofile::{SnapshotFile, StringList};
use rustic_core::SnapshotOptions;

use crate::error::{rustic, Error, Result};
use crate::reports::{SnapshotInfo, SnapshotMeta};

/// A rustic snapshot skeleton (host, label, tags, time) for `archive` to fill.
pub(crate) fn snapshot_file(meta: &SnapshotMeta, time: Option<Timestamp>) -> Result<SnapshotFile> {
    let opts = SnapshotOptions::default()
        .host(Some(meta.hostname.clone()))
        .label(meta.label.clone())
        .description(meta.description.clone())
        .time(time.map(|t| t.to_zoned(TimeZone::UTC)))
        .command(Some("cairn backup".to_owned()));
    let mut snap = opts
        .to_snapshot()
        .map_err(rustic("prepare snapshot", "-"))?;
    let mut tags = StringList::default();
    for t in &meta.tags {
        if t.contains(',') || t.is_empty() {
            return Err(Error::InvalidEntry {
                path: t.clone(),
                reason: "tags must be non-empty and contain no ','".into(),
            });
        }
        tags.add(t.clone());
    }
    let _ = snap.set_tags(vec![tags]);
    snap.program_version = format!("cairn {}", env!("CARGO_PKG_VERSION"));
    Ok(snap)
}

/// Cairn's view of a stored snapshot.
pub(crate) fn snapshot_info(s: &SnapshotFile) -> SnapshotInfo {
    let id = s.id.to_hex().as_str().to_owned();
    SnapshotInfo {
        short_id: id[..8].to_owned(),
        id,
        time: to_chrono(&s.time),
        hostname: s.hostname.clone(),
        paths: s.paths.iter().cloned().collect(),
        tags: s.tags.iter().cloned().collect(),
        label: s.label.clone(),
        description: s.description.clone(),
        total_bytes: s.summary.as_ref().map(|x| x.total_bytes_processed),
        bytes_added: s.summary.as_ref().map(|x| x.data_added_packed),
        files: s.summary.as_ref().map(|x| x.total_files_processed),
    }
}

/// chrono time to jiff (rustic's time type).
pub(crate) fn to_timestamp(t: DateTime<Utc>) -> Timestamp {
    Timestamp::new(
        t.timestamp(),
        i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    )
    .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// jiff time back to chrono UTC.
pub(crate) fn to_chrono(z: &Zoned) -> DateTime<Utc> {
    let ts = z.timestamp();
    DateTime::from_timestamp(
        ts.as_second(),
        u32::try_from(ts.subsec_nanosecond()).unwrap_or(0),
    )
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn chrono_jiff_round_trip(secs in 0i64..4_102_444_800, nanos in 0u32..1_000_000_000) {
            let t = DateTime::from_timestamp(secs, nanos).unwrap();
            prop_assert_eq!(to_chrono(&to_timestamp(t).to_zoned(TimeZone::UTC)), t);
        }
    }

    #[test]
    fn snapshot_carries_meta_and_rejects_bad_tags() {
        let meta = SnapshotMeta {
            hostname: "h".into(),
            tags: vec!["a".into(), "b".into()],
            label: Some("l".into()),
            ..Default::default()
        };
        let snap = snapshot_file(&meta, None).unwrap();
        let info = snapshot_info(&snap);
        assert_eq!((info.hostname.as_str(), info.label.as_str()), ("h", "l"));
        assert_eq!(info.tags, ["a", "b"]);
        let bad = SnapshotMeta {
            tags: vec!["a,b".into()],
            ..meta
        };
        assert!(snapshot_file(&bad, None).is_err());
    }
}
