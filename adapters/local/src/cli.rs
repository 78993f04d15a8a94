//! Arguments and entry points of the local-mode commands (`run`, `get`, `describe`, `apply`, `delete`, `trigger`, `exec`).

use clap::{Args, ValueEnum};
use std::path::PathBuf;

use crate::executor_job::JobMode;
use crate::run::{current_exe, RunOptions};
use crate::runtime::{Exit, LoopOptions};

/// Arguments of `cairn run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Manifest files or directories (multi-document YAML).
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,
    /// State directory.
    #[arg(long, default_value = ".cairn")]
    pub state: PathBuf,
    /// Run until every triggered session is terminal, then exit (non-zero if any failed).
    #[arg(long)]
    pub once: bool,
    /// How executor jobs run: tasks inside the daemon, or `cairn exec` subprocesses.
    #[arg(long, value_enum, default_value_t = ExecutorArg::InProcess)]
    pub executor: ExecutorArg,
    /// Most executor jobs running at once (default: one per CPU); later ones wait.
    #[arg(long)]
    pub max_jobs: Option<usize>,
    /// With --once: give up after this many seconds without progress.
    #[arg(long, default_value_t = 120)]
    pub stall_timeout: u64,
}

/// How `cairn run` runs executor jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExecutorArg {
    /// A task inside the daemon.
    InProcess,
    /// One `cairn exec` process per job (as a Kubernetes Job would).
    Subprocess,
}

/// Runs `cairn run`.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let mode = match args.executor {
        ExecutorArg::InProcess => JobMode::InProcess,
        ExecutorArg::Subprocess => current_exe(&args.state),
    };
    let options = RunOptions {
        files: args.files,
        state: args.state,
        once: args.once,
        mode,
        max_jobs: args.max_jobs,
        loop_options: LoopOptions {
            once: args.once,
            stall_after: std::time::Duration::from_secs(args.stall_timeout),
        },
    };
    match crate::run::run(options).await? {
        Exit::Done { failed } if failed.is_empty() => Ok(()),
        Exit::Done { failed } => anyhow::bail!(
            "{} session(s) failed: {}; see `cairn describe` for the reasons",
            failed.len(),
            failed.join(", ")
        ),
        Exit::Stopped => Ok(()),
        Exit::Stalled { waiting } => anyhow::bail!(
            "no progress for the stall timeout; still waiting for: {}",
            waiting.join("; ")
        ),
    }
}

/// Runs `cairn exec` for the job `key` recorded in the state directory `state`.
pub async fn exec(state: &std::path::Path, key: cairn_core::job::JobKey) -> anyhow::Result<()> {
    crate::exec_cmd::exec(state, key).await
}

/// Runs `cairn trigger` on the state directory `state`.
pub fn trigger(
    state: &std::path::Path,
    namespace: &str,
    configuration: &str,
    sessions: &[String],
) -> anyhow::Result<()> {
    crate::trigger::trigger(state, namespace, configuration, sessions)
}

/// Arguments of `cairn get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// Kind: name, plural, singular or short name (`bc`, `repo`), case-insensitive.
    pub kind: String,
    /// One object (`name` or `namespace/name`); all when absent.
    pub name: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = crate::get::OutputFormat::Table)]
    pub output: crate::get::OutputFormat,
    /// Only this namespace (default: every namespace).
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// State directory.
    #[arg(long, default_value = ".cairn")]
    pub state: PathBuf,
}

/// Runs `cairn get`.
pub fn get(args: GetArgs) -> anyhow::Result<()> {
    let kind = crate::table_select::resolve_kind(&args.kind)?;
    let state = crate::store::StateDir::open(&args.state)?;
    let query = crate::get::GetQuery {
        kind,
        name: args.name,
        namespace: args.namespace,
        output: args.output,
    };
    print!("{}", crate::get::get(&state, &query, crate::clock::now())?);
    Ok(())
}

/// Arguments of `cairn describe`.
#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// Kind: name, plural, singular or short name, case-insensitive.
    pub kind: String,
    /// The object (`name` or `namespace/name`).
    pub name: String,
    /// Namespace of the object (needed only when the name exists in several).
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// State directory.
    #[arg(long, default_value = ".cairn")]
    pub state: PathBuf,
}

/// Runs `cairn describe`.
pub fn describe(args: DescribeArgs) -> anyhow::Result<()> {
    let kind = crate::table_select::resolve_kind(&args.kind)?;
    let state = crate::store::StateDir::open(&args.state)?;
    let text = crate::describe::describe(
        &state,
        kind,
        &args.name,
        args.namespace.as_deref(),
        crate::clock::now(),
    )?;
    print!("{text}");
    Ok(())
}

/// Arguments of `cairn apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Manifest files or directories (multi-document YAML).
    #[arg(short = 'f', long = "filename", required = true)]
    pub files: Vec<PathBuf>,
    /// State directory.
    #[arg(long, default_value = ".cairn")]
    pub state: PathBuf,
}

/// Runs `cairn apply`.
pub fn apply(args: ApplyArgs) -> anyhow::Result<()> {
    let mut state = crate::store::StateDir::open(&args.state)?;
    let outcome = crate::apply::apply(&mut state, &args.files, crate::clock::now())?;
    for line in outcome.lines {
        println!("{line}");
    }
    Ok(())
}

/// Arguments of `cairn delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Kind: name, plural, singular or short name, case-insensitive.
    pub kind: String,
    /// The object (`name` or `namespace/name`).
    pub name: String,
    /// Namespace of the object (needed only when the name exists in several).
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// State directory.
    #[arg(long, default_value = ".cairn")]
    pub state: PathBuf,
}

/// Runs `cairn delete`.
pub fn delete(args: DeleteArgs) -> anyhow::Result<()> {
    let kind = crate::table_select::resolve_kind(&args.kind)?;
    let mut state = crate::store::StateDir::open(&args.state)?;
    let outcome = crate::delete::delete(
        &mut state,
        kind,
        &args.name,
        args.namespace.as_deref(),
        crate::clock::now(),
    )?;
    println!("{}", outcome.line);
    Ok(())
}
