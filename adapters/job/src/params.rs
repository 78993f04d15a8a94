//! Task parameters, read back from the resolved Function args of a task
//! (`--databases=${databases:=}`, `--<db>-args=${args:=}`): the core resolves
//! `params` into args exactly as KubeStash does, so the executor reads the same args a
//! KubeStash executor would.
//!
//! `args` (extra dump/load options) understood by Cairn: `--format=sql|native`,
//! `--parallel=N`, `--chunk-rows=N`, `--no-lock`, `--tables=a,b`, `--drop-existing`,
//! `--one-database=DB` (the mysql client's, as KubeDB restore docs use it). Other
//! options (mysqldump flags such as `--set-gtid-purged=OFF`) are ignored with a warning,
//! so existing KubeDB manifests keep working.

use cairn_core::job::TaskRun;

/// Snapshot layout of a backup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DumpFormat {
    /// Cairn's parallel native format.
    #[default]
    Native,
    /// One `/dumpfile.sql` in mysqldump syntax (KubeStash-compatible).
    Sql,
}

/// What a task was asked to do beyond the defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskParams {
    /// Databases to dump or restore; `None` = all.
    pub databases: Option<Vec<String>>,
    /// Tables to restore; `None` = all.
    pub tables: Option<Vec<String>>,
    /// Snapshot layout of a backup.
    pub format: DumpFormat,
    /// Parallel connections; `None` = CPU count.
    pub parallel: Option<usize>,
    /// Rows per data chunk.
    pub chunk_rows: Option<u64>,
    /// Take no global lock.
    pub no_lock: bool,
    /// Replace existing tables on restore.
    pub drop_existing: bool,
    /// Options that were not understood (reported as warnings).
    pub ignored: Vec<String>,
}

impl TaskParams {
    /// Reads the parameters of `task` from its resolved args.
    pub fn of(task: &TaskRun) -> Self {
        let mut params = TaskParams::default();
        let mut extra = String::new();
        for arg in &task.args {
            let Some((name, value)) = arg.strip_prefix("--").and_then(|a| a.split_once('=')) else {
                continue;
            };
            if name == "databases" {
                params.databases = list(value);
            } else if name.ends_with("-args") {
                extra = value.to_owned();
            }
        }
        params.apply_extra(&extra);
        params
    }

    /// Applies the free-form `args` parameter.
    fn apply_extra(&mut self, extra: &str) {
        let tokens: Vec<&str> = extra.split_whitespace().collect();
        let mut i = 0;
        while i < tokens.len() {
            let token = tokens[i];
            let (name, inline) = match token.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (token, None),
            };
            let takes_value = matches!(
                name,
                "--format"
                    | "--parallel"
                    | "--chunk-rows"
                    | "--tables"
                    | "--one-database"
                    | "--databases"
            );
            let value = if takes_value && inline.is_none() {
                i += 1;
                tokens.get(i).map(|s| (*s).to_owned())
            } else {
                inline
            };
            let value = value.unwrap_or_default();
            match name {
                "--format" if value == "sql" => self.format = DumpFormat::Sql,
                "--format" if value == "native" => self.format = DumpFormat::Native,
                "--parallel" if value.parse::<usize>().is_ok_and(|n| n > 0) => {
                    self.parallel = value.parse().ok();
                }
                "--chunk-rows" if value.parse::<u64>().is_ok_and(|n| n > 0) => {
                    self.chunk_rows = value.parse().ok();
                }
                "--tables" => self.tables = list(&value),
                "--databases" | "--one-database" => self.databases = list(&value),
                "--no-lock" => self.no_lock = true,
                "--drop-existing" => self.drop_existing = true,
                _ => self.ignored.push(token.to_owned()),
            }
            i += 1;
        }
    }
}

/// A comma-separated list; `None` when empty.
fn list(value: &str) -> Option<Vec<String>> {
    let items: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!items.is_empty()).then_some(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::api::Driver;
    use std::collections::BTreeMap;

    fn task(args: &[&str]) -> TaskRun {
        TaskRun {
            task: "logical-backup".into(),
            function: "mariadb-backup".into(),
            component: "dump".into(),
            driver: Driver::Restic,
            image: String::new(),
            command: Vec::new(),
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            env: BTreeMap::new(),
        }
    }

    #[test]
    fn defaults_when_params_are_empty() {
        let p = TaskParams::of(&task(&[
            "--namespace=demo",
            "--databases=",
            "--mariadb-args=",
        ]));
        assert_eq!(p, TaskParams::default());
    }

    #[test]
    fn databases_format_and_unknown_args() {
        let p = TaskParams::of(&task(&[
            "--databases=shop, analytics",
            "--singlestore-args=--format sql --parallel=3 --set-gtid-purged=OFF --no-lock",
        ]));
        assert_eq!(p.databases, Some(vec!["shop".into(), "analytics".into()]));
        assert_eq!(p.format, DumpFormat::Sql);
        assert_eq!(p.parallel, Some(3));
        assert!(p.no_lock);
        assert_eq!(p.ignored, vec!["--set-gtid-purged=OFF".to_owned()]);
    }

    #[test]
    fn restore_filters() {
        let p = TaskParams::of(&task(&[
            "--mysql-args=--one-database=shop --tables=a,b --drop-existing",
        ]));
        assert_eq!(p.databases, Some(vec!["shop".into()]));
        assert_eq!(p.tables, Some(vec!["a".into(), "b".into()]));
        assert!(p.drop_existing);
    }
}
