//! Helpers of the load and clock tests: a BackupConfiguration with task params and a
//! long session history, the daemon's log read as "when did it first act on a session",
//! BackupSessions read as slots and runs, and the daemon's peak memory.

use crate::local_support::{phase, NS};
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// A BackupConfiguration `name` of the databases `databases` on AppBinding `target`,
/// one session `full` on `schedule` into repository `repo` (directory `/<repo>`) of
/// `storage`, keeping `history` BackupSessions so a test sees every session it ran.
pub struct ConfigSpec<'a> {
    /// Its name.
    pub name: &'a str,
    /// The AppBinding (and target) name.
    pub target: &'a str,
    /// The `databases` task parameter.
    pub databases: &'a str,
    /// The session's schedule.
    pub schedule: &'a str,
    /// The BackupStorage.
    pub storage: &'a str,
    /// The RetentionPolicy.
    pub retention: &'a str,
    /// The Repository name (and directory).
    pub repo: &'a str,
    /// `sessionHistoryLimit`.
    pub history: u32,
}

/// The manifest of `spec`, ending in a document separator.
pub fn configuration(spec: &ConfigSpec<'_>) -> String {
    let ConfigSpec {
        name,
        target,
        databases,
        schedule,
        storage,
        retention,
        repo,
        history,
    } = spec;
    format!(
        r#"apiVersion: core.kubestash.com/v1alpha1
kind: BackupConfiguration
metadata: {{name: {name}, namespace: {NS}}}
spec:
  target: {{apiGroup: kubedb.com, kind: MariaDB, namespace: {NS}, name: {target}}}
  backends:
    - name: b
      storageRef: {{namespace: {NS}, name: {storage}}}
      retentionPolicy: {{namespace: {NS}, name: {retention}}}
  sessions:
    - name: full
      sessionHistoryLimit: {history}
      scheduler:
        schedule: "{schedule}"
        jobTemplate: {{backoffLimit: 1}}
      repositories:
        - name: {repo}
          backend: b
          directory: /{repo}
          encryptionSecret: {{name: encrypt-secret, namespace: {NS}}}
      addon:
        name: mariadb-addon
        tasks:
          - name: logical-backup
            params: {{databases: "{databases}"}}
---
"#
    )
}

/// One BackupSession as the tests reason about it.
#[derive(Clone, Debug)]
pub struct SessionRow {
    /// Its name.
    pub name: String,
    /// The configuration that invoked it.
    pub config: String,
    /// The slot it stands for (its creation time: the core names and stamps a session
    /// after its slot).
    pub slot: DateTime<Utc>,
    /// `status.phase`.
    pub phase: String,
    /// When it ended: slot + `status.duration` (runs only).
    pub end: Option<DateTime<Utc>>,
    /// The `BackupSkipped` message, if skipped.
    pub skipped_because: Option<String>,
}

impl SessionRow {
    /// Reads a BackupSession object.
    pub fn of(object: &Value) -> Result<SessionRow> {
        let meta = &object["metadata"];
        let name = meta["name"].as_str().context("session without a name")?;
        let config = meta["labels"]["kubestash.com/invoker-name"]
            .as_str()
            .or_else(|| object["spec"]["invoker"]["name"].as_str())
            .with_context(|| format!("{name}: no invoker"))?;
        let slot = meta["creationTimestamp"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .with_context(|| format!("{name}: no creationTimestamp"))?
            .with_timezone(&Utc);
        let end = object["status"]["duration"]
            .as_str()
            .filter(|d| !d.is_empty())
            .map(go_duration)
            .transpose()?
            .map(|d| slot + d);
        let skipped_because = crate::local_support::condition(object, "BackupSkipped")
            .filter(|c| c["status"].as_str() == Some("True"))
            .and_then(|c| c["message"].as_str())
            .map(str::to_owned);
        Ok(SessionRow {
            name: name.to_owned(),
            config: config.to_owned(),
            slot,
            phase: phase(object).to_owned(),
            end,
            skipped_because,
        })
    }

    /// The unix second in the name (`<config>-<session>-<unix seconds>`).
    pub fn name_seconds(&self) -> Option<i64> {
        self.name.rsplit('-').next()?.parse().ok()
    }
}

/// A Go duration as the core prints it (`1.5s`, `2m3.25s`, `350ms`, `0s`).
pub fn go_duration(text: &str) -> Result<chrono::Duration> {
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .with_context(|| format!("duration {text:?} lacks a unit"))?;
        let (number, tail) = rest.split_at(digits);
        let number: f64 = number
            .parse()
            .with_context(|| format!("duration {text:?}"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => anyhow::bail!("duration {text:?}: unit {unit:?}"),
        };
        total += number * scale;
        rest = tail;
    }
    // Microseconds are plenty for lags and overlaps measured in seconds.
    Ok(chrono::Duration::microseconds((total * 1e6).round() as i64))
}

/// For each BackupSession named in the daemon's log, the time of the first line about
/// it: when the daemon had created it, persisted it and announced its first step.
pub fn first_mentions(log: &str) -> BTreeMap<String, DateTime<Utc>> {
    let needle = format!("BackupSession {NS}/");
    let mut out = BTreeMap::new();
    for line in log.lines() {
        let Some(at) = line.find(&needle) else {
            continue;
        };
        let Some(time) = line
            .split_whitespace()
            .next()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        else {
            continue;
        };
        let name: String = line[at + needle.len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
            .collect();
        out.entry(name).or_insert(time.with_timezone(&Utc));
    }
    out
}

/// The `p`-th percentile (0..=100, nearest rank) of `values`, sorted in place.
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// A `VmHWM`-style field of `/proc/PID/status`, in KiB.
pub fn proc_status_kib(pid: u32, field: &str) -> Result<u64> {
    let path = Path::new("/proc").join(pid.to_string()).join("status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("{field} not in {}", path.display()))
}

/// Starts `cairn run -f SETS --state STATE EXTRA...` as a daemon, output to `<dir>/<log>`
/// (`Local::spawn_daemon` with extra flags).
pub fn spawn_daemon_with(
    local: &crate::local_support::Local,
    state: &str,
    sets: &[&Path],
    log: &str,
    extra: &[&str],
) -> Result<Daemon> {
    let mut args = vec!["run".to_owned()];
    for s in sets {
        args.extend(["-f".to_owned(), s.display().to_string()]);
    }
    args.extend([
        "--state".to_owned(),
        local.path(state).display().to_string(),
    ]);
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = std::fs::File::create(local.path(log))?;
    let mut cmd = local.cairn.command(&refs);
    cmd.stdin(std::process::Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    Ok(Daemon(cmd.spawn().context("cannot start cairn run")?))
}

/// A `cairn run` daemon stopped (SIGTERM, bounded) when dropped, so a failing
/// assertion never leaves it running.
pub struct Daemon(pub std::process::Child);

impl Daemon {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Stops it; whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        crate::local_support::stop(&mut self.0)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_and_percentiles_read_as_expected() {
        assert_eq!(go_duration("1.5s").unwrap().num_milliseconds(), 1500);
        assert_eq!(go_duration("2m3.25s").unwrap().num_milliseconds(), 123_250);
        assert_eq!(go_duration("350ms").unwrap().num_milliseconds(), 350);
        assert_eq!(go_duration("0s").unwrap().num_milliseconds(), 0);
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&mut v, 50.0), 3.0);
        assert_eq!(percentile(&mut v, 99.0), 5.0);
    }

    #[test]
    fn first_mention_of_a_session_in_the_log_is_kept() {
        let log = "2026-01-01T00:00:01.500000Z  INFO object=BackupSession demo/bc-full-10 reason=BackupSessionRunning x\n\
                   2026-01-01T00:00:09.000000Z  INFO object=BackupSession demo/bc-full-10 reason=BackupSessionSucceeded y\n";
        let m = first_mentions(log);
        assert_eq!(m["bc-full-10"].timestamp_millis(), 1_767_225_601_500);
    }
}
