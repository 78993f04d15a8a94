//! In-cluster configuration: the service-account token, CA and namespace files, the
//! KUBERNETES_SERVICE_* variables and Service names in /etc/hosts, as Cairn's pods use them.

mod controllers_harness;

use controllers_harness::{have_cairn, Cluster};

#[test]
fn pods_see_service_account_files_service_variables_and_hosts() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  ports: [{name: mysql, port: 3306}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: look}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: test.cairn.dev/host
        command:
        - /bin/sh
        - -c
        - |
          d=/var/run/secrets/kubernetes.io/serviceaccount
          echo "ns=$(cat $d/namespace)"
          test -s $d/token && echo token=ok
          grep -q "BEGIN CERTIFICATE" $d/ca.crt && echo ca=ok
          echo "host=$KUBERNETES_SERVICE_HOST db=$DB_SERVICE_HOST:$DB_SERVICE_PORT name=$HOSTNAME"
          grep -w db.default.svc.cluster.local /etc/hosts
          code=$(curl -s -o /dev/null -w '%{http_code}' --cacert $d/ca.crt -H "Authorization: Bearer $(cat $d/token)" \
            https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/default/pods)
          echo "api=$code"
"#,
    );
    c.wait("job/look", "condition=Complete", 60);
    let logs = c.ok(&["logs", "job/look"]);
    assert!(logs.contains("ns=default\n"), "{logs}");
    assert!(
        logs.contains("token=ok\n") && logs.contains("ca=ok\n"),
        "{logs}"
    );
    assert!(
        logs.contains("host=127.0.0.1 db=127.0.0.1:3306 name=look-"),
        "{logs}"
    );
    assert!(
        logs.contains("db db.default db.default.svc db.default.svc.cluster.local"),
        "{logs}"
    );
    // The default ServiceAccount authenticates; RBAC decides (403 without a binding).
    assert!(
        logs.contains("api=403") || logs.contains("api=200"),
        "{logs}"
    );
}

#[test]
fn cairn_in_a_pod_reaches_the_api_with_its_token_as_non_root() {
    if !have_cairn() {
        return;
    }
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: trigger}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: trigger
        image: "ghcr.io/cairn-backup/cairn:v0.1.0"
        command: [cairn, trigger, missing, --session, s, --namespace, default]
        securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"#,
    );
    c.wait("job/trigger", "condition=Failed", 60);
    let logs = c.ok(&["logs", "job/trigger"]);
    // The in-cluster client got an answer from the API server (no such kind or object),
    // not a configuration or TLS error.
    assert!(
        logs.contains("BackupConfiguration default/missing"),
        "{logs}"
    );
    assert!(!logs.to_lowercase().contains("infer"), "{logs}");
}
