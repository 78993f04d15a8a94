//! One module per `cairn` command.

mod backup;
mod check;
mod db_target;
mod forget;
mod init;
mod restore;
mod snapshots;
mod unlock;

use crate::cli::{Cli, Command, ExecCommand, Plane, TriggerCommand};
use anyhow::Result;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(args) => init::run(args).await,
        Command::Backup(args) => backup::run(args).await,
        Command::Restore(args) => restore::run(args).await,
        Command::Snapshots(args) => snapshots::run(args).await,
        Command::Check(args) => check::run(args).await,
        Command::Forget(args) => forget::run(args).await,
        Command::Unlock(args) => unlock::run(args).await,
        Command::Run(args) => cairn_local::cli::run(args).await,
        Command::Operator(args) => cairn_kube::cli::run(args).await,
        Command::Exec(args) => exec(args).await,
        Command::Trigger(args) => trigger(args).await,
        Command::Get(args) => cairn_local::cli::get(args),
        Command::Describe(args) => cairn_local::cli::describe(args),
        Command::Apply(args) => cairn_local::cli::apply(args),
        Command::Delete(args) => cairn_local::cli::delete(args),
        Command::Crds => {
            print!("{}", cairn_core::crd::crds_yaml());
            Ok(())
        }
    }
}

/// `cairn exec`: the job from the state directory, or from the cluster in a pod.
async fn exec(args: ExecCommand) -> Result<()> {
    match Plane::of(args.state.as_ref()) {
        Plane::Local(state) => cairn_local::cli::exec(&state, args.job.key()?).await,
        Plane::Cluster => cairn_kube::exec::run_exec(args.job).await,
    }
}

/// `cairn trigger`: sessions in the state directory, or in the cluster in a pod.
async fn trigger(args: TriggerCommand) -> Result<()> {
    match Plane::of(args.state.as_ref()) {
        Plane::Local(state) => cairn_local::cli::trigger(
            &state,
            &args.namespace,
            &args.backupconfiguration,
            &args.session,
        ),
        Plane::Cluster => {
            cairn_kube::cli::run_trigger(&args.namespace, &args.backupconfiguration, &args.session)
                .await
        }
    }
}

/// Prints a JSON value on stdout as one line.
fn print_json(value: &serde_json::Value) {
    println!("{value}");
}
