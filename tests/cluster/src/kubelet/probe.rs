//! Container probes: httpGet (HTTP only) and tcpSocket on 127.0.0.1, exec inside the
//! container's mount namespace (via nsenter), with the timing fields' upstream defaults.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Timing of a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Before the first probe.
    pub initial_delay: Duration,
    /// Between probes.
    pub period: Duration,
    /// Per probe.
    pub timeout: Duration,
    /// Consecutive successes to pass.
    pub success_threshold: u32,
    /// Consecutive failures to fail.
    pub failure_threshold: u32,
}

fn secs(v: Option<i32>, default: u64) -> Duration {
    Duration::from_secs(v.map_or(default, |v| u64::try_from(v.max(0)).unwrap_or(default)))
}

/// The timing of `p` (defaults: period 10s, timeout 1s, thresholds 1/3).
pub fn timing(p: &Probe) -> Timing {
    Timing {
        initial_delay: secs(p.initial_delay_seconds, 0),
        period: secs(p.period_seconds, 10),
        timeout: secs(p.timeout_seconds, 1),
        success_threshold: p.success_threshold.map_or(1, |v| v.max(1) as u32),
        failure_threshold: p.failure_threshold.map_or(3, |v| v.max(1) as u32),
    }
}

/// Resolves a probe port (a number or the name of a `containerPort`).
pub fn port(container: &Container, port: &IntOrString) -> Option<u16> {
    match port {
        IntOrString::Int(n) => u16::try_from(*n).ok(),
        IntOrString::String(name) => name.parse().ok().or_else(|| {
            container
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .and_then(|p| u16::try_from(p.container_port).ok())
        }),
    }
}

/// How to run an exec probe in the container: `nsenter` prefix plus the program.
#[derive(Clone, Debug)]
pub struct ExecTarget {
    /// Container pid (its namespaces).
    pub pid: i32,
    /// setpriv arguments (empty for root).
    pub setpriv: Vec<String>,
    /// The container's environment.
    pub env: Vec<(String, String)>,
}

/// Runs `p` once; `Err` says why it failed.
pub async fn check(
    p: &Probe,
    container: &Container,
    exec: Option<&ExecTarget>,
) -> Result<(), String> {
    let t = timing(p);
    let run = async {
        if let Some(h) = &p.http_get {
            if h.scheme
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("HTTPS"))
            {
                return Err("HTTPS probes are not supported by the test kubelet".to_owned());
            }
            let port = port(container, &h.port).ok_or("unknown port")?;
            let host = h.host.clone().unwrap_or_else(|| "127.0.0.1".into());
            return http_get(&host, port, h.path.as_deref().unwrap_or("/")).await;
        }
        if let Some(s) = &p.tcp_socket {
            let port = port(container, &s.port).ok_or("unknown port")?;
            let host = s.host.clone().unwrap_or_else(|| "127.0.0.1".into());
            return tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .map(drop)
                .map_err(|e| e.to_string());
        }
        if let Some(e) = &p.exec {
            let target = exec.ok_or("container not running")?;
            return exec_probe(target, e.command.as_deref().unwrap_or_default()).await;
        }
        Err("probe has no handler".to_owned())
    };
    tokio::time::timeout(t.timeout, run)
        .await
        .unwrap_or_else(|_| Err(format!("timeout after {:?}", t.timeout)))
}

async fn http_get(host: &str, port: u16, path: &str) -> Result<(), String> {
    let mut s = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| e.to_string())?;
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe/1.34\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 64];
    let mut n = 0;
    while n < 12 {
        let r = s.read(&mut buf[n..]).await.map_err(|e| e.to_string())?;
        if r == 0 {
            break;
        }
        n += r;
    }
    let line = String::from_utf8_lossy(&buf[..n]);
    let code: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("malformed HTTP response")?;
    if (200..400).contains(&code) {
        Ok(())
    } else {
        Err(format!("HTTP probe failed with statuscode: {code}"))
    }
}

async fn exec_probe(t: &ExecTarget, command: &[String]) -> Result<(), String> {
    let mut cmd = tokio::process::Command::new("nsenter");
    cmd.args(["-t", &t.pid.to_string(), "-m", "-u", "--"]);
    if !t.setpriv.is_empty() {
        cmd.arg("setpriv").args(&t.setpriv).arg("--");
    }
    let status = cmd
        .args(command)
        .env_clear()
        .envs(t.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .status()
        .await
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("command exited with {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerPort, HTTPGetAction};

    #[test]
    fn named_and_numbered_ports() {
        let c = Container {
            ports: Some(vec![ContainerPort {
                name: Some("http".into()),
                container_port: 8080,
                ..ContainerPort::default()
            }]),
            ..Container::default()
        };
        assert_eq!(port(&c, &IntOrString::String("http".into())), Some(8080));
        assert_eq!(port(&c, &IntOrString::Int(9)), Some(9));
        assert_eq!(port(&c, &IntOrString::String("nope".into())), None);
    }

    #[test]
    fn default_timing() {
        let t = timing(&Probe::default());
        assert_eq!(
            (
                t.period,
                t.timeout,
                t.success_threshold,
                t.failure_threshold
            ),
            (Duration::from_secs(10), Duration::from_secs(1), 1, 3)
        );
    }

    #[tokio::test]
    async fn http_probe_against_a_local_listener() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            for code in ["200 OK", "503 Service Unavailable"] {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(format!("HTTP/1.1 {code}\r\nContent-Length: 0\r\n\r\n").as_bytes())
                    .await;
            }
        });
        let probe = Probe {
            http_get: Some(HTTPGetAction {
                port: IntOrString::Int(i32::from(port)),
                path: Some("/readyz".into()),
                ..HTTPGetAction::default()
            }),
            ..Probe::default()
        };
        let c = Container::default();
        assert_eq!(check(&probe, &c, None).await, Ok(()));
        assert!(check(&probe, &c, None).await.unwrap_err().contains("503"));
        server.await.unwrap();
    }
}
