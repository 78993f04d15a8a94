//! Crash-safe file writes: write a temporary file next to the target, fsync it, rename
//! it over the target, fsync the directory. A crash at any point leaves either the old
//! or the new file, never a torn one; a leftover temporary file is removed on open.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Prefix of temporary files (hidden, so loaders skip them).
pub const TEMP_PREFIX: &str = ".tmp-";

/// Mode of files holding secret values.
pub const PRIVATE_MODE: u32 = 0o600;
/// Mode of other state files.
pub const PUBLIC_MODE: u32 = 0o644;

/// A written and synced temporary file, not yet in place.
#[derive(Debug)]
pub struct Staged {
    temp: PathBuf,
    target: PathBuf,
}

/// Writes `bytes` to a temporary file beside `target` with the right mode and syncs
/// it; [`Staged::commit`] then puts it in place. Parent directories are created.
pub fn stage(target: &Path, bytes: &[u8], private: bool) -> io::Result<Staged> {
    let dir = target.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let temp = dir.join(format!("{TEMP_PREFIX}{name}.{}", std::process::id()));
    let mode = if private { PRIVATE_MODE } else { PUBLIC_MODE };
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&temp)?;
    // `mode` only applies on creation; a stale temp file may have had another one.
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(Staged {
        temp,
        target: target.to_owned(),
    })
}

impl Staged {
    /// Renames the temporary file over the target and syncs the directory.
    pub fn commit(self) -> io::Result<()> {
        fs::rename(&self.temp, &self.target)?;
        sync_dir(self.target.parent().unwrap_or(Path::new(".")))
    }

    /// The temporary file's path.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }
}

/// Writes `bytes` to `target` atomically (see the module docs).
pub fn write_atomic(target: &Path, bytes: &[u8], private: bool) -> io::Result<()> {
    stage(target, bytes, private)?.commit()
}

/// Removes `target` (if present) and syncs its directory.
pub fn remove_durably(target: &Path) -> io::Result<()> {
    match fs::remove_file(target) {
        Ok(()) => sync_dir(target.parent().unwrap_or(Path::new("."))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Fsyncs a directory so a rename or removal in it survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Whether a file name is a temporary file of this module.
pub fn is_temp(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}
