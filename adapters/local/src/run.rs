//! `cairn run`: load manifests, take the state directory, drive the core until done
//! (`--once`) or stopped.

use std::path::{Path, PathBuf};

use cairn_core::world::World;
use chrono::{DateTime, Utc};
use tracing::{info, warn};

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
        let _lock = self.0.lock().map_err(|e| e.to_string())?;
        let facts = self.0.refresh(world, now).map_err(|e| e.to_string())?;
        step(world);
        self.0.save_world(world).map_err(|e| e.to_string())?;
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
    let executor = Executor::new(base, options.mode.clone());
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
    let exit = runtime.run(stop_requested()).await?;
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
