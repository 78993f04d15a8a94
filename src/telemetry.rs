//! Log output: tracing to stderr, text or JSON.

use crate::cli::LogFormat;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; RUST_LOG wins over `-v`.
pub fn init(verbose: u8, format: LogFormat) {
    let default = match verbose {
        0 => "warn,cairn=info,cairn_db=info,cairn_storage=info",
        1 => "info,cairn=debug,cairn_db=debug,cairn_storage=debug",
        _ => "debug,cairn=trace,cairn_db=trace,cairn_storage=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second init (tests) is harmless; ignore the error.
    let _ = match format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
