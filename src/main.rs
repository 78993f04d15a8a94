//! The `cairn` command line: direct use of the dump/restore engine and the restic repositories.

mod cli;
mod commands;
mod malloc_arenas;
mod panic_hook;
mod password;
mod progress;
mod repo_access;
mod telemetry;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    malloc_arenas::cap();
    panic_hook::install();
    let cli = cli::Cli::parse();
    telemetry::init(cli.global.verbose, cli.global.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line with the whole cause chain: what failed, on which object, what to do.
            eprintln!("error: {}", format_chain(&err));
            ExitCode::FAILURE
        }
    }
}

/// Joins an error and its causes into one line, skipping causes already contained in their parent.
fn format_chain(err: &anyhow::Error) -> String {
    let mut out = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}
