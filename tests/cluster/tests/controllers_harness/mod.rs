//! A test cluster per test: `cairn-test-cluster serve` in its own process group on a
//! fresh directory, driven with the real kubectl; stopped (with every pod process) on drop,
//! panics included.

#![allow(dead_code)]

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A running test cluster.
pub struct Cluster {
    dir: tempfile::TempDir,
    child: Child,
    kubectl: PathBuf,
}

/// kubectl 1.34 (installed once by scripts/install-kube-tools.sh).
fn kubectl_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let out = Command::new("bash")
            .arg(root.join("scripts/install-kube-tools.sh"))
            .output()
            .expect("running install-kube-tools.sh");
        assert!(
            out.status.success(),
            "install-kube-tools.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("kubectl")
    })
    .clone()
}

/// The cairn binary run for Cairn's image: `CAIRN_BIN`, else `cairn` next to the test
/// cluster's binary (same target directory).
pub fn cairn_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("CAIRN_BIN") {
        return PathBuf::from(p);
    }
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_cairn-test-cluster"));
    exe.with_file_name("cairn")
}

/// Whether the cairn binary is there (tests needing it skip with a note otherwise).
pub fn have_cairn() -> bool {
    let ok = cairn_bin().is_file();
    if !ok {
        eprintln!(
            "skipping: no cairn binary at {} (set CAIRN_BIN or `cargo build -p cairn --bin cairn` into the same target dir)",
            cairn_bin().display()
        );
    }
    ok
}

/// The cluster binary: `CAIRN_TEST_CLUSTER_BIN`, else the one cargo built for the tests.
pub fn server_bin() -> PathBuf {
    std::env::var_os("CAIRN_TEST_CLUSTER_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_cairn-test-cluster")),
        PathBuf::from,
    )
}

impl Cluster {
    /// Starts a cluster and waits (bounded) until its API answers /readyz.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("cairn-cluster-")
            .tempdir()
            .expect("tempdir");
        let log = std::fs::File::create(dir.path().join("cluster.log")).expect("log file");
        let child = Command::new(server_bin())
            .arg("serve")
            .arg("--dir")
            .arg(dir.path())
            .arg("--cairn-bin")
            .arg(cairn_bin())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("starting cairn-test-cluster");
        let mut cluster = Self {
            dir,
            child,
            kubectl: kubectl_bin(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = cluster.child.try_wait() {
                panic!(
                    "cairn-test-cluster exited ({status}):\n{}",
                    cluster.log_tail()
                );
            }
            if cluster.dir.path().join("kubeconfig").exists() {
                let out = cluster.kubectl(&["get", "--raw", "/readyz"]);
                if out.status.success() {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "cluster not ready in 60s:\n{}",
                cluster.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        cluster
    }

    /// The kubectl binary (helm is beside it).
    pub fn kubectl_path(&self) -> &Path {
        &self.kubectl
    }

    /// The cluster directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last lines of the cluster's log.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("cluster.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Runs kubectl (bounded to 90s).
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_with_input(args, None)
    }

    /// Runs kubectl with `input` on stdin.
    pub fn kubectl_with_input(&self, args: &[&str], input: Option<&str>) -> Output {
        use std::io::Write as _;
        let mut child = Command::new("timeout")
            .arg("90")
            .arg(&self.kubectl)
            .args(args)
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl");
        let mut stdin = child.stdin.take().expect("stdin");
        if let Some(text) = input {
            stdin.write_all(text.as_bytes()).expect("kubectl stdin");
        }
        drop(stdin);
        child.wait_with_output().expect("kubectl output")
    }

    /// kubectl that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}{}\n--- cluster log ---\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_tail()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Creates the objects of a YAML manifest.
    pub fn create(&self, yaml: &str) {
        let out = self.kubectl_with_input(&["create", "--validate=false", "-f", "-"], Some(yaml));
        assert!(
            out.status.success(),
            "kubectl create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `kubectl wait --for=<cond> <what> --timeout=<secs>s`, which must succeed.
    pub fn wait(&self, what: &str, cond: &str, secs: u32) {
        let timeout = format!("--timeout={secs}s");
        let out = self.kubectl(&["wait", &format!("--for={cond}"), what, &timeout]);
        if !out.status.success() {
            let yaml = self.kubectl(&["get", what, "-o", "yaml"]);
            let pods = self.kubectl(&["get", "pods", "-o", "wide"]);
            panic!(
                "waiting for {cond} on {what}: {}\n--- object ---\n{}\n--- pods ---\n{}\n--- cluster log ---\n{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&yaml.stdout),
                String::from_utf8_lossy(&pods.stdout),
                self.log_tail()
            );
        }
    }

    /// A jsonpath of an object.
    pub fn jsonpath(&self, what: &str, path: &str) -> String {
        self.ok(&["get", what, "-o", &format!("jsonpath={path}")])
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Pod processes are process groups of their own, recorded in pid files.
        for pid_file in glob_pid_files(&self.dir.path().join("pods")) {
            if let Ok(text) = std::fs::read_to_string(&pid_file) {
                if let Ok(p) = text.trim().parse::<i32>() {
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(p),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
        }
    }
}

fn glob_pid_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(glob_pid_files(&p));
        } else if p.extension().is_some_and(|x| x == "pid") {
            out.push(p);
        }
    }
    out
}
