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
    let (file, staged) = stage_unsynced(target, bytes, private)?;
    file.sync_all()?;
    Ok(staged)
}

/// [`stage`] without the sync: the open temporary file, for the caller to sync.
fn stage_unsynced(target: &Path, bytes: &[u8], private: bool) -> io::Result<(File, Staged)> {
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
    Ok((
        file,
        Staged {
            temp,
            target: target.to_owned(),
        },
    ))
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

/// Most threads syncing files of one batch at once.
const SYNC_THREADS: usize = 8;

/// Writes every `(target, bytes, private)` like [`write_atomic`], but syncs the files
/// together and each directory once. A daemon turn that changes hundreds of files
/// otherwise waits for hundreds of sequential fsync pairs (seconds on a busy disk,
/// during which schedules fire late); concurrent fsyncs share journal commits. On
/// error, the target that failed. Each target is still either old or new after a
/// crash; which of them were replaced is unknown until the call returns.
pub fn write_all_atomic(files: &[(PathBuf, &[u8], bool)]) -> Result<(), (PathBuf, io::Error)> {
    let mut staged = Vec::with_capacity(files.len());
    for (target, bytes, private) in files {
        let (file, staged_one) =
            stage_unsynced(target, bytes, *private).map_err(|e| (target.clone(), e))?;
        staged.push((file, staged_one));
    }
    let chunk = staged.len().div_ceil(SYNC_THREADS).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = staged
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    for (file, s) in part {
                        file.sync_all().map_err(|e| (s.target.clone(), e))?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })?;
    let mut dirs = std::collections::BTreeSet::new();
    for (_, s) in staged {
        fs::rename(&s.temp, &s.target).map_err(|e| (s.target.clone(), e))?;
        dirs.insert(s.target.parent().unwrap_or(Path::new(".")).to_owned());
    }
    for dir in dirs {
        sync_dir(&dir).map_err(|e| (dir.clone(), e))?;
    }
    Ok(())
}

/// Removes every target (if present), then syncs each directory once.
pub fn remove_all_durably(targets: &[PathBuf]) -> Result<(), (PathBuf, io::Error)> {
    let mut dirs = std::collections::BTreeSet::new();
    for target in targets {
        match fs::remove_file(target) {
            Ok(()) => {
                dirs.insert(target.parent().unwrap_or(Path::new(".")).to_owned());
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err((target.clone(), e)),
        }
    }
    for dir in dirs {
        sync_dir(&dir).map_err(|e| (dir.clone(), e))?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_lands_whole_with_modes_and_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let owned: Vec<(PathBuf, Vec<u8>, bool)> = (0..20)
            .map(|i| {
                let sub = if i % 2 == 0 { "a" } else { "b/c" };
                let path = dir.path().join(sub).join(format!("f{i}.yaml"));
                (path, format!("n: {i}\n").into_bytes(), i == 3)
            })
            .collect();
        let files: Vec<(PathBuf, &[u8], bool)> = owned
            .iter()
            .map(|(p, b, private)| (p.clone(), b.as_slice(), *private))
            .collect();
        write_all_atomic(&files).unwrap();
        for (path, bytes, private) in &owned {
            assert_eq!(&fs::read(path).unwrap(), bytes);
            let mode = fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, if *private { PRIVATE_MODE } else { PUBLIC_MODE });
        }
        for sub in ["a", "b/c"] {
            let names: Vec<String> = fs::read_dir(dir.path().join(sub))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert!(names.iter().all(|n| !is_temp(n)), "{names:?}");
        }
        let targets: Vec<PathBuf> = owned.iter().map(|(p, ..)| p.clone()).collect();
        remove_all_durably(&targets).unwrap();
        assert!(targets.iter().all(|p| !p.exists()));
        // Removing what is already gone is fine.
        remove_all_durably(&targets).unwrap();
    }

    #[test]
    fn a_failing_batch_names_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        fs::write(&blocker, "x").unwrap();
        let bad = blocker.join("f.yaml");
        let good = dir.path().join("ok.yaml");
        let files = [(good, &b"ok"[..], false), (bad.clone(), &b"no"[..], false)];
        let (path, _) = write_all_atomic(&files).unwrap_err();
        assert_eq!(path, bad);
    }
}
