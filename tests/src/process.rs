//! Bounded subprocesses, file locks, apt installs and signals.

use anyhow::{anyhow, bail, Context, Result};
use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How often bounded waits poll a child or a condition.
const POLL: Duration = Duration::from_millis(20);

/// Runs `cmd` to completion, feeding `stdin`, killing it after `timeout`; never checks the status.
pub fn run_bounded(cmd: &mut Command, stdin: Option<&[u8]>, timeout: Duration) -> Result<Output> {
    let what = describe(cmd);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start `{what}`: is it installed?"))?;
    // Readers and the writer run on threads so a full pipe can never deadlock the wait below.
    let writer = match (stdin, child.stdin.take()) {
        (Some(input), Some(mut pipe)) => {
            let input = input.to_vec();
            // A child that exits early closes its stdin: the write error is expected, the status tells.
            Some(thread::spawn(move || drop(pipe.write_all(&input))))
        }
        _ => None,
    };
    let out = read_all(child.stdout.take());
    let err = read_all(child.stderr.take());
    let status = wait_bounded(&mut child, timeout);
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    match status {
        Some(status) => Ok(Output {
            status,
            stdout,
            stderr,
        }),
        None => bail!(
            "`{what}` did not finish within {timeout:?} and was killed; stderr: {}",
            String::from_utf8_lossy(&stderr).trim()
        ),
    }
}

/// Like [`run_bounded`], but fails with the command's stderr unless it exits 0.
pub fn run_ok(cmd: &mut Command, stdin: Option<&[u8]>, timeout: Duration) -> Result<Output> {
    let what = describe(cmd);
    let out = run_bounded(cmd, stdin, timeout)?;
    if !out.status.success() {
        bail!(
            "`{what}` failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            tail(&String::from_utf8_lossy(&out.stdout), 2000)
        );
    }
    Ok(out)
}

fn read_all<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

/// Waits for `child` up to `timeout`; on expiry kills it, reaps it and returns `None`.
pub fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Some(st),
            Ok(None) if Instant::now() < deadline => thread::sleep(POLL),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Stops `child`: SIGTERM, up to `grace` to exit, then SIGKILL; always reaps it.
pub fn terminate(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    send_signal(child, Signal::SIGTERM);
    if wait_bounded(child, grace).is_none() {
        eprintln!(
            "cairn-testkit: pid {} ignored SIGTERM for {grace:?}; killed",
            child.id()
        );
    }
}

/// Sends `sig` to `child` (ignores a child that already exited).
pub fn send_signal(child: &Child, sig: Signal) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = kill(Pid::from_raw(pid), sig);
    }
}

/// Polls `cond` until it returns `Ok(true)` or `timeout` passes; `what` names it in the error.
pub fn wait_for(
    what: &str,
    timeout: Duration,
    mut cond: impl FnMut() -> Result<bool>,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let mut last_err = None;
    while Instant::now() < deadline {
        match cond() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => last_err = Some(e),
        }
        thread::sleep(Duration::from_millis(50));
    }
    match last_err {
        Some(e) => Err(e.context(format!("{what}: not ready after {timeout:?}"))),
        None => Err(anyhow!("{what}: not ready after {timeout:?}")),
    }
}

/// An exclusive advisory lock on a file, held until dropped; serialises work across test processes.
pub struct FileLock {
    _lock: Flock<File>,
}

impl FileLock {
    /// Blocks until the lock on `path` (created if missing) is ours.
    pub fn acquire(path: &Path) -> Result<FileLock> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open lock file {}", path.display()))?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| anyhow!("cannot lock {}: {e}", path.display()))?;
        Ok(FileLock { _lock: lock })
    }
}

/// The first of `names` found in PATH, /usr/sbin, /usr/libexec, /usr/local/bin or /usr/bin.
pub fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(
        [
            "/usr/sbin",
            "/usr/libexec",
            "/usr/local/bin",
            "/usr/bin",
            "/sbin",
        ]
        .map(PathBuf::from),
    );
    names
        .iter()
        .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// True when this process runs as root (and may therefore use apt).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Installs Debian `packages` with apt-get (root only), serialised across processes by a lock.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    if !is_root() {
        bail!(
            "{} not installed and not running as root: run `sudo bash scripts/install-deps.sh`",
            packages.join(" ")
        );
    }
    let _lock = FileLock::acquire(&std::env::temp_dir().join("cairn-apt.lock"))?;
    // Keep apt from starting system services (mariadb) while installing; tests start their own.
    let policy = Path::new("/usr/sbin/policy-rc.d");
    let placed_policy = !policy.exists() && write_policy_rc(policy).is_ok();
    let result = apt_install_locked(packages);
    if placed_policy {
        let _ = std::fs::remove_file(policy);
    }
    result
}

fn write_policy_rc(policy: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(policy, "#!/bin/sh\nexit 101\n")?;
    std::fs::set_permissions(policy, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

fn apt_install_locked(packages: &[&str]) -> Result<()> {
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run_ok(&mut cmd, None, Duration::from_secs(900))
    };
    // Package lists are refreshed once per machine boot-ish (marker in the temp dir).
    let marker = std::env::temp_dir().join("cairn-apt-updated");
    if !marker.exists() {
        apt(&["update", "-q"]).context("apt-get update failed")?;
        let _ = std::fs::write(&marker, b"");
    }
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend_from_slice(packages);
    apt(&args).with_context(|| format!("apt-get install {} failed", packages.join(" ")))?;
    Ok(())
}

/// A short human-readable rendering of `cmd` for error messages (program and arguments only).
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// The last `max` bytes of `s` (on a char boundary), prefixed by a newline when non-empty.
pub fn tail(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.is_empty() {
        return String::new();
    }
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("\n{}", &s[start..])
}
