//! A HookTemplate's action run from this process's host, with the hook's timeout and
//! retries: the local daemon's hooks, and the operator's hooks of executor type
//! `Operator` (they run in the operator's pod, as KubeStash runs them). Which templates
//! can run where is the core's rule (`cairn_core::reconcile::hook_support`), checked
//! before any session starts.

use std::time::Duration;

use cairn_core::plan::GoDuration;
use cairn_core::reconcile::hook_support::HookAction;
use cairn_core::world::{Fact, HookOutcome, HookSpec};
use tokio::process::Command;
use tracing::{debug, info, warn};

/// Longest a hook may run when it sets no timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs `action` up to `1 + max_retry` times; the outcome and a message without the
/// action's output (a command may print anything, secrets included: it is logged at
/// debug) and without request headers or bodies (they carry webhook tokens).
pub async fn run_hook(spec: &HookSpec, action: HookAction) -> (HookOutcome, String) {
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
        let outcome = match tokio::time::timeout(timeout, run_once(&action)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("{} timed out after {timeout:?}", what(&action))),
        };
        match outcome {
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

/// Runs the hook `spec` with its resolved `action` (or reports why there is none) and
/// answers the fact the core waits for: the daemon's and the operator's hook tasks.
pub async fn hook_finished(spec: HookSpec, action: Result<HookAction, String>) -> Fact {
    let (outcome, message) = match action {
        Ok(action) => run_hook(&spec, action).await,
        Err(why) => (
            HookOutcome::Failed,
            format!("hook {}: {why}", spec.key.name),
        ),
    };
    Fact::HookFinished {
        hook: spec.key,
        outcome,
        message,
    }
}

/// What the action is, for messages: the command's name, the method and URL without
/// its query (tokens live there too), or the address.
fn what(action: &HookAction) -> String {
    match action {
        HookAction::Exec(command) => command[0].clone(),
        HookAction::Http { method, url, .. } => {
            format!("{method} {}", url.split('?').next().unwrap_or(url))
        }
        HookAction::Tcp { host, port } => format!("tcp {host}:{port}"),
    }
}

async fn run_once(action: &HookAction) -> Result<(), String> {
    match action {
        HookAction::Exec(command) => exec(command).await,
        HookAction::Http {
            method,
            url,
            headers,
            body,
        } => http(method, url, headers, body.as_deref())
            .await
            .map_err(|why| format!("{}: {why}", what(action))),
        HookAction::Tcp { host, port } => tokio::net::TcpStream::connect((host.as_str(), *port))
            .await
            .map(drop)
            .map_err(|e| format!("{}: {e}", what(action))),
    }
}

async fn exec(command: &[String]) -> Result<(), String> {
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..]).kill_on_drop(true);
    let output = cmd
        .output()
        .await
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

/// A probe's rule: any status from 200 to 399 succeeds. Redirects are not followed
/// (a 3xx already counts), and the body is never read into a message.
async fn http(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let mut request = client.request(method, url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    if let Some(body) = body {
        request = request.body(body.to_owned());
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("request failed: {}", e.without_url()))?;
    let status = response.status();
    if (200..400).contains(&status.as_u16()) {
        Ok(())
    } else {
        Err(format!("answered {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::api::Kind;
    use cairn_core::api::ObjectReference;
    use cairn_core::world::{HookKey, HookStage, ObjectRef};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn spec(max_retry: i32) -> HookSpec {
        HookSpec {
            key: HookKey {
                session: ObjectRef::new(Kind::BackupSession, "demo", "nightly-1"),
                stage: HookStage::PostBackup,
                name: "notify".into(),
            },
            template: ObjectReference::new("demo", "notify"),
            params: None,
            max_retry,
            timeout: Some("10s".into()),
        }
    }

    /// A one-request-per-connection HTTP server on loopback answering `status`; returns
    /// its port and the requests it saw.
    async fn server(status: u16) -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let mut buf = vec![0; 4096];
                let n = conn.read(&mut buf).await.unwrap_or(0);
                let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = conn.write_all(reply.as_bytes()).await;
            }
        });
        (port, rx)
    }

    #[tokio::test]
    async fn an_http_post_hook_sends_its_headers_and_body_and_succeeds_on_2xx() {
        let (port, mut seen) = server(204).await;
        let action = HookAction::Http {
            method: "POST".into(),
            url: format!("http://127.0.0.1:{port}/hook"),
            headers: vec![("X-Token".into(), "t0ken".into())],
            body: Some("{\"text\":\"backup done\"}".into()),
        };
        let (outcome, message) = run_hook(&spec(0), action).await;
        assert_eq!(outcome, HookOutcome::Succeeded, "{message}");
        let request = seen.recv().await.unwrap();
        assert!(request.starts_with("POST /hook HTTP/1.1"), "{request}");
        assert!(
            request.to_ascii_lowercase().contains("x-token: t0ken"),
            "{request}"
        );
        assert!(request.ends_with("{\"text\":\"backup done\"}"), "{request}");
    }

    #[tokio::test]
    async fn an_http_hook_answered_500_fails_after_its_retries_without_leaking_the_query() {
        let (port, mut seen) = server(500).await;
        let action = HookAction::Http {
            method: "GET".into(),
            url: format!("http://127.0.0.1:{port}/hook?token=s3cret"),
            headers: vec![],
            body: None,
        };
        let (outcome, message) = run_hook(&spec(2), action).await;
        assert_eq!(outcome, HookOutcome::Failed);
        assert!(message.contains("after 3 attempt(s)"), "{message}");
        assert!(message.contains("500"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
        for _ in 0..3 {
            seen.recv().await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_tcp_hook_succeeds_when_the_port_is_open_and_fails_when_it_is_not() {
        let (port, _seen) = server(200).await;
        let open = HookAction::Tcp {
            host: "127.0.0.1".into(),
            port,
        };
        assert_eq!(run_hook(&spec(0), open).await.0, HookOutcome::Succeeded);
        let closed_port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let closed = HookAction::Tcp {
            host: "127.0.0.1".into(),
            port: closed_port,
        };
        let (outcome, message) = run_hook(&spec(0), closed).await;
        assert_eq!(outcome, HookOutcome::Failed);
        assert!(
            message.contains(&format!("tcp 127.0.0.1:{closed_port}")),
            "{message}"
        );
    }

    #[tokio::test]
    async fn an_exec_hook_fails_with_its_exit_status() {
        let ok = HookAction::Exec(vec!["true".into()]);
        assert_eq!(run_hook(&spec(0), ok).await.0, HookOutcome::Succeeded);
        let (outcome, message) = run_hook(&spec(0), HookAction::Exec(vec!["false".into()])).await;
        assert_eq!(outcome, HookOutcome::Failed);
        assert!(message.contains("false exited with"), "{message}");
    }
}
