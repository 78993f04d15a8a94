//! Hooks in local mode: a HookTemplate's `exec` action runs as a local command (there
//! is no pod to exec into), with the hook's timeout and retries. Other actions
//! (`httpGet`, `httpPost`, `tcpSocket`) are reported as unsupported.

use std::time::Duration;

use cairn_core::api::HookTemplate;
use cairn_core::plan::GoDuration;
use cairn_core::world::{HookOutcome, HookSpec};
use serde_json::Value;
use tokio::process::Command;
use tracing::{debug, info, warn};

/// Longest a hook may run when it sets no timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The command of a template's `exec` action, or why there is none.
pub fn exec_command(template: &HookTemplate) -> Result<Vec<String>, String> {
    let action = template
        .spec
        .action
        .as_ref()
        .ok_or("the HookTemplate has no action")?;
    let command: Vec<String> = action
        .get("exec")
        .and_then(|e| e.get("command"))
        .and_then(Value::as_array)
        .ok_or("only exec actions run in local mode (httpGet, httpPost and tcpSocket are not supported)")?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if command.is_empty() {
        return Err("the exec action's command is empty".into());
    }
    Ok(command)
}

/// Runs `command` up to `1 + max_retry` times; the outcome and a message without the
/// command's output (it may print anything, secrets included; it is logged at debug).
pub async fn run_hook(spec: &HookSpec, command: Vec<String>) -> (HookOutcome, String) {
    let timeout = spec
        .timeout
        .as_deref()
        .and_then(|t| GoDuration::parse(t).ok())
        .and_then(GoDuration::to_std)
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_TIMEOUT);
    let attempts = u32::try_from(spec.max_retry.max(0))
        .unwrap_or(0)
        .saturating_add(1);
    let mut last = String::new();
    for attempt in 1..=attempts {
        match run_once(&command, timeout).await {
            Ok(()) => {
                info!(hook = %spec.key.name, session = %spec.key.session, "hook succeeded");
                return (HookOutcome::Succeeded, String::new());
            }
            Err(why) => {
                warn!(hook = %spec.key.name, session = %spec.key.session, attempt, "hook failed: {why}");
                last = why;
            }
        }
    }
    let message = format!(
        "hook {} of {} failed after {attempts} attempt(s): {last}",
        spec.key.name, spec.key.session
    );
    (HookOutcome::Failed, message)
}

async fn run_once(command: &[String], timeout: Duration) -> Result<(), String> {
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..]).kill_on_drop(true);
    let output = tokio::time::timeout(timeout, cmd.output())
        .await
        .map_err(|_| format!("{} timed out after {timeout:?}", command[0]))?
        .map_err(|e| format!("cannot run {}: {e}", command[0]))?;
    debug!(
        command = %command[0],
        stdout = %String::from_utf8_lossy(&output.stdout),
        stderr = %String::from_utf8_lossy(&output.stderr),
        "hook output"
    );
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{} exited with {}", command[0], output.status))
    }
}
