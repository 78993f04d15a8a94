//! The real clock of the local control plane: the only place local mode reads time for
//! the core (`now` is passed into every reconcile), and bounded sleeps until the
//! core's next wakeup.
//!
//! Test hook: when `CAIRN_CLOCK_OFFSET_FILE` names a file, its content (a signed number
//! of seconds) is added to the system time on every reading, so a test can jump a
//! running daemon's clock forward or back (as an NTP step or a resumed VM would)
//! without touching the machine's clock. A missing or empty file means no offset.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::warn;

/// Longest single sleep: wakes up at least this often to notice wall-clock jumps and
/// changes other commands (`cairn apply`, `cairn trigger`) made to the state directory.
pub const MAX_SLEEP: Duration = Duration::from_secs(2);

/// Environment variable naming the clock offset file (see the module docs).
pub const OFFSET_FILE_ENV: &str = "CAIRN_CLOCK_OFFSET_FILE";

/// Now, as the core receives it.
pub fn now() -> DateTime<Utc> {
    shifted(Utc::now(), offset_file())
}

/// The offset file, read from the environment once per process.
fn offset_file() -> Option<&'static Path> {
    static FILE: OnceLock<Option<PathBuf>> = OnceLock::new();
    FILE.get_or_init(|| std::env::var_os(OFFSET_FILE_ENV).map(PathBuf::from))
        .as_deref()
}

/// `system` plus the offset `file` holds (unchanged without a file, or when the file
/// is missing, empty or not a whole number of seconds within ±100 years).
pub fn shifted(system: DateTime<Utc>, file: Option<&Path>) -> DateTime<Utc> {
    let Some(file) = file else { return system };
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return system,
        Err(e) => {
            warn_once(&format!("cannot read {}: {e}", file.display()));
            return system;
        }
    };
    match parse_offset(&text) {
        Ok(offset) => system.checked_add_signed(offset).unwrap_or(system),
        Err(why) => {
            warn_once(&format!("{}: {why}", file.display()));
            system
        }
    }
}

/// Seconds as the offset file holds them: optional sign, digits, surrounding blanks.
fn parse_offset(text: &str) -> Result<chrono::Duration, String> {
    const LIMIT: i64 = 100 * 366 * 24 * 3600;
    let text = text.trim();
    if text.is_empty() {
        return Ok(chrono::Duration::zero());
    }
    match text.parse::<i64>() {
        Ok(s) if s.abs() <= LIMIT => Ok(chrono::Duration::seconds(s)),
        _ => Err(format!(
            "{OFFSET_FILE_ENV} holds {text:?}, expected whole seconds such as 3600 or -3600; ignored"
        )),
    }
}

/// A bad offset file is reported once, not on every tick.
fn warn_once(message: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        warn!("{message}");
    }
}

/// How long to sleep before `at` (capped at [`MAX_SLEEP`]; zero when due).
pub fn until(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Duration {
    match at {
        Some(at) => (at - now).to_std().unwrap_or(Duration::ZERO).min(MAX_SLEEP),
        None => MAX_SLEEP,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_are_capped_and_never_negative() {
        let now = Utc::now();
        assert_eq!(until(None, now), MAX_SLEEP);
        assert_eq!(
            until(Some(now - chrono::Duration::seconds(5)), now),
            Duration::ZERO
        );
        assert_eq!(
            until(Some(now + chrono::Duration::milliseconds(300)), now),
            Duration::from_millis(300)
        );
        assert_eq!(
            until(Some(now + chrono::Duration::hours(1)), now),
            MAX_SLEEP
        );
    }

    #[test]
    fn the_offset_file_shifts_the_clock_each_time_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("offset");
        let system = Utc::now();
        // No file configured, or configured but absent: the system time.
        assert_eq!(shifted(system, None), system);
        assert_eq!(shifted(system, Some(&file)), system);
        std::fs::write(&file, "3600\n").unwrap();
        assert_eq!(
            shifted(system, Some(&file)),
            system + chrono::Duration::hours(1)
        );
        // Rewritten while running: the next reading jumps back.
        std::fs::write(&file, " -3600 ").unwrap();
        assert_eq!(
            shifted(system, Some(&file)),
            system - chrono::Duration::hours(1)
        );
        std::fs::write(&file, "").unwrap();
        assert_eq!(shifted(system, Some(&file)), system);
    }

    #[test]
    fn a_bad_offset_is_ignored_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("offset");
        let system = Utc::now();
        for bad in [
            "1h",
            "1.5",
            "99999999999999999999",
            "9223372036854775807",
            "x",
        ] {
            std::fs::write(&file, bad).unwrap();
            assert_eq!(shifted(system, Some(&file)), system, "{bad}");
        }
        assert!(parse_offset("1h")
            .unwrap_err()
            .contains("CAIRN_CLOCK_OFFSET_FILE"));
    }
}
