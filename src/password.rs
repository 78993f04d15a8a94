//! Where passwords come from: files and environment variables, never the command line.

use anyhow::{Context, Result};
use std::path::Path;

/// Reads a password file, dropping one trailing newline (as restic and mysql clients do).
pub fn read_password_file(path: &Path, what: &str) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} password file {}", path.display()))?;
    let password = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text)
        .to_string();
    // A panic message must never print it (see panic_hook).
    cairn_core::world::secret::remember(&password);
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_newline_is_dropped_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").unwrap();
        assert_eq!(read_password_file(&path, "test").unwrap(), "s3cret");
        std::fs::write(&path, "a b\n\n").unwrap();
        assert_eq!(read_password_file(&path, "test").unwrap(), "a b\n");
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = read_password_file(Path::new("/nonexistent/pw"), "repository").unwrap_err();
        assert!(format!("{err:#}").contains("/nonexistent/pw"));
    }
}
