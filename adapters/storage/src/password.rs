//! The repository password, read the way restic reads it, and never printed.

use crate::error::{Error, Result};
use crate::secret::Secret;

/// A restic repository password (redacted in `Debug`).
#[derive(Debug, Clone)]
pub struct Password(Secret);

impl Password {
    /// Wraps a password given directly (e.g. a Kubernetes Secret's `RESTIC_PASSWORD`).
    pub fn new(value: impl Into<String>) -> Self {
        Self(Secret::new(value))
    }

    /// `RESTIC_PASSWORD`, else the file named by `RESTIC_PASSWORD_FILE`.
    pub fn from_env() -> Result<Self> {
        if let Ok(p) = std::env::var("RESTIC_PASSWORD") {
            if !p.is_empty() {
                return Ok(Self::new(p));
            }
        }
        match std::env::var("RESTIC_PASSWORD_FILE") {
            Ok(path) if !path.is_empty() => Self::from_file(&path),
            _ => Err(Error::PasswordMissing),
        }
    }

    /// Reads a password file; surrounding whitespace (the trailing newline) is dropped, as restic does.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::PasswordFile {
            path: path.display().to_string(),
            source,
        })?;
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(Error::PasswordFile {
                path: path.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, "the file is empty"),
            });
        }
        Ok(Self::new(trimmed))
    }

    /// The password itself; never log it.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_password_is_trimmed_and_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "s3cret\n").unwrap();
        let p = Password::from_file(&f).unwrap();
        assert_eq!(p.expose(), "s3cret");
        assert!(!format!("{p:?}").contains("s3cret"));
        std::fs::write(&f, "\n").unwrap();
        assert!(Password::from_file(&f)
            .unwrap_err()
            .to_string()
            .contains("empty"));
        let missing = Password::from_file(dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("cannot read password file"), "{missing}");
    }
}
