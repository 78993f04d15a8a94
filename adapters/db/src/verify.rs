//! Post-restore verification: re-read each restored table with the dump's encoding and
//! compare its row count and checksum with the manifest.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::checksum::{range_checksum, RowDigest, TableChecksum};
use crate::chunk::read_key_ranges;
use crate::conn::{Conn, DbTarget, Result};
use crate::discover::integer_key;
use crate::manifest::TableEntry;
use crate::row_format::{qualified, KeyRange};

/// One restored table to verify: target database and the manifest entry.
#[derive(Debug, Clone)]
pub struct VerifyJob {
    /// Database the table was restored into.
    pub database: String,
    /// The table as recorded in the snapshot.
    pub table: Arc<TableEntry>,
}

/// Describes the difference between the snapshot and the restored table, if any.
pub fn compare(db: &str, table: &TableEntry, got: &TableChecksum) -> Option<String> {
    let got_sum = got.to_string();
    if got.rows == table.rows && got_sum == table.checksum {
        return None;
    }
    Some(format!(
        "{}: restored {} rows with checksum {}, the snapshot has {} rows with checksum {}",
        qualified(db, &table.name),
        got.rows,
        got_sum,
        table.rows,
        table.checksum
    ))
}

/// Verifies tables over up to `parallel` connections; returns the mismatch descriptions.
///
/// Big tables with an integer primary key are read in key ranges on every connection at
/// once (the checksum is a sum, so parts add up), so one large table does not leave the
/// other connections idle.
pub async fn verify_tables(
    target: &DbTarget,
    jobs: Vec<VerifyJob>,
    digest: RowDigest,
    parallel: usize,
) -> Result<Vec<String>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let parallel = parallel.max(1);
    let mut planner = target.connect().await?;
    let mut parts = Vec::new();
    for (index, job) in jobs.iter().enumerate() {
        for range in verify_ranges(&mut planner, job, parallel).await? {
            parts.push(Part { index, range });
        }
    }
    let _ = planner.disconnect().await;
    // Biggest tables first, so the last parts to finish are small ones.
    parts.sort_by_key(|p| std::cmp::Reverse(jobs[p.index].table.rows));
    let sums = Arc::new(Mutex::new(vec![TableChecksum::default(); jobs.len()]));
    let jobs = Arc::new(jobs);
    let workers = parallel.min(parts.len());
    let queue = Arc::new(Mutex::new(VecDeque::from(parts)));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (queue, sums, jobs, target) =
            (queue.clone(), sums.clone(), jobs.clone(), target.clone());
        set.spawn(async move {
            let mut conn = target.connect().await?;
            loop {
                let part = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some(part) = part else { break };
                let job = &jobs[part.index];
                let range = part.range.as_ref();
                let got =
                    range_checksum(&mut conn, &job.database, &job.table, range, digest).await?;
                sums.lock().unwrap_or_else(|p| p.into_inner())[part.index].merge(got);
            }
            let _ = conn.disconnect().await;
            Ok::<_, crate::conn::Error>(())
        });
    }
    let mut first_err = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(e) => {
                first_err.get_or_insert(crate::conn::Error::Unexpected {
                    what: "verifying restored tables".into(),
                    detail: format!("a verification task failed: {e}"),
                });
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let sums = sums.lock().unwrap_or_else(|p| p.into_inner());
    let mut all: Vec<String> = jobs
        .iter()
        .zip(sums.iter())
        .filter_map(|(job, got)| compare(&job.database, &job.table, got))
        .collect();
    all.sort();
    Ok(all)
}

/// One read of a verification: a table, or a key range of it.
struct Part {
    index: usize,
    range: Option<KeyRange>,
}

/// Rows below which a table is verified in one read.
const SPLIT_ROWS: u64 = 200_000;

/// Key ranges to read `job`'s table in: a few per connection for big integer-keyed tables.
async fn verify_ranges(
    conn: &mut Conn,
    job: &VerifyJob,
    parallel: usize,
) -> Result<Vec<Option<KeyRange>>> {
    let table = &job.table;
    if table.rows <= SPLIT_ROWS || parallel < 2 {
        return Ok(vec![None]);
    }
    let per_part = table.rows.div_ceil(parallel as u64 * 4).max(SPLIT_ROWS / 4);
    let key = integer_key(&table.primary_key, &table.columns);
    Ok(read_key_ranges(
        conn,
        &job.database,
        &table.name,
        key,
        table.rows,
        per_part,
        None,
    )
    .await?
    .ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_row_and_checksum_differences() {
        let mut sum = TableChecksum::default();
        sum.add_line(RowDigest::Xxh3, b"1\ta");
        let table = TableEntry {
            name: "t".into(),
            schema_path: String::new(),
            columns: vec![],
            rows: 1,
            checksum: sum.to_string(),
            chunks: vec![],
            primary_key: vec![],
            engine: String::new(),
            key_step: None,
        };
        assert_eq!(compare("d", &table, &sum), None);
        let mut other = TableChecksum::default();
        other.add_line(RowDigest::Xxh3, b"1\tb");
        let msg = compare("d", &table, &other).unwrap();
        assert!(msg.starts_with("`d`.`t`: restored 1 rows"), "{msg}");
        other.add_line(RowDigest::Xxh3, b"2\tb");
        assert!(compare("d", &table, &other)
            .unwrap()
            .contains("restored 2 rows"));
    }
}
