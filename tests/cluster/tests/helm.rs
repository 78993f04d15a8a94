//! helm 4 against the cluster: install/uninstall of a small chart and of deploy/helm/cairn.

mod support;

use support::{eventually, Cluster};

#[test]
fn helm_install_uninstall_small_chart() {
    let c = Cluster::start();
    let chart = c.dir.path().join("mini");
    std::fs::create_dir_all(chart.join("templates")).expect("mkdir");
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: mini\nversion: 0.1.0\n",
    )
    .expect("write");
    std::fs::write(
        chart.join("templates/all.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-cm'}\ndata: {a: '1'}\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata: {name: '{{ .Release.Name }}-s'}\nstringData: {p: x}\n---\n\
         apiVersion: v1\nkind: Service\nmetadata: {name: '{{ .Release.Name }}-svc'}\nspec: {ports: [{port: 80}], selector: {app: x}}\n",
    )
    .expect("write");
    let chart = chart.to_string_lossy().into_owned();
    c.helm_ok(&[
        "install",
        "r1",
        &chart,
        "-n",
        "default",
        "--wait",
        "--timeout=30s",
    ]);
    assert!(c.helm_ok(&["list", "-n", "default"]).contains("deployed"));
    assert_eq!(
        c.kubectl_ok(&["get", "svc", "r1-svc", "-o", "jsonpath={.spec.clusterIP}"]),
        "127.0.0.1"
    );
    assert_eq!(
        c.kubectl_ok(&["get", "secret", "r1-s", "-o", "jsonpath={.data.p}"]),
        "eA=="
    );
    c.helm_ok(&[
        "upgrade",
        "r1",
        &chart,
        "-n",
        "default",
        "--set",
        "x=1",
        "--timeout=30s",
    ]);
    c.helm_ok(&[
        "uninstall",
        "r1",
        "-n",
        "default",
        "--wait",
        "--timeout=30s",
    ]);
    assert!(!c.kubectl(&["get", "cm", "r1-cm"]).status.success());
}

#[test]
fn helm_install_cairn_chart() {
    let c = Cluster::start();
    c.kubectl_ok(&["create", "namespace", "cairn"]);
    // No --wait: the operator's pods need the kubelet; only the objects are checked.
    c.helm_ok(&[
        "install",
        "cairn",
        "deploy/helm/cairn",
        "-n",
        "cairn",
        "--timeout=60s",
    ]);
    let crds = c.kubectl_ok(&["get", "crd", "-o", "name"]);
    assert!(
        crds.contains("backupconfigurations.core.kubestash.com"),
        "{crds}"
    );
    for obj in [
        "deployment/cairn-operator",
        "serviceaccount/cairn-operator",
        "service/cairn-operator-metrics",
    ] {
        c.kubectl_ok(&["get", "-n", "cairn", obj]);
    }
    for obj in [
        "clusterrole/cairn-operator",
        "clusterrole/cairn-executor",
        "clusterrole/cairn-trigger",
        "clusterrolebinding/cairn-operator",
    ] {
        c.kubectl_ok(&["get", obj]);
    }
    // helm 4 upgrades with server-side apply: changing a list-map key (the container port)
    // replaces that item, the container stays.
    c.helm_ok(&[
        "upgrade",
        "cairn",
        "deploy/helm/cairn",
        "-n",
        "cairn",
        "--set",
        "metrics.port=18431",
        "--timeout=60s",
    ]);
    let ports = c.kubectl_ok(&[
        "get",
        "-n",
        "cairn",
        "deployment/cairn-operator",
        "-o",
        "jsonpath={.spec.template.spec.containers[*].ports[*].containerPort}",
    ]);
    assert_eq!(ports, "18431");
    c.helm_ok(&["uninstall", "cairn", "-n", "cairn", "--timeout=60s"]);
    eventually(10, "operator deployment removed", || {
        (!c.kubectl(&["get", "-n", "cairn", "deployment/cairn-operator"])
            .status
            .success())
        .then_some(())
    });
}
