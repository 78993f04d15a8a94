//! Test harness: starts the real `cairn-test-cluster` binary on a temp dir and port 0, and
//! drives it with real kubectl/helm (from `scripts/install-kube-tools.sh`) and kube-rs.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use cairn_test_cluster::ClusterAccess;

/// A running test cluster, killed on drop (also when the test panics).
pub struct Cluster {
    child: Child,
    /// State directory (kubeconfig, ca.crt, admin.token, server.url, server.log).
    pub dir: tempfile::TempDir,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// Admin token.
    pub token: String,
}

/// Where kubectl and helm are.
pub fn tools_bin() -> PathBuf {
    if let Ok(d) = std::env::var("CAIRN_KUBE_TOOLS") {
        return Path::new(&d).join("bin");
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let default = repo.join(".cache/kube-tools/bin");
    if default.join("kubectl").exists() && default.join("helm").exists() {
        return default;
    }
    let out = Command::new("bash")
        .arg(repo.join("scripts/install-kube-tools.sh"))
        .current_dir(&repo)
        .output()
        .expect("run scripts/install-kube-tools.sh");
    assert!(
        out.status.success(),
        "install-kube-tools: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl Cluster {
    /// Starts a cluster and waits (bounded) until it answers /readyz.
    pub fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_cairn-test-cluster"))
            .args(["serve", "--dir"])
            .arg(dir.path())
            .args(["--port", "0", "--cairn-bin", "/bin/false"])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn cairn-test-cluster");
        let mut c = Cluster {
            child,
            dir,
            url: String::new(),
            token: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let url_file = c.dir.path().join("server.url");
        while !url_file.exists() {
            assert!(
                Instant::now() < deadline,
                "server did not write server.url: {}",
                c.log()
            );
            if let Ok(Some(status)) = c.child.try_wait() {
                panic!("server exited with {status}: {}", c.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        c.url = std::fs::read_to_string(&url_file).expect("server.url");
        c.token = std::fs::read_to_string(c.dir.path().join("admin.token")).expect("admin.token");
        let ready = c.kubectl(&["get", "--raw", "/readyz"]);
        assert!(
            ready.status.success(),
            "readyz: {}",
            String::from_utf8_lossy(&ready.stderr)
        );
        c
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The kubeconfig path.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn tool(&self, name: &str) -> Command {
        let mut c = Command::new(tools_bin().join(name));
        c.env("KUBECONFIG", self.kubeconfig())
            .env("HOME", self.dir.path())
            .env("HELM_CACHE_HOME", self.dir.path().join("helm-cache"))
            .env("HELM_CONFIG_HOME", self.dir.path().join("helm-config"))
            .env("HELM_DATA_HOME", self.dir.path().join("helm-data"))
            .current_dir(repo());
        c
    }

    /// Runs kubectl (bounded by `--request-timeout`).
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_in(args, None)
    }

    /// Runs kubectl with stdin.
    pub fn kubectl_in(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = self.tool("kubectl");
        cmd.arg("--request-timeout=20s").args(args);
        run(cmd, stdin)
    }

    /// Runs kubectl; panics with its stderr unless it succeeds; returns stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `kubectl apply -f -` etc. with a manifest on stdin; panics unless it succeeds.
    pub fn kubectl_stdin_ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.kubectl_in(args, Some(stdin));
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs kubectl expecting failure; returns stderr.
    pub fn kubectl_err(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.kubectl_in(args, stdin);
        assert!(
            !out.status.success(),
            "kubectl {args:?} unexpectedly succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Runs helm; panics unless it succeeds; returns stdout.
    pub fn helm_ok(&self, args: &[&str]) -> String {
        let mut cmd = self.tool("helm");
        cmd.args(args);
        let out = run(cmd, None);
        assert!(
            out.status.success(),
            "helm {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A kube-rs client (admin).
    pub fn client(&self) -> kube::Client {
        self.access().client().expect("kube client")
    }

    /// How the controllers reach this cluster.
    pub fn access(&self) -> ClusterAccess {
        ClusterAccess {
            server: self.url.clone(),
            ca_pem: std::fs::read(self.dir.path().join("ca.crt")).expect("ca.crt"),
            token: self.token.clone(),
            dir: self.dir.path().to_path_buf(),
        }
    }

    /// A raw JSON request with the admin token; returns (status, body).
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        self.raw_as(&self.token, method, path, body, "application/json")
            .await
    }

    /// A raw request with a token and content type; returns (status, body as JSON or string).
    pub async fn raw_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
        content_type: &str,
    ) -> (u16, serde_json::Value) {
        let mut access = self.access();
        access.token = token.to_string();
        let client = access.client().expect("client");
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("Content-Type", content_type)
            .body(bytes)
            .expect("request");
        let resp = client
            .send(req.map(kube::client::Body::from))
            .await
            .expect("send");
        let status = resp.status().as_u16();
        use http_body_util::BodyExt as _;
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        let v = serde_json::from_slice(&body)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into()));
        (status, v)
    }
}

fn run(mut cmd: Command, stdin: Option<&str>) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn tool");
    if let Some(s) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(s.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("tool output")
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` until it returns Some, at most `secs` seconds.
pub fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
