//! The `restic` CLI, which checks Cairn's repositories from outside.

use crate::process::{self, run_bounded, run_ok, which};
use anyhow::{anyhow, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// Upper bound for one restic invocation (`check --read-data` of a test repository).
const RESTIC_TIMEOUT: Duration = Duration::from_secs(600);

/// A handle on the `restic` binary plus extra environment (e.g. [`crate::S3Server::env`]).
#[derive(Debug, Clone)]
pub struct Restic {
    bin: PathBuf,
    env: Vec<(String, String)>,
}

impl Restic {
    /// Finds `restic`, installing it with apt when missing and running as root.
    pub fn find() -> Result<Restic> {
        let bin = match which(&["restic"]) {
            Some(b) => b,
            None => {
                process::apt_install(&["restic"])?;
                which(&["restic"])
                    .ok_or_else(|| anyhow!("restic installed but not found in PATH"))?
            }
        };
        Ok(Restic {
            bin,
            env: Vec::new(),
        })
    }

    /// Adds environment variables to every invocation (S3 credentials and endpoint).
    pub fn with_env(mut self, env: impl IntoIterator<Item = (String, String)>) -> Restic {
        self.env.extend(env);
        self
    }

    /// Path of the binary.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(&self.bin);
        // No cache: tests must read what is in the repository, and must not write to $HOME.
        cmd.arg("--no-cache").args(args);
        // Stray RESTIC_* variables from the caller's shell must not change which repository is read.
        for var in [
            "RESTIC_REPOSITORY",
            "RESTIC_PASSWORD",
            "RESTIC_PASSWORD_FILE",
            "RESTIC_PASSWORD_COMMAND",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd.envs(env.iter().copied());
        cmd
    }

    /// Runs `restic --no-cache ARGS` with extra `env`; returns the output whatever the status.
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
        run_bounded(&mut self.command(args, env), None, RESTIC_TIMEOUT)
    }

    /// Runs restic on `repo` with `password_file`, failing with its stderr on a non-zero exit.
    pub fn run_repo(&self, repo: &str, password_file: &Path, args: &[&str]) -> Result<Output> {
        let mut all = vec!["-r", repo, "--password-file"];
        let pf = password_file.to_string_lossy();
        all.push(&pf);
        all.extend_from_slice(args);
        run_ok(&mut self.command(&all, &[]), None, RESTIC_TIMEOUT)
    }

    /// `restic check [--read-data]`; fails (with restic's report) unless the repository is sound.
    pub fn check(&self, repo: &str, password_file: &Path, read_data: bool) -> Result<Output> {
        let args: &[&str] = if read_data {
            &["check", "--read-data"]
        } else {
            &["check"]
        };
        self.run_repo(repo, password_file, args)
            .with_context(|| format!("restic check of {repo} failed"))
    }

    /// `restic snapshots --json`, parsed.
    pub fn snapshots_json(&self, repo: &str, password_file: &Path) -> Result<serde_json::Value> {
        let out = self.run_repo(repo, password_file, &["snapshots", "--json"])?;
        serde_json::from_slice(&out.stdout).context("restic snapshots --json printed invalid JSON")
    }

    /// `restic dump SNAPSHOT PATH`: the file's bytes (`snapshot` may be `latest`).
    pub fn dump(
        &self,
        repo: &str,
        password_file: &Path,
        snapshot: &str,
        path: &str,
    ) -> Result<Vec<u8>> {
        let out = self
            .run_repo(repo, password_file, &["dump", snapshot, path])
            .with_context(|| format!("restic dump {snapshot} {path} failed"))?;
        Ok(out.stdout)
    }

    /// `restic ls --json SNAPSHOT`: the paths in a snapshot.
    pub fn ls(&self, repo: &str, password_file: &Path, snapshot: &str) -> Result<Vec<String>> {
        let out = self.run_repo(repo, password_file, &["ls", "--json", snapshot])?;
        let mut paths = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let v: serde_json::Value =
                serde_json::from_str(line).context("restic ls printed invalid JSON")?;
            if let Some(p) = v.get("path").and_then(|p| p.as_str()) {
                paths.push(p.to_string());
            }
        }
        Ok(paths)
    }

    /// `restic init` (a repository made by restic, for interoperability tests).
    pub fn init(&self, repo: &str, password_file: &Path) -> Result<()> {
        self.run_repo(repo, password_file, &["init"]).map(drop)
    }

    /// `restic backup --stdin --stdin-filename NAME` of `data`; returns the snapshot id.
    pub fn backup_stdin(
        &self,
        repo: &str,
        password_file: &Path,
        name: &str,
        data: &[u8],
    ) -> Result<String> {
        let pf = password_file.to_string_lossy();
        let args = [
            "-r",
            repo,
            "--password-file",
            &pf,
            "backup",
            "--json",
            "--stdin",
            "--stdin-filename",
            name,
        ];
        let out = run_ok(&mut self.command(&args, &[]), Some(data), RESTIC_TIMEOUT)?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find_map(|v| {
                v.get("snapshot_id")
                    .and_then(|s| s.as_str())
                    .map(str::to_string)
            })
            .ok_or_else(|| anyhow!("restic backup printed no snapshot_id"))
    }
}
