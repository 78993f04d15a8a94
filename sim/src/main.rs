//! `cairn-sim --seed N --steps M`: one deterministic simulation run. The same seed and
//! steps print the same output hash on every machine.

use std::process::ExitCode;

use cairn_sim::driver::Simulation;
use clap::Parser;

/// Deterministic simulation of Cairn's core.
#[derive(Parser, Debug)]
#[command(name = "cairn-sim")]
struct Args {
    /// Seed (decimal or 0x-hex); a random one from the OS clock when omitted.
    #[arg(long, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Steps to run (the last quarter without faults).
    #[arg(long, default_value_t = 2000)]
    steps: u64,
}

fn parse_seed(s: &str) -> Result<u64, String> {
    let parsed = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|e| format!("invalid seed {s:?}: {e}"))
}

/// A fresh seed; only the binary and the test harness read the OS clock, never a run.
fn fresh_seed() -> u64 {
    #[allow(clippy::disallowed_methods)] // choosing a new seed is the one legitimate use
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    t.as_nanos() as u64
}

fn main() -> ExitCode {
    let args = Args::parse();
    let seed = args.seed.unwrap_or_else(fresh_seed);
    let sim = Simulation::new(seed);
    println!("seed 0x{seed:016x} steps {}", args.steps);
    println!("fault rates: {:?}", sim.rates());
    println!(
        "scenario: {} namespace(s), {} configuration(s)",
        sim.scenario().namespaces.len(),
        sim.scenario().configurations.len()
    );
    let report = sim.run(args.steps);
    println!(
        "simulated {}h{:02}m",
        report.simulated.num_hours(),
        report.simulated.num_minutes() % 60
    );
    println!("backups finished: {:?}", report.backups);
    println!("restores finished: {:?}", report.restores);
    println!("faults injected: {:?}", report.faults);
    println!("hash 0x{:016x}", report.hash);
    match report.failure {
        None => ExitCode::SUCCESS,
        Some(why) => {
            eprintln!("FAILED seed 0x{seed:016x} at step {}: {why}", report.steps);
            eprintln!(
                "reproduce: cargo run -p cairn-sim -- --seed 0x{seed:016x} --steps {}",
                args.steps
            );
            ExitCode::FAILURE
        }
    }
}
