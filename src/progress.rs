//! Progress reporting: a bar on a terminal, periodic log lines otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A sampled view of a long operation's counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    /// Rows moved so far.
    pub rows: u64,
    /// Bytes moved so far.
    pub bytes: u64,
    /// Work items (tables, chunks) finished.
    pub done: u64,
    /// Work items in all.
    pub total: u64,
}

/// Reports progress until dropped, polling `sample` a few times a second.
pub struct Reporter {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Reporter {
    /// Starts reporting `what` (e.g. "backup"); `quiet` turns reporting off (JSON output).
    pub fn start(
        what: &'static str,
        quiet: bool,
        sample: impl Fn() -> Counters + Send + 'static,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        if quiet {
            return Self { stop, handle: None };
        }
        let flag = stop.clone();
        let terminal = std::io::stderr().is_terminal();
        let handle = std::thread::spawn(move || {
            if terminal {
                draw_bar(what, &flag, &sample)
            } else {
                log_lines(what, &flag, &sample)
            }
        });
        Self {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

fn draw_bar(what: &str, stop: &AtomicBool, sample: &dyn Fn() -> Counters) {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(what.to_string());
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let c = sample();
        bar.set_length(c.total);
        bar.set_position(c.done);
        bar.set_message(describe(c, started.elapsed()));
        std::thread::sleep(Duration::from_millis(200));
    }
    bar.finish_and_clear();
}

fn log_lines(what: &str, stop: &AtomicBool, sample: &dyn Fn() -> Counters) {
    let started = Instant::now();
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        if last.elapsed() >= Duration::from_secs(10) {
            last = Instant::now();
            let c = sample();
            tracing::info!(
                "{what}: {}/{} done, {}",
                c.done,
                c.total,
                describe(c, started.elapsed())
            );
        }
    }
}

/// "1234 rows, 12.0 MiB, 3.2 MiB/s".
pub fn describe(c: Counters, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    format!(
        "{} rows, {:.1} MiB, {:.1} MiB/s",
        c.rows,
        c.bytes as f64 / 1_048_576.0,
        c.bytes as f64 / 1_048_576.0 / secs
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_gives_rows_size_and_speed() {
        let c = Counters {
            rows: 10,
            bytes: 2 * 1_048_576,
            done: 1,
            total: 2,
        };
        assert_eq!(
            describe(c, Duration::from_secs(2)),
            "10 rows, 2.0 MiB, 1.0 MiB/s"
        );
    }
}
