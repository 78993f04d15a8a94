//! Helpers of the fault-injection suite over the local control plane: a source server with
//! a table whose backup lasts long enough to interfere with, the `cairn run` daemon as a
//! child that dies with the test, and the checks every fault test ends with (restic check
//! of the repository, a following backup and a restore with equal `CHECKSUM TABLE`s, and
//! no secret value in anything the test saw).

use crate::cli::Run;
use crate::local_support::*;
use anyhow::{Context, Result};
use cairn_testkit::{random_hex, MariaDb, Restic};
use serde_yaml::Value;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// Database and tables of the sample: `big.t` (the long one) and `big.items` (small).
pub const DB: &str = "big";
/// The BackupConfiguration of every fault test.
pub const BC: &str = "bc";
/// Repository of the BackupConfiguration.
pub const REPO: &str = "repo";

/// How one fault test is set up.
pub struct Options {
    /// Rows of `big.t` (400k rows take several seconds to dump in a debug build).
    pub rows: u32,
    /// Cron schedule of the session (the first backup runs at once anyway).
    pub schedule: &'static str,
    /// `retryConfig` of the session, if any.
    pub retry: Option<&'static str>,
    /// Successful snapshots kept by the retention policy.
    pub keep: u32,
    /// The BackupStorage manifest; a local directory `<scratch>/backups` when `None`.
    pub storage: Option<String>,
    /// Directory of the local backend, when it is not `<scratch>/backups`.
    pub backups: Option<PathBuf>,
    /// The component repository as restic reads it, when it is not in `backups` (S3).
    pub remote: Option<Remote>,
}

/// A component repository restic reads from an object store.
#[derive(Clone)]
pub struct Remote {
    /// restic's repository string (`s3:http://...`).
    pub repo: String,
    /// Environment restic needs (credentials, region).
    pub env: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            rows: 20_000,
            schedule: "0 0 1 1 *",
            retry: None,
            keep: 5,
            storage: None,
            backups: None,
            remote: None,
        }
    }
}

/// A fault scenario: source server, manifests, state directory and what the test saw.
pub struct Env {
    /// Scratch area, manifests and the `cairn` runner.
    pub local: Local,
    /// The source (and restore target) server.
    pub db: MariaDb,
    /// The local backend directory (unused for S3).
    pub backups: PathBuf,
    /// The manifest set of the backup.
    pub set: PathBuf,
    /// `CHECKSUM TABLE` of every sample table: what a restore must bring back.
    checksums: RefCell<Vec<(String, String)>>,
    remote: Option<Remote>,
    /// Secret values that must appear nowhere.
    secrets: Vec<(&'static str, String)>,
    /// Everything commands printed, by label.
    outputs: RefCell<Vec<(String, String)>>,
    daemons: RefCell<usize>,
    restores: RefCell<usize>,
}

/// A `cairn run` daemon; SIGKILLed when dropped, so a failing test leaves no process behind.
pub struct Daemon {
    child: Option<Child>,
    /// Its log file name in the scratch area.
    pub log: String,
}

impl Daemon {
    /// SIGKILL, as a crash or the OOM killer would.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM (bounded); whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => {
                let ok = stop(c);
                self.child = None;
                ok
            }
            None => true,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Env {
    /// A source with `big.t` of `opts.rows` rows and `big.items`, and manifests for one
    /// BackupConfiguration `bc` backing `big` up to one repository.
    pub fn new(opts: Options) -> Result<Env> {
        let db = MariaDb::start()?;
        // Seeded from the sequence engine: fast to fill, each row different.
        db.sql(&format!(
            "CREATE DATABASE {DB}; \
             CREATE TABLE {DB}.t (id INT PRIMARY KEY, pad VARCHAR(120)); \
             INSERT INTO {DB}.t SELECT seq, REPEAT(MD5(seq), 3) FROM {DB}.seq_1_to_{rows}; \
             CREATE TABLE {DB}.items (id INT PRIMARY KEY, name VARCHAR(40)); \
             INSERT INTO {DB}.items SELECT seq, CONCAT('item-', seq) FROM {DB}.seq_1_to_100;",
            rows = opts.rows.max(1)
        ))?;
        Self::with_db(db, opts)
    }

    /// Like [`Env::new`] on an already loaded server.
    pub fn with_db(db: MariaDb, opts: Options) -> Result<Env> {
        let mut local = Local::new()?;
        // Cairn's own debug logs too go through the leak check.
        local.cairn.env.push((
            "RUST_LOG".into(),
            "warn,cairn=debug,cairn_local=debug,cairn_job=debug,cairn_db=debug,cairn_storage=debug"
                .into(),
        ));
        let backups = opts
            .backups
            .clone()
            .unwrap_or_else(|| local.path("backups"));
        let storage = opts
            .storage
            .clone()
            .unwrap_or_else(|| local_storage("store", &backups));
        let set = local.write("m", "storage.yaml", &storage)?;
        local.write(
            "m",
            "secret.yaml",
            &format!(
                "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NS}}}\n---\n\
                 apiVersion: v1\nkind: Secret\nmetadata: {{name: encrypt-secret, namespace: {NS}}}\n\
                 stringData: {{RESTIC_PASSWORD: {RESTIC_PASSWORD}}}\n"
            ),
        )?;
        local.write("m", "app.yaml", &app_binding("app", &db, db.password()))?;
        local.write("m", "rp.yaml", &retention("keep", opts.keep))?;
        let retry = opts
            .retry
            .map(|r| format!("      retryConfig: {r}\n"))
            .unwrap_or_default();
        local.write(
            "m",
            "bc.yaml",
            &backup_configuration(
                BC,
                "app",
                opts.schedule,
                &[("b", "store", "keep")],
                &[RepoSpec {
                    name: REPO,
                    backend: "b",
                    directory: "/db",
                }],
                &retry,
            ),
        )?;
        let secrets = vec![
            ("database password", db.password().to_owned()),
            ("restic password", RESTIC_PASSWORD.to_owned()),
        ];
        let env = Env {
            local,
            db,
            backups,
            set,
            checksums: RefCell::new(Vec::new()),
            remote: opts.remote.clone(),
            secrets,
            outputs: RefCell::new(Vec::new()),
            daemons: RefCell::new(0),
            restores: RefCell::new(0),
        };
        env.record_checksums()?;
        Ok(env)
    }

    /// Takes the current `CHECKSUM TABLE`s as what a restore must bring back.
    pub fn record_checksums(&self) -> Result<()> {
        let mut sums = Vec::new();
        for t in self.db.tables(DB)? {
            sums.push((t.clone(), self.db.checksum_table(DB, &t)?));
        }
        *self.checksums.borrow_mut() = sums;
        Ok(())
    }

    /// Adds a secret value the final leak check looks for (S3 keys).
    pub fn secret(&mut self, name: &'static str, value: &str) {
        self.secrets.push((name, value.to_owned()));
    }

    /// The restic repository of the session's dump component.
    pub fn component(&self) -> PathBuf {
        self.backups.join("db/repository/v1/full/dump")
    }

    /// The state directory.
    pub fn state(&self) -> PathBuf {
        self.local.path("state")
    }

    /// Starts `cairn run` on the manifests (plus `extra` sets); its log is kept for the leak check.
    pub fn daemon(&self, extra: &[&Path]) -> Result<Daemon> {
        let n = {
            let mut d = self.daemons.borrow_mut();
            *d += 1;
            *d
        };
        let log = format!("daemon-{n}.log");
        let mut sets = vec![self.set.as_path()];
        sets.extend_from_slice(extra);
        let child = self.local.spawn_daemon("state", &sets, &log)?;
        let daemon = Daemon {
            child: Some(child),
            log,
        };
        // Up once it has loaded the state; a SIGTERM before that would find no handler.
        self.wait("the daemon to start", || {
            Ok(self
                .local
                .log(&daemon.log)
                .contains("control plane started"))
        })?;
        Ok(daemon)
    }

    /// `cairn run --once` on the manifests plus `extra` sets.
    pub fn run_once(&self, extra: &[&Path]) -> Result<Run> {
        let mut sets = vec![self.set.as_path()];
        sets.extend_from_slice(extra);
        let run = self.local.run_once("state", &sets)?;
        self.record("cairn run --once", &run);
        Ok(run)
    }

    /// `cairn ARGS` with the test's environment; the output is kept for the leak check.
    pub fn cairn(&self, args: &[&str]) -> Result<Run> {
        let run = self.local.cairn.run(args)?;
        self.record(&format!("cairn {}", args.join(" ")), &run);
        Ok(run)
    }

    /// Keeps the output of a command for the leak check.
    pub fn record(&self, what: &str, run: &Run) {
        self.record_text(what, &format!("{}\n{}", run.stdout, run.stderr));
    }

    /// Keeps any text the test saw (a process's log) for the leak check.
    pub fn record_text(&self, what: &str, text: &str) {
        self.outputs
            .borrow_mut()
            .push((what.to_owned(), text.to_owned()));
    }

    /// `cairn trigger bc`: a new BackupSession now; its name.
    pub fn trigger(&self) -> Result<String> {
        let state = self.state();
        let run = self
            .cairn(&["trigger", BC, "-n", NS, "--state", state.to_str().unwrap()])?
            .expect_ok("cairn trigger");
        // `backupsession/NAME created`
        let name = run
            .stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix("backupsession/"))
            .with_context(|| format!("no session name in: {}", run.stdout))?;
        Ok(name.to_owned())
    }

    /// Every object of `plural`.
    pub fn objects(&self, plural: &str) -> Vec<Value> {
        self.local.objects("state", plural).unwrap_or_default()
    }

    /// Objects of `plural` in `phase`.
    pub fn in_phase(&self, plural: &str, wanted: &str) -> Vec<Value> {
        self.objects(plural)
            .into_iter()
            .filter(|o| phase(o) == wanted)
            .collect()
    }

    /// Every daemon log so far.
    pub fn logs(&self) -> String {
        (1..=*self.daemons.borrow())
            .map(|n| self.local.log(&format!("daemon-{n}.log")))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Polls `cond` (bounded by [`DAEMON_WAIT`]); on timeout fails with the daemon logs and objects.
    pub fn wait(&self, what: &str, cond: impl FnMut() -> Result<bool>) -> Result<()> {
        eventually(what, cond).map_err(|e| {
            anyhow::anyhow!(
                "{e:#}\nsessions: {}\nsnapshots: {}\nlogs:\n{}",
                brief(&self.objects("backupsessions")),
                brief(&self.objects("snapshots")),
                self.logs()
            )
        })
    }

    /// restic and the component repository as it addresses it.
    pub fn restic(&self) -> Result<(Restic, String)> {
        let restic = Restic::find()?;
        Ok(match &self.remote {
            Some(r) => (restic.with_env(r.env.clone()), r.repo.clone()),
            None => (restic, self.component().display().to_string()),
        })
    }

    /// How many snapshots restic lists in the component repository.
    pub fn restic_snapshots(&self) -> Result<usize> {
        let (restic, repo) = self.restic()?;
        let out = restic.run_repo(
            &repo,
            &self.local.cairn.password_file,
            &["snapshots", "--json"],
        )?;
        let listed: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        Ok(listed.as_array().map_or(0, Vec::len))
    }

    /// `restic check --read-data` of the component repository passes.
    pub fn assert_repository_sound(&self) -> Result<()> {
        let (restic, repo) = self.restic()?;
        let out = restic.check(&repo, &self.local.cairn.password_file, true)?;
        self.outputs.borrow_mut().push((
            "restic check".into(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ));
        Ok(())
    }

    /// After the fault: a triggered backup succeeds, and a RestoreSession of the latest
    /// snapshot into the dropped source database brings back equal `CHECKSUM TABLE`s.
    pub fn assert_backup_and_restore_work(&self) -> Result<()> {
        // A job the stopped daemon was running (a scheduled slot that fired just before the
        // stop) runs again first, and must succeed too; a trigger meanwhile would be Skipped.
        let leftover = self.run_once(&[])?;
        assert!(
            leftover.ok,
            "the work the stopped daemon left did not finish:\n{}\nsessions: {}",
            leftover.stderr,
            brief(&self.objects("backupsessions"))
        );
        let session = self.trigger()?;
        let run = self.run_once(&[])?;
        let sessions = self.objects("backupsessions");
        let triggered = sessions
            .iter()
            .find(|s| s["metadata"]["name"].as_str() == Some(session.as_str()));
        assert!(
            run.ok && triggered.is_some_and(|s| phase(s) == "Succeeded"),
            "the backup after the fault failed:\n{}\nsessions: {}",
            run.stderr,
            brief(&sessions)
        );
        self.restore_latest()
    }

    /// Drops `big` and restores it with a RestoreSession; asserts equal checksums.
    pub fn restore_latest(&self) -> Result<()> {
        let n = {
            let mut r = self.restores.borrow_mut();
            *r += 1;
            *r
        };
        let name = format!("restore-{n}");
        self.db.sql(&format!("DROP DATABASE IF EXISTS {DB}"))?;
        let set = self.local.write(
            &format!("restore-{n}"),
            "restore.yaml",
            &restore_session(&name, "app", REPO),
        )?;
        let run = self.run_once(&[&set])?;
        let restore = self.local.object("state", "restoresessions", &name)?;
        assert!(
            run.ok && phase(&restore) == "Succeeded",
            "restore failed:\n{}\n{restore:?}",
            run.stderr
        );
        self.assert_checksums()
    }

    /// Every sample table has its original `CHECKSUM TABLE`.
    pub fn assert_checksums(&self) -> Result<()> {
        for (t, sum) in self.checksums.borrow().iter() {
            assert_eq!(
                &self.db.checksum_table(DB, t)?,
                sum,
                "CHECKSUM TABLE {DB}.{t} after restore"
            );
        }
        Ok(())
    }

    /// No secret value in any output, daemon log, state file (but the Secrets themselves)
    /// or backend file in plain text.
    pub fn assert_no_secret_anywhere(&self) -> Result<()> {
        let mut texts: Vec<(String, String)> = self.outputs.borrow().clone();
        texts.push(("daemon logs".into(), self.logs()));
        let state = self.state();
        for f in files_under(&state) {
            if !f.starts_with("objects/secrets/") {
                texts.push((format!("state file {f}"), read_lossy(&state.join(&f))));
            }
        }
        for f in files_under(&self.backups) {
            texts.push((
                format!("backend file {f}"),
                read_lossy(&self.backups.join(&f)),
            ));
        }
        for (what, text) in &texts {
            for (name, value) in &self.secrets {
                assert!(
                    !text.contains(value.as_str()),
                    "the {name} appears in {what}"
                );
            }
        }
        Ok(())
    }

    /// The final checks of every fault test: repository sound, backup and restore work,
    /// nothing leaked.
    pub fn assert_recovered(&self) -> Result<()> {
        self.assert_repository_sound()?;
        self.assert_backup_and_restore_work()?;
        self.assert_repository_sound()?;
        self.assert_no_secret_anywhere()
    }
}

fn read_lossy(p: &Path) -> String {
    std::fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// `name: phase` of each object, for failure messages.
pub fn brief(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| {
            format!(
                "{}: {} {}",
                o["metadata"]["name"].as_str().unwrap_or_default(),
                phase(o),
                serde_yaml::to_string(&o["status"]["conditions"]).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Polls `cond` every few milliseconds (a state change can be short-lived) for up to `timeout`.
pub fn poll_fast(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    anyhow::bail!("{what}: not seen within {timeout:?}")
}

/// Whether `dir` holds at least one file (recursively).
pub fn has_files(dir: &Path) -> bool {
    !files_under(dir).is_empty()
}

/// The error text of the `dump` component of a Snapshot.
pub fn component_error(snapshot: &Value) -> &str {
    snapshot["status"]["components"]["dump"]["error"]
        .as_str()
        .unwrap_or_default()
}

/// A distinctive secret value (random, so no fixture text matches it by chance).
pub fn distinctive(prefix: &str) -> String {
    format!("{prefix}-{}", random_hex(8))
}
