//! kubectl's imperative commands, which send protobuf bodies: create deployment/job/cronjob,
//! job --from=cronjob, secret/configmap/serviceaccount/role bindings; and pods end to end
//! with the kubelet: logs, graceful deletion.

mod support;

use support::{eventually, Cluster};

#[test]
fn imperative_creates_send_protobuf() {
    let c = Cluster::start();
    c.kubectl_ok(&["create", "namespace", "imp"]);
    let n = ["-n", "imp"];
    let with = |args: &[&str]| -> Vec<String> {
        n.iter().chain(args.iter()).map(|s| s.to_string()).collect()
    };
    let run = |args: &[&str]| {
        let a = with(args);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        c.kubectl_ok(&refs)
    };
    run(&[
        "create",
        "deployment",
        "web",
        "--image=test.cairn.dev/host",
        "--port=80",
        "--",
        "sleep",
        "60",
    ]);
    run(&[
        "create",
        "cronjob",
        "cj",
        "--image=test.cairn.dev/host",
        "--schedule=*/5 * * * *",
        "--",
        "echo",
        "hi",
    ]);
    run(&["create", "job", "once", "--from=cronjob/cj"]);
    run(&["create", "secret", "generic", "s", "--from-literal=a=b"]);
    run(&["create", "configmap", "cm", "--from-literal=a=b"]);
    run(&["create", "serviceaccount", "sa"]);
    let ports = run(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].ports}",
    ]);
    assert_eq!(ports, r#"[{"containerPort":80,"protocol":"TCP"}]"#);
    assert_eq!(
        run(&["get", "cronjob", "cj", "-o", "jsonpath={.spec.schedule}"]),
        "*/5 * * * *"
    );
    let owner = run(&[
        "get",
        "job",
        "once",
        "-o",
        "jsonpath={.metadata.ownerReferences[0].kind}",
    ]);
    assert_eq!(owner, "CronJob");
    assert_eq!(
        run(&["get", "secret", "s", "-o", "jsonpath={.data.a}"]),
        "Yg=="
    );
    // The scale subresource (autoscaling/v1 Scale).
    run(&["scale", "deploy", "web", "--replicas=2"]);
    assert_eq!(
        run(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]),
        "2"
    );
}

#[test]
fn pod_logs_and_graceful_deletion() {
    let c = Cluster::start();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  terminationGracePeriodSeconds: 5\n  \
               containers: [{name: c, image: test.cairn.dev/host, command: [sh, -c, 'echo hello; exec sleep 60']}]\n";
    c.kubectl_stdin_ok(&["apply", "-f", "-"], pod);
    c.kubectl_ok(&["wait", "--for=condition=Ready", "pod/p", "--timeout=30s"]);
    let logs = eventually(20, "pod log", || {
        let out = c.kubectl(&["logs", "p"]);
        let s = String::from_utf8_lossy(&out.stdout).into_owned();
        s.contains("hello").then_some(s)
    });
    assert_eq!(logs, "hello\n");
    assert_eq!(
        c.kubectl_ok(&["get", "pod", "p", "-o", "jsonpath={.spec.nodeName}"]),
        "node-1"
    );
    // The server only marks a running pod; the kubelet stops it and deletes it for good.
    c.kubectl_ok(&["delete", "pod", "p", "--wait=false"]);
    let grace = c.kubectl(&[
        "get",
        "pod",
        "p",
        "-o",
        "jsonpath={.metadata.deletionGracePeriodSeconds}",
    ]);
    if grace.status.success() {
        assert_eq!(String::from_utf8_lossy(&grace.stdout), "5");
    }
    c.kubectl_ok(&["wait", "--for=delete", "pod/p", "--timeout=30s"]);
}
