//! Test harness for Cairn end-to-end tests: real servers on loopback.
//!
//! [`MariaDb`] starts a private MariaDB (standing in for SingleStore), [`S3Server`] a moto S3
//! server, [`Restic`] drives the `restic` CLI that checks our repositories from outside; both
//! servers can also speak TLS with certificates of a [`TestCa`]. Every server listens on
//! 127.0.0.1 only, every subprocess wait is bounded, and dropping a handle stops its server. Missing tools are installed with apt when running as root.

mod mariadb;
pub mod process;
mod restic;
mod s3;
pub mod tls;

pub use mariadb::MariaDb;
pub use restic::Restic;
pub use s3::S3Server;
pub use tls::{CertPair, TestCa};

use anyhow::{Context, Result};
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// A TCP port on 127.0.0.1 that was free a moment ago (callers retry on a rare collision).
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port")?;
    Ok(l.local_addr()?.port())
}

/// The Cargo workspace root (the directory holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// `n` random bytes from the OS, hex-encoded (for passwords and unique names).
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    if filled.is_err() {
        // No /dev/urandom is unheard of on Linux; fall back to std's randomly seeded hasher.
        use std::hash::{BuildHasher, Hasher};
        for (i, b) in buf.iter_mut().enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            *b = h.finish().to_le_bytes()[0];
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A scratch directory (removed on drop) for test files, prefixed `cairn-`.
pub fn scratch_dir() -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("cairn-")
        .tempdir()
        .context("cannot create a temp dir")
}

/// Writes `password` to a 0600 file `name` in `dir` and returns its path (for `--password-file`).
pub fn write_secret(dir: &Path, name: &str, password: &str) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, password).with_context(|| format!("cannot write {}", p.display()))?;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
    Ok(p)
}
