//! The Job controller with the kubelet: Cairn's binary as a Job, retries, deadlines, TTL.

mod controllers_harness;

use controllers_harness::{have_cairn, Cluster};

#[test]
fn a_job_running_cairn_version_completes_and_logs_the_version() {
    if !have_cairn() {
        return;
    }
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: version}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: "ghcr.io/cairn-backup/cairn:v0.1.0", command: [cairn, --version]}
"#,
    );
    c.wait("job/version", "condition=Complete", 60);
    let logs = c.ok(&["logs", "job/version"]);
    assert!(logs.starts_with("cairn "), "{logs}");
    assert_eq!(c.jsonpath("job/version", "{.status.succeeded}"), "1");
    let types = c.jsonpath("job/version", "{.status.conditions[*].type}");
    assert_eq!(types, "SuccessCriteriaMet Complete");
    assert!(!c
        .jsonpath("job/version", "{.status.completionTime}")
        .is_empty());
    let labels = c.jsonpath("pods", "{.items[0].metadata.labels}");
    assert!(
        labels.contains("\"batch.kubernetes.io/job-name\":\"version\""),
        "{labels}"
    );
    assert!(labels.contains("controller-uid"), "{labels}");
}

#[test]
fn a_failing_job_fails_with_backoff_limit_exceeded_after_limit_plus_one_pods() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: fails}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: test.cairn.dev/host, command: [/bin/sh, -c, "echo failing; exit 3"]}
"#,
    );
    c.wait("job/fails", "condition=Failed", 90);
    assert_eq!(c.jsonpath("job/fails", "{.status.failed}"), "3");
    let reasons = c.jsonpath("job/fails", "{.status.conditions[*].reason}");
    assert_eq!(reasons, "BackoffLimitExceeded BackoffLimitExceeded");
    let pods = c.jsonpath("pods", "{.items[*].status.phase}");
    assert_eq!(pods, "Failed Failed Failed", "one pod per try");
    let codes = c.jsonpath(
        "pods",
        "{.items[*].status.containerStatuses[0].state.terminated.exitCode}",
    );
    assert_eq!(codes, "3 3 3");
}

#[test]
fn active_deadline_seconds_kills_the_pod_and_fails_the_job() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: slow}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 2
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: test.cairn.dev/host, command: [/bin/sleep, "60"]}
"#,
    );
    c.wait("job/slow", "condition=Failed", 60);
    assert_eq!(
        c.jsonpath(
            "job/slow",
            "{.status.conditions[?(@.type==\"Failed\")].reason}"
        ),
        "DeadlineExceeded"
    );
    // The pod is deleted (SIGTERM, then SIGKILL after the grace period, then removed).
    c.ok(&["wait", "--for=delete", "pods", "--all", "--timeout=30s"]);
}

#[test]
fn ttl_seconds_after_finished_deletes_the_job_and_its_pods() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: short-lived}
spec:
  ttlSecondsAfterFinished: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: test.cairn.dev/host, command: [/bin/true]}
"#,
    );
    c.ok(&["wait", "--for=delete", "job/short-lived", "--timeout=60s"]);
    c.ok(&["wait", "--for=delete", "pods", "--all", "--timeout=30s"]);
}

#[test]
fn a_suspended_job_creates_no_pods_until_resumed() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: later}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: test.cairn.dev/host, command: [/bin/true]}
"#,
    );
    c.wait("job/later", "condition=Suspended", 30);
    assert_eq!(c.jsonpath("pods", "{.items[*].metadata.name}"), "");
    c.ok(&[
        "patch",
        "job/later",
        "--type=merge",
        "-p",
        r#"{"spec":{"suspend":false}}"#,
    ]);
    c.wait("job/later", "condition=Complete", 60);
}

#[test]
fn an_executor_shaped_job_runs_its_init_tasks_then_its_main_task() {
    if !have_cairn() {
        return;
    }
    // The shape of adapters/kube/src/objects.rs executor_job: tasks as init containers
    // then one container, a shared emptyDir at /kubestash-tmp, runAsNonRoot, no retries.
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: executor}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 300
  template:
    spec:
      restartPolicy: Never
      volumes: [{name: kubestash-tmp-volume, emptyDir: {}}]
      initContainers:
      - name: first
        image: "ghcr.io/cairn-backup/cairn:v0.1.0"
        command: [cairn, --version]
        volumeMounts: [{name: kubestash-tmp-volume, mountPath: /kubestash-tmp}]
        securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
      - name: probe-tmp
        image: test.cairn.dev/host
        command: [/bin/sh, -c, 'id -u; touch /kubestash-tmp/written-by-65532 && echo wrote']
        volumeMounts: [{name: kubestash-tmp-volume, mountPath: /kubestash-tmp}]
        securityContext: {runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true}
      containers:
      - name: last
        image: "ghcr.io/cairn-backup/cairn:v0.1.0"
        command: [cairn, --version]
        volumeMounts: [{name: kubestash-tmp-volume, mountPath: /kubestash-tmp}]
        securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"#,
    );
    c.wait("job/executor", "condition=Complete", 60);
    let pod = c.jsonpath("pods", "{.items[0].metadata.name}");
    assert!(c.ok(&["logs", &pod, "-c", "first"]).starts_with("cairn "));
    assert_eq!(c.ok(&["logs", &pod, "-c", "probe-tmp"]), "65532\nwrote\n");
    assert!(c.ok(&["logs", &pod, "-c", "last"]).starts_with("cairn "));
    let inits = c.jsonpath(
        &format!("pod/{pod}"),
        "{.status.initContainerStatuses[*].state.terminated.reason}",
    );
    assert_eq!(inits, "Completed Completed");
}
