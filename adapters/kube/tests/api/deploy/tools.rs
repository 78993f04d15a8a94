//! The real tools the deploy/ checks run: helm 4 (scripts/install-kube-tools.sh) and
//! kubernetes-validate (the venv scripts/install-deps.sh fills). They are installed by
//! the test command, so a missing tool fails the test instead of skipping it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use cairn_testkit::process::run_ok;
use serde_json::Value;

use super::repo;

/// Kubernetes release the objects must validate against.
pub const KUBERNETES_VERSION: &str = "1.34.0";

/// Directory holding `helm` and `kubectl`: `$CAIRN_KUBE_TOOLS/bin`, else what
/// scripts/install-kube-tools.sh prints (installing them on first use).
fn kube_tools_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(dir) = std::env::var_os("CAIRN_KUBE_TOOLS") {
            let bin = PathBuf::from(dir).join("bin");
            if bin.join("helm").exists() {
                return bin;
            }
        }
        let mut cmd = Command::new("bash");
        cmd.current_dir(repo(""))
            .arg("scripts/install-kube-tools.sh");
        let out = run_ok(&mut cmd, None, Duration::from_secs(600))
            .expect("scripts/install-kube-tools.sh installs helm");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// `kubernetes-validate` of `$CAIRN_VENV` or .cache/venv.
fn kubernetes_validate() -> PathBuf {
    let venv = std::env::var_os("CAIRN_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo(".cache/venv"));
    let bin = venv.join("bin/kubernetes-validate");
    assert!(
        bin.exists(),
        "{} is missing: run `bash scripts/install-deps.sh`",
        bin.display()
    );
    bin
}

/// Runs `helm args…` in the repository, bounded; fails with helm's stderr.
pub fn helm(args: &[&str]) -> Output {
    let out = helm_unchecked(args);
    assert!(
        out.status.success(),
        "helm {} failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// Runs `helm args…` in the repository, bounded, whatever its exit status.
pub fn helm_unchecked(args: &[&str]) -> Output {
    let mut cmd = Command::new(kube_tools_bin().join("helm"));
    cmd.current_dir(repo(""))
        // A private cache and config: nothing from the machine's own helm setup.
        .env("HELM_CACHE_HOME", repo("target/helm/cache"))
        .env("HELM_CONFIG_HOME", repo("target/helm/config"))
        .env("HELM_DATA_HOME", repo("target/helm/data"))
        .args(args);
    cairn_testkit::process::run_bounded(&mut cmd, None, Duration::from_secs(120)).unwrap()
}

/// What `kubernetes-validate --strict` said about one object.
#[derive(Debug)]
pub enum Verdict {
    /// Valid against the Kubernetes schemas.
    Passed,
    /// Not a Kubernetes built-in kind (no schema): the caller checks it otherwise.
    NoSchema,
    /// Invalid, with the tool's message.
    Failed(String),
}

/// Validates each object against the Kubernetes [`KUBERNETES_VERSION`] schemas with
/// `kubernetes-validate --strict` (unknown fields are errors), one verdict per object.
pub fn validate(objects: &[Value]) -> Vec<Verdict> {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        let path = dir.path().join(format!("{i:04}.yaml"));
        std::fs::write(&path, serde_yaml::to_string(o).unwrap()).unwrap();
        files.push(path);
    }
    let mut cmd = Command::new(kubernetes_validate());
    cmd.args(["--strict", "-k", KUBERNETES_VERSION])
        .args(&files);
    let out =
        cairn_testkit::process::run_bounded(&mut cmd, None, Duration::from_secs(300)).unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let verdicts: Vec<Verdict> = files
        .iter()
        .map(|f| {
            let name = f.display().to_string();
            let line = text
                .lines()
                .find(|l| l.contains(&format!(" {name} ")))
                .unwrap_or_default();
            if line.starts_with("INFO") && line.contains("passed") {
                Verdict::Passed
            } else if line.starts_with("WARN") && line.contains("Couldn't find schema") {
                Verdict::NoSchema
            } else {
                Verdict::Failed(if line.is_empty() {
                    text.clone()
                } else {
                    line.to_owned()
                })
            }
        })
        .collect();
    let failed = verdicts.iter().any(|v| matches!(v, Verdict::Failed(_)));
    assert_eq!(
        out.status.success(),
        !failed,
        "kubernetes-validate exit status disagrees with its output:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    verdicts
}

/// The non-empty documents of a multi-document YAML stream.
pub fn documents(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| <Value as serde::Deserialize>::deserialize(doc).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}
