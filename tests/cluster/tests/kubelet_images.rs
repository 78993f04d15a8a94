//! Images the kubelet cannot pull, and commands the image does not have.

mod controllers_harness;

use controllers_harness::{have_cairn, Cluster};

#[test]
fn an_unknown_image_backs_off_and_the_pod_stays_pending() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: busy}
spec:
  nodeName: node-1
  containers:
  - {name: main, image: "docker.io/library/busybox:1.36"}
"#,
    );
    c.wait(
        "pod/busy",
        "jsonpath={.status.containerStatuses[0].state.waiting.reason}=ImagePullBackOff",
        30,
    );
    assert_eq!(c.jsonpath("pod/busy", "{.status.phase}"), "Pending");
}

#[test]
fn a_command_the_image_lacks_is_a_start_error() {
    if !have_cairn() {
        return;
    }
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: nosh}
spec:
  nodeName: node-1
  restartPolicy: Never
  containers:
  - {name: main, image: "ghcr.io/cairn-backup/cairn:v0.1.0", command: [/bin/sh, -c, "true"]}
"#,
    );
    c.wait("pod/nosh", "jsonpath={.status.phase}=Failed", 30);
    assert_eq!(
        c.jsonpath(
            "pod/nosh",
            "{.status.containerStatuses[0].state.terminated.reason}"
        ),
        "StartError"
    );
    assert_eq!(
        c.jsonpath(
            "pod/nosh",
            "{.status.containerStatuses[0].state.terminated.exitCode}"
        ),
        "128"
    );
}

#[test]
fn run_as_non_root_refuses_an_image_running_as_root() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: rooty}
spec:
  nodeName: node-1
  securityContext: {runAsNonRoot: true}
  containers:
  - {name: main, image: test.cairn.dev/host, command: [/bin/true]}
"#,
    );
    c.wait(
        "pod/rooty",
        "jsonpath={.status.containerStatuses[0].state.waiting.reason}=CreateContainerConfigError",
        30,
    );
    let msg = c.jsonpath(
        "pod/rooty",
        "{.status.containerStatuses[0].state.waiting.message}",
    );
    assert!(
        msg.contains("runAsNonRoot and image will run as root"),
        "{msg}"
    );
}
