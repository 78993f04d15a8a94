//! Helpers of the local control plane tests: KubeStash manifests for private servers, the
//! `cairn run` daemon as a child process, and reading objects from the state directory.

use crate::cli::{Cairn, Run};
use anyhow::{Context, Result};
use cairn_testkit::process::{terminate, wait_for};
use cairn_testkit::MariaDb;
use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

/// Namespace of every test object.
pub const NS: &str = "demo";
/// The restic password of the test repositories.
pub const RESTIC_PASSWORD: &str = "e2e-local-restic-password-7f3a";
/// Longest wait for a daemon to reach a state.
pub const DAEMON_WAIT: Duration = Duration::from_secs(180);

/// A scratch area: manifests, state directory, backups.
pub struct Local {
    /// Owns the files.
    pub dir: tempfile::TempDir,
    /// The `cairn` runner.
    pub cairn: Cairn,
}

impl Local {
    /// A fresh scratch area.
    pub fn new() -> Result<Local> {
        let dir = cairn_testkit::scratch_dir()?;
        let cairn = Cairn::new(dir.path(), RESTIC_PASSWORD, "unused")?;
        Ok(Local { dir, cairn })
    }

    /// `<dir>/<name>`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes manifests `<dir>/<set>/<file>`; returns the set's directory.
    pub fn write(&self, set: &str, file: &str, yaml: &str) -> Result<PathBuf> {
        let dir = self.path(set);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(file), yaml)?;
        Ok(dir)
    }

    /// `cairn run -f SETS... --state STATE --once`.
    pub fn run_once(&self, state: &str, sets: &[&Path]) -> Result<Run> {
        let state = self.path(state);
        let mut args = vec!["run".to_owned()];
        for s in sets {
            args.push("-f".to_owned());
            args.push(s.display().to_string());
        }
        args.extend([
            "--state".to_owned(),
            state.display().to_string(),
            "--once".to_owned(),
        ]);
        args.extend(["--stall-timeout".to_owned(), "60".to_owned()]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.cairn.run(&refs)
    }

    /// Starts `cairn run` as a daemon (stdout/stderr to `<dir>/<log>`).
    pub fn spawn_daemon(&self, state: &str, sets: &[&Path], log: &str) -> Result<Child> {
        self.spawn_daemon_with_env(state, sets, log, &[])
    }

    /// [`Local::spawn_daemon`] with extra environment variables.
    pub fn spawn_daemon_with_env(
        &self,
        state: &str,
        sets: &[&Path],
        log: &str,
        env: &[(&str, &str)],
    ) -> Result<Child> {
        let mut args = vec!["run".to_owned()];
        for s in sets {
            args.push("-f".to_owned());
            args.push(s.display().to_string());
        }
        args.extend(["--state".to_owned(), self.path(state).display().to_string()]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = std::fs::File::create(self.path(log))?;
        let mut cmd = self.cairn.command(&refs);
        cmd.envs(env.iter().copied());
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        cmd.spawn().context("cannot start cairn run")
    }

    /// The daemon's log so far.
    pub fn log(&self, log: &str) -> String {
        std::fs::read_to_string(self.path(log)).unwrap_or_default()
    }

    /// Every object of `plural` in the state directory `state`, by name.
    pub fn objects(&self, state: &str, plural: &str) -> Result<Vec<Value>> {
        let dir = self.path(state).join("objects").join(plural).join(NS);
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(out);
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        {
            let text = std::fs::read_to_string(&p)?;
            out.push(serde_yaml::from_str(&text).with_context(|| format!("{}", p.display()))?);
        }
        Ok(out)
    }

    /// The object `plural/name`.
    pub fn object(&self, state: &str, plural: &str, name: &str) -> Result<Value> {
        self.objects(state, plural)?
            .into_iter()
            .find(|o| o["metadata"]["name"].as_str() == Some(name))
            .with_context(|| format!("{plural}/{name} not in state {state}"))
    }
}

/// Stops a daemon with SIGTERM (bounded) and returns whether it exited cleanly.
pub fn stop(child: &mut Child) -> bool {
    terminate(child, Duration::from_secs(30));
    child.try_wait().ok().flatten().is_some_and(|s| s.success())
}

/// Polls until `cond` holds.
pub fn eventually(what: &str, cond: impl FnMut() -> Result<bool>) -> Result<()> {
    wait_for(what, DAEMON_WAIT, cond)
}

/// The status condition `type_` of an object, if any.
pub fn condition<'a>(object: &'a Value, type_: &str) -> Option<&'a Value> {
    object["status"]["conditions"]
        .as_sequence()?
        .iter()
        .find(|c| c["type"].as_str() == Some(type_))
}

/// Asserts that condition `type_` is `status` ("True"/"False").
pub fn assert_condition(object: &Value, type_: &str, status: &str) {
    let c = condition(object, type_).unwrap_or_else(|| {
        panic!(
            "{} has no condition {type_}: {}",
            object["metadata"]["name"].as_str().unwrap_or_default(),
            serde_yaml::to_string(&object["status"]).unwrap_or_default()
        )
    });
    assert_eq!(
        c["status"].as_str(),
        Some(status),
        "condition {type_}: {c:?}"
    );
}

/// `status.phase` of an object.
pub fn phase(object: &Value) -> &str {
    object["status"]["phase"].as_str().unwrap_or_default()
}

/// Namespace + encryption Secret + a local BackupStorage `name` at `dir`.
pub fn base_manifests(storage: &str, dir: &Path) -> String {
    format!(
        r#"apiVersion: v1
kind: Namespace
metadata: {{name: {NS}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: encrypt-secret, namespace: {NS}}}
stringData: {{RESTIC_PASSWORD: {RESTIC_PASSWORD}}}
---
{}"#,
        local_storage(storage, dir)
    )
}

/// A local BackupStorage.
pub fn local_storage(name: &str, dir: &Path) -> String {
    format!(
        r#"apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {{name: {name}, namespace: {NS}}}
spec:
  storage:
    provider: local
    local:
      mountPath: {dir}
      hostPath: {{path: {dir}}}
  usagePolicy: {{allowedNamespaces: {{from: All}}}}
  deletionPolicy: Delete
"#,
        dir = dir.display()
    )
}

/// A RetentionPolicy keeping the last `last` successful snapshots.
pub fn retention(name: &str, last: u32) -> String {
    format!(
        r#"apiVersion: storage.kubestash.com/v1alpha1
kind: RetentionPolicy
metadata: {{name: {name}, namespace: {NS}}}
spec:
  maxRetentionPeriod: 30d
  successfulSnapshots: {{last: {last}}}
  failedSnapshots: {{last: 2}}
  usagePolicy: {{allowedNamespaces: {{from: All}}}}
"#
    )
}

/// An AppBinding `name` for `db` (KubeDB's `tcp(host:port)/` url) with its auth Secret.
pub fn app_binding(name: &str, db: &MariaDb, password: &str) -> String {
    format!(
        r#"apiVersion: appcatalog.appscode.com/v1alpha1
kind: AppBinding
metadata: {{name: {name}, namespace: {NS}}}
spec:
  type: kubedb.com/mariadb
  clientConfig: {{url: "tcp(127.0.0.1:{port})/"}}
  secret: {{name: {name}-auth}}
---
apiVersion: v1
kind: Secret
metadata: {{name: {name}-auth, namespace: {NS}}}
stringData: {{username: root, password: "{password}"}}
"#,
        port = db.port()
    )
}

/// A repository entry of a BackupConfiguration session.
pub struct RepoSpec<'a> {
    /// Repository name.
    pub name: &'a str,
    /// Backend name.
    pub backend: &'a str,
    /// Directory in the backend.
    pub directory: &'a str,
}

/// A BackupConfiguration of `target` with one session `session` on `schedule`;
/// `backends` are `(name, storage, retention policy)`; `extra` is appended to the
/// session (retryConfig, hooks).
pub fn backup_configuration(
    name: &str,
    target: &str,
    schedule: &str,
    backends: &[(&str, &str, &str)],
    repos: &[RepoSpec<'_>],
    extra: &str,
) -> String {
    let backends: String = backends
        .iter()
        .map(|(b, s, r)| {
            format!(
                "    - name: {b}\n      storageRef: {{namespace: {NS}, name: {s}}}\n      retentionPolicy: {{namespace: {NS}, name: {r}}}\n"
            )
        })
        .collect();
    let repos: String = repos
        .iter()
        .map(|r| {
            format!(
                "        - name: {}\n          backend: {}\n          directory: {}\n          encryptionSecret: {{name: encrypt-secret, namespace: {NS}}}\n",
                r.name, r.backend, r.directory
            )
        })
        .collect();
    format!(
        r#"apiVersion: core.kubestash.com/v1alpha1
kind: BackupConfiguration
metadata: {{name: {name}, namespace: {NS}}}
spec:
  target: {{apiGroup: kubedb.com, kind: MariaDB, namespace: {NS}, name: {target}}}
  backends:
{backends}  sessions:
    - name: full
      scheduler:
        schedule: "{schedule}"
        jobTemplate: {{backoffLimit: 1}}
      repositories:
{repos}      addon:
        name: mariadb-addon
        tasks:
          - name: logical-backup
{extra}"#
    )
}

/// A RestoreSession of the latest snapshot of `repo` into `target`.
pub fn restore_session(name: &str, target: &str, repo: &str) -> String {
    format!(
        r#"apiVersion: core.kubestash.com/v1alpha1
kind: RestoreSession
metadata: {{name: {name}, namespace: {NS}}}
spec:
  target: {{apiGroup: kubedb.com, kind: MariaDB, namespace: {NS}, name: {target}}}
  dataSource:
    repository: {repo}
    snapshot: latest
    encryptionSecret: {{name: encrypt-secret, namespace: {NS}}}
  addon:
    name: mariadb-addon
    tasks:
      - name: logical-backup-restore
"#
    )
}

/// Every table of `databases` has the same `CHECKSUM TABLE` on both servers.
pub fn assert_same_tables(src: &MariaDb, dst: &MariaDb, databases: &[&str]) -> Result<()> {
    for db in databases {
        let tables = src.tables(db)?;
        assert!(!tables.is_empty(), "source database {db} has no tables");
        assert_eq!(tables, dst.tables(db)?, "tables of {db}");
        for t in &tables {
            assert_eq!(
                src.checksum_table(db, t)?,
                dst.checksum_table(db, t)?,
                "CHECKSUM TABLE {db}.{t}"
            );
        }
    }
    Ok(())
}

/// A source server loaded with the demo's sample data (`shop`, `analytics`).
pub fn sample_source() -> Result<MariaDb> {
    let db = MariaDb::start()?;
    db.sql_file(&cairn_testkit::workspace_root().join("scripts/sample-data.sql"))?;
    Ok(db)
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Ok(rel) = p.strip_prefix(base) {
                out.push(rel.display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
