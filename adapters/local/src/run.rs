//! `cairn run`: load manifests, take the state directory, drive the core until done
//! (`--once`) or stopped.

use std::path::{Path, PathBuf};

use cairn_core::world::World;
use chrono::{DateTime, Utc};
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

use crate::clock;
use crate::daemon::{stop_requested, StateLock};
use crate::executor::Executor;
use crate::executor_job::JobMode;
use crate::manifest::load_paths;
use crate::runtime::{Exit, LoopOptions, Runtime, StateStore};
use crate::store::{apply_manifests, StateDir};

/// Settings of one `cairn run`.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Manifest files and directories.
    pub files: Vec<PathBuf>,
    /// The state directory.
    pub state: PathBuf,
    /// Exit when every session is terminal.
    pub once: bool,
    /// How executor jobs run.
    pub mode: JobMode,
    /// Most executor jobs at once (`None`: one per CPU).
    pub max_jobs: Option<usize>,
    /// Loop settings.
    pub loop_options: LoopOptions,
}

/// Why `cairn run` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A manifest is invalid (the message names the file and line).
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
    /// Another daemon owns the state directory.
    #[error(transparent)]
    Lock(#[from] crate::daemon::LockError),
    /// The state directory cannot be read or written.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The loop failed.
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    /// The working directory is unknown (relative backend paths need it).
    #[error("cannot read the current directory: {0}")]
    Cwd(std::io::Error),
}

/// A turn taking this long is logged as a warning with where its time went.
const SLOW_TURN: Duration = Duration::from_secs(1);

/// The state directory as the loop's store: each turn holds the writer lock around
/// refresh → decide → save, so `cairn apply` and `cairn trigger` interleave safely.
struct DirStore(StateDir);

impl StateStore for DirStore {
    fn turn(
        &mut self,
        world: &mut World,
        now: DateTime<Utc>,
        step: &mut dyn FnMut(&mut World),
    ) -> Result<bool, String> {
        let started = Instant::now();
        let _lock = self.0.lock().map_err(|e| e.to_string())?;
        let facts = self.0.refresh(world, now).map_err(|e| e.to_string())?;
        let refreshed = started.elapsed();
        step(world);
        let decided = started.elapsed();
        let saved = self.0.save_world(world).map_err(|e| e.to_string())?;
        let took = started.elapsed();
        // Schedules fire late when turns are slow: say where the time went.
        let level_warn = took >= SLOW_TURN;
        if level_warn || tracing::enabled!(tracing::Level::DEBUG) {
            let (refresh_ms, decide_ms, save_ms) = (
                refreshed.as_millis(),
                (decided - refreshed).as_millis(),
                (took - decided).as_millis(),
            );
            let written = saved.written.len() + saved.removed.len();
            if level_warn {
                warn!(
                    refresh_ms,
                    decide_ms, save_ms, written, "slow control loop turn"
                );
            } else {
                debug!(refresh_ms, decide_ms, save_ms, written, "turn");
            }
        }
        Ok(!facts.is_empty())
    }

    fn save(&mut self, world: &World) -> Result<(), String> {
        let _lock = self.0.lock().map_err(|e| e.to_string())?;
        self.0
            .save_world(world)
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// Runs the control plane; the exit it reached.
pub async fn run(options: RunOptions) -> Result<Exit, RunError> {
    // First: a stop request during start-up must be graceful too.
    let stop = stop_requested();
    let loaded = load_paths(&options.files)?;
    let _daemon = StateLock::acquire(&options.state)?;
    let mut dir = StateDir::open(&options.state)?;
    let now = clock::now();
    let world = {
        let _lock = dir.lock()?;
        dir.reload()?;
        dir.load_world()?
    };
    let base = std::env::current_dir().map_err(RunError::Cwd)?;
    let mut executor = Executor::new(base, options.mode.clone());
    if let Some(limit) = options.max_jobs {
        executor = executor.with_job_limit(limit);
    }
    let loop_options = LoopOptions {
        once: options.once,
        ..options.loop_options.clone()
    };
    let mut runtime = Runtime::new(world, DirStore(dir), executor, loop_options);
    runtime.recover(now);
    let applied = apply_manifests(&mut runtime.world, loaded, now);
    info!(
        state = %options.state.display(),
        changed = applied.len(),
        once = options.once,
        "control plane started"
    );
    let exit = runtime.run(stop).await?;
    match &exit {
        Exit::Done { failed } if failed.is_empty() => info!("every session finished"),
        Exit::Done { failed } => warn!(
            failed = failed.len(),
            "sessions failed: {}",
            failed.join(", ")
        ),
        Exit::Stopped => info!("stopped"),
        Exit::Stalled { waiting } => {
            warn!("no progress; still waiting for: {}", waiting.join("; "))
        }
    }
    Ok(exit)
}

/// The `cairn` binary to run `cairn exec` subprocesses with.
pub fn current_exe(state: &Path) -> JobMode {
    match std::env::current_exe() {
        Ok(exe) => JobMode::Subprocess {
            exe,
            state: state.to_owned(),
        },
        Err(_) => JobMode::InProcess,
    }
}
