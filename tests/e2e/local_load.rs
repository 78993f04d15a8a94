//! Fifty schedules on one daemon: 50 BackupConfigurations on `@every 3s`..`@every 7s`
//! over five small databases and two local storages run for over a minute. Every slot
//! that came gets exactly one BackupSession (at most one missed per configuration),
//! a slot that comes while its configuration still runs is Skipped for exactly that
//! reason, no configuration ever has two sessions Running, the daemon's memory stays
//! bounded, and the latest snapshot of every database restores to identical tables.
//! The daemon runs two jobs at once (`--max-jobs 2`): slots that come while their
//! configuration waits for a job slot are Skipped, as KubeStash skips them.

use crate::cli::Cairn;
use crate::load_support::*;
use crate::local_support::*;
use anyhow::{Context, Result};
use cairn_testkit::MariaDb;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const CONFIGS: usize = 50;
const DATABASES: usize = 5;
/// How long the daemon runs its schedules.
const RUN_FOR: Duration = Duration::from_secs(75);
/// How often the state directory is sampled for overlapping runs.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// Slots this close to the stop may not have fired yet; they are not required.
const STOP_GRACE_SECONDS: i64 = 3;
/// Generous bound of the daemon's peak resident memory.
const RSS_BOUND_MIB: u64 = 512;
/// Clock resolution of persisted times (`creationTimestamp` has whole seconds).
const TOLERANCE: chrono::Duration = chrono::Duration::seconds(1);

/// The period of configuration `i`: 3 to 7 seconds, spread over databases and storages.
fn period(i: usize) -> i64 {
    3 + (i % 5) as i64
}

fn database(i: usize) -> String {
    format!("load{}", (i / 5) % DATABASES)
}

fn config_name(i: usize) -> String {
    format!("lbc{i:02}")
}

#[test]
fn fifty_schedules_run_on_time_without_overlap_and_every_snapshot_restores() -> Result<()> {
    let wall = Instant::now();
    let src = MariaDb::start()?;
    for d in 0..DATABASES {
        src.sql(&format!(
            "CREATE DATABASE load{d}; \
             CREATE TABLE load{d}.t (id INT PRIMARY KEY, v VARCHAR(64)); \
             INSERT INTO load{d}.t SELECT seq, MD5(seq + {d}) FROM load{d}.seq_1_to_300; \
             CREATE TABLE load{d}.u (k VARCHAR(16) PRIMARY KEY, n BIGINT); \
             INSERT INTO load{d}.u SELECT CONCAT('k', seq), seq * {d} FROM load{d}.seq_1_to_50"
        ))?;
    }
    let local = Local::new()?;
    let storages = [
        ("store-a", local.path("backups-a")),
        ("store-b", local.path("backups-b")),
    ];
    let set = local.write("m", "base.yaml", &base_manifests("store-a", &storages[0].1))?;
    local.write(
        "m",
        "store-b.yaml",
        &local_storage("store-b", &storages[1].1),
    )?;
    local.write("m", "rp.yaml", &retention("keep-all", 100))?;
    local.write("m", "app.yaml", &app_binding("app", &src, src.password()))?;
    let configs: String = (0..CONFIGS)
        .map(|i| {
            configuration(&ConfigSpec {
                name: &config_name(i),
                target: "app",
                databases: &database(i),
                schedule: &format!("@every {}s", period(i)),
                storage: storages[i % 2].0,
                retention: "keep-all",
                repo: &format!("r{i:02}"),
                history: 100,
            })
        })
        .collect();
    local.write("m", "configs.yaml", &configs)?;

    // Two jobs at once whatever the machine, so figures compare across machines.
    let mut daemon =
        spawn_daemon_with(&local, "state", &[&set], "daemon.log", &["--max-jobs", "2"])?;
    let started = Utc::now();
    let sessions_dir = local.path("state").join("objects/backupsessions").join(NS);
    let mut sampler = Sampler::default();
    let until = Instant::now() + RUN_FOR;
    while Instant::now() < until {
        sampler.sample(&sessions_dir)?;
        std::thread::sleep(SAMPLE_EVERY);
    }
    let peak_rss_mib = proc_status_kib(daemon.pid(), "VmHWM")? / 1024;
    let stopped_at = Utc::now();
    let stopping = Instant::now();
    let clean = daemon.stop();
    let stop_seconds = stopping.elapsed().as_secs_f64();
    assert!(
        clean,
        "the daemon did not stop cleanly on SIGTERM:\n{}",
        local.log("daemon.log")
    );
    let log = local.log("daemon.log");
    assert!(
        sampler.overlaps.is_empty(),
        "two sessions of one configuration were Running at once: {:?}",
        sampler.overlaps
    );

    let rows: Vec<SessionRow> = local
        .objects("state", "backupsessions")?
        .iter()
        .map(SessionRow::of)
        .collect::<Result<_>>()?;
    let mut by_config: BTreeMap<String, Vec<SessionRow>> = BTreeMap::new();
    for row in &rows {
        by_config
            .entry(row.config.clone())
            .or_default()
            .push(row.clone());
    }
    assert_eq!(by_config.len(), CONFIGS, "configurations with sessions");
    let mentions = first_mentions(&log);
    let mut lags = Vec::new();
    let mut missed_total = 0;
    for i in 0..CONFIGS {
        let name = config_name(i);
        let mut sessions = by_config.remove(&name).unwrap_or_default();
        sessions.sort_by_key(|s| (s.slot, s.name.clone()));
        let missed = check_slots(&name, period(i), &sessions, stopped_at)?;
        missed_total += missed;
        check_skips_and_runs(&name, &sessions, &mentions)?;
        for s in sessions.iter().skip(1) {
            if let Some(seen) = mentions.get(&s.name) {
                lags.push((*seen - s.slot).num_microseconds().unwrap_or(0) as f64 / 1e6);
            }
        }
    }

    let count = |p: &str| rows.iter().filter(|r| r.phase == p).count();
    let (succeeded, failed, skipped) = (count("Succeeded"), count("Failed"), count("Skipped"));
    let unfinished = rows.len() - succeeded - failed - skipped;
    let failures: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("BackupSessionFailed") || l.contains(" ERROR "))
        .take(5)
        .collect();
    println!(
        "LOAD FIGURES: {CONFIGS} configurations (@every 3-7s, {DATABASES} databases, 2 storages, 2 jobs at once) for {}s: \
         {} sessions ({succeeded} Succeeded, {failed} Failed, {skipped} Skipped, {unfinished} unfinished at stop), \
         {missed_total} missed slots, schedule lag p50 {:.2}s p99 {:.2}s, peak RSS {peak_rss_mib} MiB, \
         max {} sessions Running at once, SIGTERM to exit {stop_seconds:.1}s, test wall so far {:.0}s",
        (stopped_at - started).num_seconds(),
        rows.len(),
        percentile(&mut lags.clone(), 50.0),
        percentile(&mut lags, 99.0),
        sampler.max_running,
        wall.elapsed().as_secs_f64()
    );
    assert_eq!(
        failed, 0,
        "failed sessions; first log lines:\n{failures:#?}"
    );
    assert!(
        peak_rss_mib < RSS_BOUND_MIB,
        "daemon peak RSS {peak_rss_mib} MiB over {RSS_BOUND_MIB} MiB"
    );

    // The latest snapshot of every database restores to the same tables.
    let dst = MariaDb::start()?;
    let restorer = Cairn::new(local.dir.path(), RESTIC_PASSWORD, dst.password())?;
    for d in 0..DATABASES {
        let (i, _) = (0..CONFIGS)
            .filter(|i| database(*i) == format!("load{d}"))
            .filter_map(|i| {
                let latest = rows
                    .iter()
                    .filter(|r| r.config == config_name(i) && r.phase == "Succeeded")
                    .map(|r| r.slot)
                    .max()?;
                Some((i, latest))
            })
            .max_by_key(|(_, latest)| *latest)
            .with_context(|| format!("no successful backup of load{d}"))?;
        let repo: PathBuf = storages[i % 2]
            .1
            .join(format!("r{i:02}/repository/v1/full/dump"));
        restorer
            .run(&[
                "restore",
                "--db",
                &dst.url(),
                "--repo",
                repo.to_str().context("path")?,
                "--snapshot",
                "latest",
                "--json",
            ])?
            .expect_ok("restore of the latest snapshot");
    }
    let names: Vec<String> = (0..DATABASES).map(|d| format!("load{d}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_same_tables(&src, &dst, &names)?;

    Ok(())
}

/// Every slot after the instant backup and before the stop has one session, at most
/// one is missed, and every session but the instant one stands for a slot; returns the
/// number missed.
fn check_slots(
    config: &str,
    period: i64,
    sessions: &[SessionRow],
    stopped_at: DateTime<Utc>,
) -> Result<usize> {
    let instant = sessions
        .first()
        .with_context(|| format!("{config}: no session at all"))?;
    let instant_at = instant.name_seconds().context("instant session name")?;
    let fired: Vec<i64> = sessions
        .iter()
        .skip(1)
        .map(|s| s.name_seconds().context("session name"))
        .collect::<Result<_>>()?;
    let unique: BTreeSet<i64> = fired.iter().copied().collect();
    assert_eq!(unique.len(), fired.len(), "{config}: duplicated slot");
    for s in &fired {
        assert!(
            s % period == 0 && *s > instant_at,
            "{config}: session at {s} is not a slot of @every {period}s after {instant_at}"
        );
    }
    let last = stopped_at.timestamp() - STOP_GRACE_SECONDS;
    let expected: Vec<i64> = ((instant_at / period + 1)..=(last / period))
        .map(|k| k * period)
        .collect();
    let missed: Vec<i64> = expected
        .iter()
        .filter(|s| !unique.contains(s))
        .copied()
        .collect();
    assert!(
        missed.len() <= 1,
        "{config}: slots {missed:?} of {} got no session",
        expected.len()
    );
    Ok(missed.len())
}

/// A session is Skipped exactly when an earlier session of its configuration was still
/// running at its slot; sessions that ran did so one after the other.
fn check_skips_and_runs(
    config: &str,
    sessions: &[SessionRow],
    mentions: &BTreeMap<String, DateTime<Utc>>,
) -> Result<()> {
    let by_name: HashMap<&str, &SessionRow> =
        sessions.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut previous_run: Option<&SessionRow> = None;
    for s in sessions {
        if let Some(why) = &s.skipped_because {
            let blocker = why
                .split("BackupSession ")
                .nth(2)
                .and_then(|rest| rest.split_whitespace().next())
                .filter(|_| why.ends_with("of the same session is still running"))
                .with_context(|| format!("{}: skipped for another reason: {why}", s.name))?;
            let blocker = by_name
                .get(blocker)
                .with_context(|| format!("{}: blocker {blocker} not found", s.name))?;
            assert!(
                blocker.slot < s.slot && blocker.end.is_none_or(|end| end + TOLERANCE >= s.slot),
                "{}: skipped for {} which was not running then ({:?})",
                s.name,
                blocker.name,
                blocker.end
            );
            continue;
        }
        if let Some(prev) = previous_run {
            let end = prev
                .end
                .with_context(|| format!("{} ran while {} never ended", s.name, prev.name))?;
            let created = mentions.get(&s.name).copied().unwrap_or(s.slot);
            assert!(
                end <= created + TOLERANCE,
                "{config}: {} started at {created} before {} ended at {end}",
                s.name,
                prev.name
            );
        }
        previous_run = Some(s);
    }
    Ok(())
}

/// Samples the state directory for configurations with two sessions Running at once.
#[derive(Default)]
struct Sampler {
    /// Files already terminal (their phase never changes again).
    done: BTreeSet<PathBuf>,
    overlaps: Vec<String>,
    max_running: usize,
}

impl Sampler {
    fn sample(&mut self, dir: &std::path::Path) -> Result<()> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        let mut running: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if self.done.contains(&path) || path.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            // A file removed between listing and reading is a session history cleanup.
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let object: serde_yaml::Value = serde_yaml::from_str(&text)?;
            let row = SessionRow::of(&object)?;
            match row.phase.as_str() {
                "Succeeded" | "Failed" | "Skipped" => {
                    self.done.insert(path);
                }
                "Running" => running.entry(row.config).or_default().push(row.name),
                _ => {}
            }
        }
        self.max_running = self.max_running.max(running.values().map(Vec::len).sum());
        for (config, names) in running {
            if names.len() > 1 {
                self.overlaps.push(format!("{config}: {names:?}"));
            }
        }
        Ok(())
    }
}
