//! Running the `cairn` binary the way a user does: passwords in files and environment, bounded time.

use anyhow::{Context, Result};
use cairn_testkit::process::run_bounded;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// How long one CLI call may take in tests.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(300);

/// A configured `cairn` invocation context.
pub struct Cairn {
    /// The binary.
    pub bin: PathBuf,
    /// Repository password file (RESTIC_PASSWORD_FILE).
    pub password_file: PathBuf,
    /// Database password (MYSQL_PWD).
    pub db_password: String,
    /// Extra environment (S3 credentials).
    pub env: Vec<(String, String)>,
}

/// The outcome of one call.
pub struct Run {
    /// Exit status was success.
    pub ok: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Parses stdout's last line as JSON.
    pub fn json(&self) -> serde_json::Value {
        let line = self.stdout.lines().last().unwrap_or_default();
        serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    /// Panics with the output unless the call succeeded.
    pub fn expect_ok(self, what: &str) -> Self {
        assert!(
            self.ok,
            "{what} failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// The last line of stderr: the one-line error users see.
    pub fn error_line(&self) -> String {
        self.stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_default()
            .to_string()
    }
}

/// The binary under test: `$CAIRN_BIN` if set (a prebuilt one), else the one cargo built for
/// these tests, with the same features, so no second build of the workspace is needed.
pub fn cairn_bin() -> Result<PathBuf> {
    match std::env::var_os("CAIRN_BIN") {
        Some(bin) => {
            let bin = PathBuf::from(bin);
            anyhow::ensure!(
                bin.is_file(),
                "CAIRN_BIN={} does not exist: build it or unset CAIRN_BIN",
                bin.display()
            );
            Ok(bin)
        }
        None => Ok(PathBuf::from(env!("CARGO_BIN_EXE_cairn"))),
    }
}

impl Cairn {
    /// A context whose repository password is `password` (written to a file in `dir`).
    pub fn new(dir: &Path, password: &str, db_password: &str) -> Result<Self> {
        let bin = cairn_bin()?;
        let password_file = cairn_testkit::write_secret(dir, "repo-password", password)?;
        Ok(Self {
            bin,
            password_file,
            db_password: db_password.to_string(),
            env: Vec::new(),
        })
    }

    /// The command with the environment set, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env("RESTIC_PASSWORD_FILE", &self.password_file)
            .env("MYSQL_PWD", &self.db_password)
            .env_remove("RESTIC_PASSWORD")
            .env_remove("RESTIC_REPOSITORY")
            .env(
                "RUST_LOG",
                "warn,cairn=info,cairn_db=info,cairn_storage=info",
            );
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `cairn ARGS` and captures the outcome.
    pub fn run(&self, args: &[&str]) -> Result<Run> {
        let out: Output = run_bounded(&mut self.command(args), None, CLI_TIMEOUT)
            .with_context(|| format!("running cairn {}", args.join(" ")))?;
        Ok(Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}
