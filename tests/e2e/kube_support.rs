//! The Kubernetes test cluster (tests/cluster, `scripts/test-cluster.sh`) for the operator's
//! stories: real kubectl and helm against it, the real `cairn` binary in its pods.

use anyhow::{bail, Context, Result};
use cairn_testkit::process::run_bounded;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The user Cairn's image runs as (deploy/Dockerfile).
pub const IMAGE_UID: u32 = 65532;
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

    /// `DIR/backups`, the host directory behind a local BackupStorage. Cairn's pods run as
    /// the image's user (65532), as a kubelet runs them: the directory must be theirs.
    pub fn backups_dir(&self) -> Result<PathBuf> {
        let backups = self.dir.path().join("backups");
        std::fs::create_dir_all(&backups)?;
        std::os::unix::fs::chown(&backups, Some(IMAGE_UID), Some(IMAGE_UID))?;
        Ok(backups)
    }

    /// `helm install` of the chart (one replica, a free metrics port, `backups` mounted for
    /// local BackupStorages), then waits until the operator pod is ready.
    pub fn install_operator(&self, backups: &Path) -> Result<()> {
        let mount = format!(
            "extraVolumes[0].name=backups,extraVolumes[0].hostPath.path={b},\
             extraVolumeMounts[0].name=backups,extraVolumeMounts[0].mountPath={b}",
            b = backups.display()
        );
        // Pods share the host's network here: the operator's metrics port must be free.
        let metrics = format!("metrics.port={}", free_port()?);
        self.helm(&[
            "install",
            "cairn",
            &repo().join("deploy/helm/cairn").to_string_lossy(),
            "--namespace",
            "cairn-system",
            "--create-namespace",
            "--set",
            "replicas=1",
            "--set",
            &metrics,
            "--set",
            &mount,
        ])?;
        self.wait("the operator to be ready", Duration::from_secs(240), || {
            let deployments = self.items("deployments", "cairn-system")?;
            Ok(deployments
                .iter()
                .any(|d| d["status"]["readyReplicas"].as_i64() == Some(1)))
        })
    }

    /// SIGKILLs the running container process of every pod in `ns` whose name starts with
    /// `prefix` (the kubelet's pid files); returns how many it killed.
    pub fn kill_pods(&self, ns: &str, prefix: &str) -> Result<usize> {
        let mut killed = 0;
        let dir = self.dir.path().join("pods").join(ns);
        for pod in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if !pod.file_name().to_string_lossy().starts_with(prefix) {
                continue;
            }
            for f in std::fs::read_dir(pod.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let path = f.path();
                if path.extension().is_some_and(|e| e == "pid") {
                    let pid: i32 = std::fs::read_to_string(&path)?.trim().parse()?;
                    // The pid is its process group's leader: kill the whole group.
                    let status = Command::new("kill")
                        .args(["-KILL", "--", &format!("-{pid}")])
                        .status()?;
                    if status.success() {
                        killed += 1;
                    }
                }
            }
        }
        Ok(killed)
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
        self.kubectl_with_input(&["apply", "--server-side", "-f", "-"], yaml)
    }

    /// `kubectl ARGS` with `input` on its stdin (e.g. `replace -f -`).
    pub fn kubectl_with_input(&self, args: &[&str], input: &str) -> Result<String> {
        let out = self.client("kubectl", args, Some(input.as_bytes()))?;
        if !out.status.success() {
            bail!(
                "kubectl {} failed:\n{}\n{input}",
                args.join(" "),
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
            "{what}: not within {timeout:?} (last error: {last})\n{}",
            self.diagnostics()
        )
    }

    /// How many BackupSessions of `ns` succeeded; an error naming the first Failed one.
    pub fn succeeded_sessions(&self, ns: &str) -> Result<usize> {
        let sessions = self.items("backupsessions", ns)?;
        if let Some(failed) = sessions.iter().find(|s| phase(s) == "Failed") {
            bail!("a BackupSession failed: {failed:#}");
        }
        Ok(sessions.iter().filter(|s| phase(s) == "Succeeded").count())
    }

    /// Waits up to `timeout` for a BackupSession of `ns` to succeed; a Failed one fails the
    /// wait at once (it is terminal), with the cluster's objects and logs.
    pub fn wait_for_a_succeeded_session(
        &self,
        what: &str,
        ns: &str,
        timeout: Duration,
    ) -> Result<()> {
        let mut failed = None;
        self.wait(what, timeout, || {
            let sessions = self.items("backupsessions", ns)?;
            failed = sessions.iter().find(|s| phase(s) == "Failed").cloned();
            Ok(failed.is_some() || sessions.iter().any(|s| phase(s) == "Succeeded"))
        })?;
        match failed {
            None => Ok(()),
            Some(f) => bail!(
                "{what}: a BackupSession failed: {f:#}\n{}",
                self.diagnostics()
            ),
        }
    }

    /// Waits up to `timeout` for BackupSession `ns/name` to end (Succeeded, Failed or
    /// Skipped) and returns it.
    pub fn wait_for_session_end(&self, ns: &str, name: &str, timeout: Duration) -> Result<Value> {
        let mut last = Value::Null;
        self.wait(
            &format!("BackupSession {ns}/{name} to end"),
            timeout,
            || {
                let text = self.kubectl(&["get", "backupsession", name, "-n", ns, "-o", "json"])?;
                last = serde_json::from_str(&text)?;
                Ok(matches!(phase(&last), "Succeeded" | "Failed" | "Skipped"))
            },
        )?;
        Ok(last)
    }

    /// The cluster's objects and the pods' logs, for a failure message.
    pub fn diagnostics(&self) -> String {
        format!(
            "--- objects:\n{}\n--- pod logs:\n{}",
            self.objects_yaml(),
            self.pod_logs()
        )
    }

    /// Cairn's objects and the Jobs and pods of every namespace, with their status.
    pub fn objects_yaml(&self) -> String {
        let kinds = "backupstorages,repositories,backupconfigurations,backupsessions,snapshots,\
                     restoresessions,jobs,pods";
        match self.kubectl(&["get", kinds, "-A", "-o", "yaml"]) {
            Ok(text) => text
                .lines()
                .filter(|l| !l.trim_start().starts_with("f:") && !l.contains("managedFields"))
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => format!("(kubectl get failed: {e:#})"),
        }
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
