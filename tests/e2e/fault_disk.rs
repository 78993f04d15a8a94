//! The local backend's disk full: the BackupStorage directory is a small tmpfs that a
//! filler file has almost filled. The backup fails saying the device has no space, no
//! snapshot is listed, and once the filler is deleted the next backup and a restore work.
//! Needs root (mount); elsewhere the test is skipped with the reason printed.

use crate::fault_support::*;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted for the test; unmounted when dropped (even when the test fails).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `mib` MiB on a fresh directory.
    fn mount(mib: u32) -> Result<Tmpfs> {
        let dir = tempfile::Builder::new().prefix("cairn-tmpfs-").tempdir()?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .context("cannot run mount")?;
        if !out.status.success() {
            bail!("{}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a process still holding a file there must not keep the mount forever.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the file system of `dir` with `<dir>/filler` until only about `leave` bytes are free.
fn fill(dir: &Path, leave: u64) -> Result<PathBuf> {
    let filler = dir.join("filler");
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()?;
    let avail: u64 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .context("cannot read the free space from df")?;
    std::fs::write(&filler, vec![0u8; avail.saturating_sub(leave) as usize])?;
    Ok(filler)
}

#[test]
fn fault_disk_full_backend_fails_the_backup_saying_so_and_recovers_when_freed() -> Result<()> {
    let disk = match Tmpfs::mount(20) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("SKIPPED fault_disk: cannot mount a tmpfs here ({e:#}); needs root");
            return Ok(());
        }
    };
    let backups = disk.path().join("backups");
    std::fs::create_dir_all(&backups)?;
    // 100k rows: megabytes of packs, far more than the 256 KiB left.
    let env = Env::new(Options {
        rows: 100_000,
        backups: Some(backups.clone()),
        ..Options::default()
    })?;
    let filler = fill(disk.path(), 256 * 1024)?;

    let mut daemon = env.daemon(&[])?;
    env.wait("the backup to fail", || {
        Ok(!env.in_phase("snapshots", "Failed").is_empty())
    })?;
    assert!(daemon.stop(), "{}", env.logs());
    let snapshot = &env.in_phase("snapshots", "Failed")[0];
    let error = component_error(snapshot);
    assert!(
        error.contains("No space left on device")
            && error.contains("free space")
            && error.contains(&backups.display().to_string()),
        "the message says which backend is full and what to do: {error}"
    );
    assert_eq!(env.in_phase("backupsessions", "Failed").len(), 1);
    assert_eq!(env.restic_snapshots()?, 0, "no partial snapshot is listed");

    // Space is freed: the next backup and a restore work.
    std::fs::remove_file(&filler)?;
    env.assert_recovered()
}
