//! `cairn-sim --seed N --steps M`: one deterministic simulation run. The same seed and
//! steps print the same output hash on every machine.

use std::process::ExitCode;

use cairn_sim::driver::Simulation;
use cairn_sim::model::{CairnModel, ModelConfig};
use cairn_sim::model_state::Budgets;
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
    /// Model-check the bounded model instead (progress printed every second).
    #[arg(long)]
    model: bool,
    /// With --model: stop after this many states (to measure speed).
    #[arg(long)]
    max_states: Option<usize>,
    /// With --model: repositories of the session.
    #[arg(long, default_value_t = 1)]
    repositories: usize,
    /// With --model: storage/job fault budget per path.
    #[arg(long, default_value_t = 1)]
    faults: u8,
    /// With --model: controller restarts per path.
    #[arg(long, default_value_t = 1)]
    restarts: u8,
    /// With --model: fact redeliveries per path.
    #[arg(long, default_value_t = 1)]
    redeliveries: u8,
    /// With --model: no RestoreSession.
    #[arg(long)]
    no_restore: bool,
    /// With --model: the user may pause and delete the configuration.
    #[arg(long)]
    edits: bool,
    /// With --model: minutes of virtual time after which the clock stops.
    #[arg(long, default_value_t = 120)]
    horizon_min: i64,
}

impl Args {
    fn model_config(&self) -> ModelConfig {
        ModelConfig {
            repositories: self.repositories,
            restore: !self.no_restore,
            edits: self.edits,
            horizon: chrono::Duration::minutes(self.horizon_min) - chrono::Duration::seconds(1),
            budgets: Budgets {
                faults: self.faults,
                restarts: self.restarts,
                redeliveries: self.redeliveries,
            },
            ..ModelConfig::default()
        }
    }
}

/// Runs the model checker with progress output; fails if a property fails.
fn model_check(config: ModelConfig, max_states: Option<usize>) -> ExitCode {
    use stateright::{Checker, Model};
    println!("model bounds: {config:?}");
    let mut builder = CairnModel::new(config).checker().threads(2);
    if let Some(n) = max_states {
        builder = builder.target_state_count(n);
    }
    let mut stdout = std::io::stdout();
    let checker = builder
        .spawn_bfs()
        .report(&mut stateright::report::WriteReporter::new(&mut stdout));
    for (name, path) in checker.discoveries() {
        let last = path.last_state().clone();
        println!("discovery {name:?}: {}", story(&path.into_actions(), &last));
    }
    if checker.is_done() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
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

/// A discovery as a numbered story, with what broke (or what was left unfinished).
fn story(
    actions: &[cairn_sim::action::Action],
    last: &cairn_sim::model_state::ModelState,
) -> String {
    let mut out = String::new();
    for (i, action) in actions.iter().enumerate() {
        out.push_str(&format!("\n  {}. {action:?}", i + 1));
    }
    if let Some(broken) = &last.broken {
        out.push_str(&format!("\n  => {}", broken.detail));
    }
    for line in cairn_sim::model::session_summary(&last.world) {
        out.push_str(&format!("\n  -- {line}"));
    }
    out
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.model {
        return model_check(args.model_config(), args.max_states);
    }
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
