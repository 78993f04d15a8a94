//! Post-restore verification: re-read each restored table with the dump's encoding and
//! compare its row count and checksum with the manifest.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::checksum::{table_checksum, TableChecksum};
use crate::conn::{DbTarget, Result};
use crate::manifest::TableEntry;
use crate::row_format::qualified;

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
pub async fn verify_tables(
    target: &DbTarget,
    jobs: Vec<VerifyJob>,
    parallel: usize,
) -> Result<Vec<String>> {
    let workers = parallel.max(1).min(jobs.len());
    let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let queue = queue.clone();
        let target = target.clone();
        set.spawn(async move {
            let mut conn = target.connect().await?;
            let mut mismatches = Vec::new();
            loop {
                let job = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some(job) = job else { break };
                let got = table_checksum(&mut conn, &job.database, &job.table).await?;
                mismatches.extend(compare(&job.database, &job.table, &got));
            }
            let _ = conn.disconnect().await;
            Ok::<_, crate::conn::Error>(mismatches)
        });
    }
    let mut all = Vec::new();
    let mut first_err = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(m)) => all.extend(m),
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
    all.sort();
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_row_and_checksum_differences() {
        let mut sum = TableChecksum::default();
        sum.add_line(b"1\ta");
        let table = TableEntry {
            name: "t".into(),
            schema_path: String::new(),
            columns: vec![],
            rows: 1,
            checksum: sum.to_string(),
            chunks: vec![],
            primary_key: vec![],
            engine: String::new(),
        };
        assert_eq!(compare("d", &table, &sum), None);
        let mut other = TableChecksum::default();
        other.add_line(b"1\tb");
        let msg = compare("d", &table, &other).unwrap();
        assert!(msg.starts_with("`d`.`t`: restored 1 rows"), "{msg}");
        other.add_line(b"2\tb");
        assert!(compare("d", &table, &other)
            .unwrap()
            .contains("restored 2 rows"));
    }
}
