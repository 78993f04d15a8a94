//! What one simulated run sets up, drawn from its seed: namespaces, BackupConfigurations
//! with their schedules, repositories, retries and timeouts.

use crate::manifests::ConfigurationParams;
use crate::prng::Prng;

/// Schedules a run may draw: intervals, cron lines, descriptors.
const SCHEDULES: [&str; 7] = [
    "@every 1h",
    "*/30 * * * *",
    "0 */2 * * *",
    "@every 6h",
    "@daily",
    "15 3 * * *",
    "@every 45m",
];

/// Backup timeouts a run may draw (some shorter than a slow job, to exercise deadlines).
const TIMEOUTS: [&str; 3] = ["30m", "2h", "10m"];

/// The objects of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// Namespaces, each with its own storage, secrets, retention policy and database.
    pub namespaces: Vec<String>,
    /// BackupConfigurations.
    pub configurations: Vec<ConfigurationParams>,
}

impl Scenario {
    /// Draws a scenario.
    pub fn draw(prng: &mut Prng) -> Self {
        let namespaces: Vec<String> = (0..prng.between(1, 3)).map(|i| format!("ns{i}")).collect();
        let mut configurations = Vec::new();
        for ns in &namespaces {
            for c in 0..prng.between(1, 2) {
                let repos = prng.between(1, 2);
                let schedule = SCHEDULES[prng.index(SCHEDULES.len()).unwrap_or(0)];
                let timeout = TIMEOUTS[prng.index(TIMEOUTS.len()).unwrap_or(0)];
                configurations.push(ConfigurationParams {
                    namespace: ns.clone(),
                    name: format!("backup-{c}"),
                    schedule: schedule.to_owned(),
                    repositories: (0..repos).map(|r| format!("c{c}-repo{r}")).collect(),
                    max_retry: u32::try_from(prng.below(3)).unwrap_or(0),
                    backup_timeout: timeout.to_owned(),
                    paused: false,
                });
            }
        }
        Self {
            namespaces,
            configurations,
        }
    }
}
