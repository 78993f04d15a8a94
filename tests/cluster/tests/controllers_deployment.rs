//! The Deployment and ReplicaSet controllers with the kubelet: rollout, restart, scale.

mod controllers_harness;

use controllers_harness::Cluster;

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: test.cairn.dev/host
        command: [/bin/sh, -c, 'trap "exit 0" TERM; while :; do sleep 0.2; done']
        readinessProbe:
          exec: {command: [/bin/true]}
          periodSeconds: 1
"#;

#[test]
fn rollout_restart_rolls_the_pods_and_rollout_status_finishes() {
    let c = Cluster::start();
    c.create(DEPLOYMENT);
    c.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    let first = c.jsonpath("pods", "{.items[0].metadata.name}");
    let rs1 = c.jsonpath("rs", "{.items[0].metadata.name}");
    assert!(first.starts_with(&format!("{rs1}-")), "{first} from {rs1}");
    let hash = c.jsonpath(&format!("rs/{rs1}"), "{.metadata.labels.pod-template-hash}");
    assert_eq!(rs1, format!("web-{hash}"));
    assert_eq!(
        c.jsonpath(
            "deployment/web",
            "{.status.conditions[?(@.type==\"Available\")].status}"
        ),
        "True"
    );

    c.ok(&["rollout", "restart", "deployment/web"]);
    c.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    c.ok(&[
        "wait",
        "--for=delete",
        &format!("pod/{first}"),
        "--timeout=30s",
    ]);
    let second = c.jsonpath("pods", "{.items[*].metadata.name}");
    assert!(
        !second.contains(' ') && second != first,
        "one new pod: {second}"
    );
    assert_eq!(
        c.jsonpath(
            "deployment/web",
            "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}"
        ),
        "2"
    );
    assert_eq!(c.jsonpath(&format!("rs/{rs1}"), "{.spec.replicas}"), "0");
    let reason = c.jsonpath(
        "deployment/web",
        "{.status.conditions[?(@.type==\"Progressing\")].reason}",
    );
    assert_eq!(reason, "NewReplicaSetAvailable");
}

#[test]
fn scaling_a_deployment_adds_and_removes_pods() {
    let c = Cluster::start();
    c.create(DEPLOYMENT);
    c.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    // (`kubectl scale` needs the server's scale subresource; a patch does the same here.)
    c.ok(&[
        "patch",
        "deployment/web",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":3}}"#,
    ]);
    c.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    assert_eq!(c.jsonpath("deployment/web", "{.status.readyReplicas}"), "3");
    c.ok(&[
        "patch",
        "deployment/web",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":1}}"#,
    ]);
    c.wait("deployment/web", "jsonpath={.status.replicas}=1", 60);
}
