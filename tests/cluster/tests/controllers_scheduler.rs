//! Pods created without a node (`kubectl run`) are bound to the node and run.

mod controllers_harness;

use controllers_harness::Cluster;

#[test]
fn kubectl_run_pods_are_scheduled_and_run() {
    let c = Cluster::start();
    c.ok(&[
        "run",
        "hello",
        "--image=test.cairn.dev/host",
        "--restart=Never",
        "--",
        "/bin/echo",
        "hi",
    ]);
    c.wait("pod/hello", "jsonpath={.status.phase}=Succeeded", 30);
    assert_eq!(c.jsonpath("pod/hello", "{.spec.nodeName}"), "node-1");
    assert_eq!(c.ok(&["logs", "hello"]).trim(), "hi");
}
