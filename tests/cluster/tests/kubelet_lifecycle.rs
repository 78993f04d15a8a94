//! Pod lifecycle on the kubelet: graceful deletion, restarts, the OOM fault hook, killing
//! a container by its recorded pid, readiness probes.

mod controllers_harness;

use controllers_harness::Cluster;

#[test]
fn deletion_sends_sigterm_and_removes_the_pod() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: graceful}
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 20
  containers:
  - name: main
    image: test.cairn.dev/host
    command: [/bin/sh, -c, 'trap "echo got-term; exit 0" TERM; echo started; while :; do sleep 0.1; done']
"#,
    );
    c.wait("pod/graceful", "condition=Ready", 30);
    let started = std::time::Instant::now();
    c.ok(&["delete", "pod/graceful", "--wait=true", "--timeout=30s"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "SIGTERM, not the 20s SIGKILL"
    );
    let log =
        std::fs::read_to_string(c.dir().join("pods/default/graceful/main.log")).expect("log kept");
    assert!(log.contains("got-term"), "{log}");
}

#[test]
fn restart_policy_always_restarts_a_crashing_container() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: crashy}
spec:
  nodeName: node-1
  containers:
  - {name: main, image: test.cairn.dev/host, command: [/bin/sh, -c, "exit 2"]}
"#,
    );
    c.wait(
        "pod/crashy",
        "jsonpath={.status.containerStatuses[0].restartCount}=2",
        60,
    );
    assert_eq!(
        c.jsonpath(
            "pod/crashy",
            "{.status.containerStatuses[0].lastState.terminated.exitCode}"
        ),
        "2"
    );
    assert_eq!(c.jsonpath("pod/crashy", "{.status.phase}"), "Running");
}

#[test]
fn the_oom_hook_kills_the_container_as_oom_killed() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: hungry
  annotations: {test.cairn.dev/oom-kill-after-seconds: "1"}
spec:
  nodeName: node-1
  restartPolicy: Never
  containers:
  - {name: main, image: test.cairn.dev/host, command: [/bin/sleep, "60"]}
"#,
    );
    c.wait("pod/hungry", "jsonpath={.status.phase}=Failed", 30);
    let t = "{.status.containerStatuses[0].state.terminated}";
    let terminated = c.jsonpath("pod/hungry", t);
    assert!(
        terminated.contains("\"reason\":\"OOMKilled\""),
        "{terminated}"
    );
    assert!(terminated.contains("\"exitCode\":137"), "{terminated}");
}

#[test]
fn killing_the_recorded_pid_fails_the_container() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: victim}
spec:
  nodeName: node-1
  restartPolicy: Never
  containers:
  - {name: main, image: test.cairn.dev/host, command: [/bin/sleep, "60"]}
"#,
    );
    c.wait("pod/victim", "condition=Ready", 30);
    let pid: i32 = std::fs::read_to_string(c.dir().join("pods/default/victim/main.pid"))
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill");
    c.wait("pod/victim", "jsonpath={.status.phase}=Failed", 30);
    assert_eq!(
        c.jsonpath(
            "pod/victim",
            "{.status.containerStatuses[0].state.terminated.exitCode}"
        ),
        "137"
    );
}

#[test]
fn a_pod_is_ready_only_once_its_readiness_probe_passes() {
    let c = Cluster::start();
    let flag = c.dir().join("ready-flag");
    c.create(&format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: probed}}
spec:
  nodeName: node-1
  containers:
  - name: main
    image: test.cairn.dev/host
    command: [/bin/sh, -c, 'while :; do sleep 0.2; done']
    readinessProbe:
      exec: {{command: [/bin/test, -e, "{}"]}}
      periodSeconds: 1
"#,
        flag.display()
    ));
    c.wait("pod/probed", "jsonpath={.status.phase}=Running", 30);
    assert_eq!(
        c.jsonpath(
            "pod/probed",
            "{.status.conditions[?(@.type==\"Ready\")].status}"
        ),
        "False"
    );
    std::fs::write(&flag, "").expect("flag");
    c.wait("pod/probed", "condition=Ready", 30);
}
