//! The Kubernetes test cluster (tests/cluster, `scripts/test-cluster.sh`) for the operator's
//! stories: real kubectl and helm against it, the real `cairn` binary in its pods.

use anyhow::{bail, Context, Result};
use cairn_testkit::process::run_bounded;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Longest a kubectl or helm call may take.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

/// A running test cluster in a temp directory; stopped on drop.
pub struct Cluster {
    /// The cluster's state directory (kubeconfig, logs, pods).
    pub dir: tempfile::TempDir,
    bin: PathBuf,
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `cairn-test-cluster` beside the `cairn` binary cargo built for these tests.
fn cluster_bin() -> PathBuf {
    let cairn = PathBuf::from(env!("CARGO_BIN_EXE_cairn"));
    cairn.with_file_name("cairn-test-cluster")
}

impl Cluster {
    /// Starts a cluster whose pods with Cairn's image run this build's `cairn`.
    pub fn up() -> Result<Cluster> {
        let dir = tempfile::Builder::new().prefix("cairn-kube-").tempdir()?;
        let server = cluster_bin();
        if !server.exists() {
            bail!(
                "{} is missing: build the workspace (`cargo build --workspace`) first",
                server.display()
            );
        }
        let out = run_bounded(
            Command::new("bash")
                .arg(repo().join("scripts/test-cluster.sh"))
                .arg("up")
                .arg(dir.path())
                .env("CAIRN_BIN", env!("CARGO_BIN_EXE_cairn"))
                .env("CAIRN_TEST_CLUSTER_BIN", &server),
            None,
            Duration::from_secs(300),
        )?;
        if !out.status.success() {
            bail!(
                "test-cluster.sh up failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let bin = dir.path().join("bin");
        Ok(Cluster { dir, bin })
    }

    /// The admin kubeconfig.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn client(&self, tool: &str, args: &[&str], stdin: Option<&[u8]>) -> Result<Output> {
        run_bounded(
            Command::new(self.bin.join(tool))
                .args(args)
                .env("KUBECONFIG", self.kubeconfig())
                .env("HOME", self.dir.path()),
            stdin,
            CLIENT_TIMEOUT,
        )
        .with_context(|| format!("{tool} {}", args.join(" ")))
    }

    /// `kubectl ARGS`; fails with its stderr unless it succeeds; returns stdout.
    pub fn kubectl(&self, args: &[&str]) -> Result<String> {
        let out = self.client("kubectl", args, None)?;
        if !out.status.success() {
            bail!(
                "kubectl {} failed:\n{}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `kubectl apply --server-side -f -` of `yaml`.
    pub fn apply(&self, yaml: &str) -> Result<String> {
        let out = self.client(
            "kubectl",
            &["apply", "--server-side", "-f", "-"],
            Some(yaml.as_bytes()),
        )?;
        if !out.status.success() {
            bail!(
                "kubectl apply failed:\n{}\n{yaml}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `helm ARGS`.
    pub fn helm(&self, args: &[&str]) -> Result<String> {
        let out = self.client("helm", args, None)?;
        if !out.status.success() {
            bail!(
                "helm {} failed:\n{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `kubectl get KIND -n NS -o json`'s items.
    pub fn items(&self, kind: &str, ns: &str) -> Result<Vec<Value>> {
        let text = self.kubectl(&["get", kind, "-n", ns, "-o", "json"])?;
        let list: Value = serde_json::from_str(&text)?;
        Ok(list["items"].as_array().cloned().unwrap_or_default())
    }

    /// Polls `cond` every 200 ms for up to `timeout`; on timeout fails with the cluster and
    /// operator logs.
    pub fn wait(
        &self,
        what: &str,
        timeout: Duration,
        mut cond: impl FnMut() -> Result<bool>,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        while Instant::now() < deadline {
            match cond() {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => last = format!("{e:#}"),
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!(
            "{what}: not within {timeout:?} (last error: {last})\n--- pod logs:\n{}",
            self.pod_logs()
        )
    }

    /// The tail of every container log the kubelet kept.
    pub fn pod_logs(&self) -> String {
        let mut out = String::new();
        let pods = self.dir.path().join("pods");
        for entry in walk(&pods) {
            if entry.extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(&entry).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                out.push_str(&format!("== {}\n", entry.display()));
                for l in tail.into_iter().rev() {
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        out
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = run_bounded(
            Command::new("bash")
                .arg(repo().join("scripts/test-cluster.sh"))
                .arg("down")
                .arg(self.dir.path()),
            None,
            Duration::from_secs(60),
        );
    }
}

/// `status.phase` of an object.
pub fn phase(o: &Value) -> &str {
    o["status"]["phase"].as_str().unwrap_or_default()
}

/// A TCP port nothing listens on now (pods share the host's network in the test cluster).
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
