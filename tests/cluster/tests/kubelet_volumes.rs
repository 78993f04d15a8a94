//! Volumes and environment: secret/configMap volumes (items, modes, subPath), emptyDir
//! shared by an init container, env from Secrets/ConfigMaps/fields, envFrom, `$(VAR)`,
//! fsGroup, runAsUser.

mod controllers_harness;

use controllers_harness::Cluster;

#[test]
fn volumes_env_and_identity_reach_the_container() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {username: alice, password: s3cret}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast, extra.conf: "a=1\n"}
---
apiVersion: v1
kind: Pod
metadata: {name: vols, labels: {app: vols}}
spec:
  nodeName: node-1
  restartPolicy: Never
  securityContext: {runAsUser: 1234, runAsGroup: 2345, fsGroup: 3456}
  volumes:
  - name: secret
    secret:
      secretName: creds
      defaultMode: 0440
      items: [{key: password, path: nested/pw}]
  - {name: config, configMap: {name: settings}}
  - {name: scratch, emptyDir: {}}
  initContainers:
  - name: prepare
    image: test.cairn.dev/host
    command: [/bin/sh, -c, "echo from-init > /scratch/hello"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  containers:
  - name: main
    image: test.cairn.dev/host
    workingDir: /scratch
    command: [/bin/sh, -c]
    args:
    - |
      echo "id=$(id -u):$(id -g) groups=$(id -G)"
      echo "pw=$(cat /etc/creds/nested/pw) mode=$(stat -c %a /etc/creds/nested/pw)"
      echo "conf=$(cat /etc/extra.conf)"
      echo "init=$(cat hello) pwd=$(pwd)"
      echo "user=$USERNAME cfg_mode=$CFG_mode pod=$POD_NAME ns=$POD_NAMESPACE app=$APP greeting=$GREETING arg0=$0"
    - "$(USERNAME)"
    env:
    - {name: USERNAME, valueFrom: {secretKeyRef: {name: creds, key: username}}}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
    - {name: GREETING, value: "hi-$(USERNAME)-$$(USERNAME)"}
    envFrom:
    - {prefix: CFG_, configMapRef: {name: settings}}
    volumeMounts:
    - {name: secret, mountPath: /etc/creds, readOnly: true}
    - {name: config, mountPath: /etc/extra.conf, subPath: extra.conf}
    - {name: scratch, mountPath: /scratch}
"#,
    );
    c.wait("pod/vols", "jsonpath={.status.phase}=Succeeded", 60);
    let logs = c.ok(&["logs", "vols"]);
    assert!(
        logs.contains("id=1234:2345 groups=2345 3456") || logs.contains("id=1234:2345 groups=3456"),
        "{logs}"
    );
    assert!(logs.contains("pw=s3cret mode=440"), "{logs}");
    assert!(logs.contains("conf=a=1"), "{logs}");
    assert!(logs.contains("init=from-init pwd=/scratch"), "{logs}");
    assert!(logs.contains("user=alice cfg_mode=fast pod=vols ns=default app=vols greeting=hi-alice-$(USERNAME) arg0=alice"), "{logs}");
    let init = c.jsonpath(
        "pod/vols",
        "{.status.initContainerStatuses[0].state.terminated.reason}",
    );
    assert_eq!(init, "Completed");
}

#[test]
fn a_missing_secret_keeps_the_pod_creating_until_it_exists() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: waits}
spec:
  nodeName: node-1
  restartPolicy: Never
  containers:
  - name: main
    image: test.cairn.dev/host
    command: [/bin/sh, -c, "echo $TOKEN"]
    env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: later, key: token}}}]
"#,
    );
    c.wait(
        "pod/waits",
        "jsonpath={.status.containerStatuses[0].state.waiting.reason}=CreateContainerConfigError",
        30,
    );
    let msg = c.jsonpath(
        "pod/waits",
        "{.status.containerStatuses[0].state.waiting.message}",
    );
    assert_eq!(msg, "secret \"later\" not found");
    c.create("apiVersion: v1\nkind: Secret\nmetadata: {name: later}\nstringData: {token: t0k}\n");
    c.wait("pod/waits", "jsonpath={.status.phase}=Succeeded", 30);
    assert_eq!(c.ok(&["logs", "waits"]).trim(), "t0k");
}

#[test]
fn read_only_root_filesystem_leaves_only_volumes_writable() {
    let c = Cluster::start();
    c.create(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: ro}
spec:
  nodeName: node-1
  restartPolicy: Never
  volumes: [{name: scratch, emptyDir: {}}]
  containers:
  - name: main
    image: test.cairn.dev/host
    command: [/bin/sh, -c]
    args:
    - |
      touch /tmp/cairn-ro-probe-$HOSTNAME 2>/dev/null && echo root-writable || echo root-read-only
      touch /scratch/x && echo volume-writable
    securityContext: {readOnlyRootFilesystem: true}
    volumeMounts: [{name: scratch, mountPath: /scratch}]
"#,
    );
    c.wait("pod/ro", "jsonpath={.status.phase}=Succeeded", 30);
    assert_eq!(c.ok(&["logs", "ro"]), "root-read-only\nvolume-writable\n");
}
