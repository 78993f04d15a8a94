//! Cairn's Helm chart on the test cluster: the operator Deployment rolls out and its pod
//! turns Ready only through its httpGet readiness probe on the named port `http`.

mod controllers_harness;

use controllers_harness::{have_cairn, Cluster};

/// A port free on 127.0.0.1 now (every pod shares the host's network).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[test]
fn the_charts_operator_rolls_out_and_turns_ready_through_its_probe() {
    if !have_cairn() {
        return;
    }
    let c = Cluster::start();
    let chart = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/helm/cairn");
    let helm = c.kubectl_path().with_file_name("helm");
    let port = free_port();
    let out = std::process::Command::new("timeout")
        .arg("120")
        .arg(&helm)
        .args(["install", "cairn"])
        .arg(&chart)
        .args([
            "-n",
            "cairn-system",
            "--create-namespace",
            "--set",
            "replicas=1",
        ])
        .arg("--set")
        .arg(format!("metrics.port={port}"))
        .env("KUBECONFIG", c.dir().join("kubeconfig"))
        .env("HELM_CACHE_HOME", c.dir().join("helm/cache"))
        .env("HELM_CONFIG_HOME", c.dir().join("helm/config"))
        .env("HELM_DATA_HOME", c.dir().join("helm/data"))
        .output()
        .expect("helm");
    assert!(
        out.status.success(),
        "helm install: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    c.ok(&[
        "rollout",
        "status",
        "deployment/cairn-operator",
        "-n",
        "cairn-system",
        "--timeout=90s",
    ]);
    let pod_ready = c.ok(&[
        "get",
        "pods",
        "-n",
        "cairn-system",
        "-o",
        "jsonpath={.items[0].status.conditions[?(@.type==\"Ready\")].status}",
    ]);
    assert_eq!(pod_ready, "True");
    let user = c.ok(&[
        "get",
        "pods",
        "-n",
        "cairn-system",
        "-o",
        "jsonpath={.items[0].spec.securityContext.runAsNonRoot}",
    ]);
    assert_eq!(user, "true");
}
