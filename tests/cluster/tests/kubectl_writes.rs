//! Writes with real kubectl: client-side apply (strategic merge for built-ins), patches of
//! every type, optimistic concurrency, status subresource, generation, server-side apply
//! conflicts/force/removal, finalizers, garbage collection.

mod support;

use serde_json::Value;
use support::{eventually, Cluster};

fn get_json(c: &Cluster, args: &[&str]) -> Value {
    let mut a = vec!["get"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", "json"]);
    serde_json::from_str(&c.kubectl_ok(&a)).expect("json")
}

const DEPLOY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
      - name: side
        image: busybox:1.36
"#;

#[test]
fn client_side_apply_and_patches() {
    let c = Cluster::start();
    c.kubectl_stdin_ok(&["apply", "-f", "-"], DEPLOY);
    let d = get_json(&c, &["deploy", "web"]);
    assert!(d
        .pointer("/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration")
        .is_some());
    assert_eq!(d.pointer("/metadata/generation"), Some(&Value::from(1)));
    assert_eq!(
        d.pointer("/spec/strategy/type"),
        Some(&Value::from("RollingUpdate")),
        "defaults"
    );

    // Re-apply: env B changed, container `side` dropped (3-way strategic merge).
    let changed = DEPLOY
        .replace("value: \"2\"", "value: \"3\"")
        .replace("      - name: side\n        image: busybox:1.36\n", "");
    c.kubectl_stdin_ok(&["apply", "-f", "-"], &changed);
    let d = get_json(&c, &["deploy", "web"]);
    let cs = d
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .expect("containers");
    assert_eq!(cs.len(), 1, "{cs:?}");
    assert_eq!(cs[0].pointer("/env/1/value"), Some(&Value::from("3")));
    assert_eq!(d.pointer("/metadata/generation"), Some(&Value::from(2)));

    // A label change does not bump generation.
    c.kubectl_ok(&["label", "deploy", "web", "tier=front"]);
    assert_eq!(
        get_json(&c, &["deploy", "web"]).pointer("/metadata/generation"),
        Some(&Value::from(2))
    );

    // Merge patch: null clears a field.
    c.kubectl_ok(&[
        "patch",
        "deploy",
        "web",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"labels":{"tier":null}}}"#,
    ]);
    assert!(get_json(&c, &["deploy", "web"])
        .pointer("/metadata/labels/tier")
        .is_none());

    // JSON patch, with a failing test op (422).
    c.kubectl_ok(&["patch", "deploy", "web", "--type", "json", "-p", r#"[{"op":"test","path":"/spec/replicas","value":1},{"op":"replace","path":"/spec/replicas","value":3}]"#]);
    let err = c.kubectl_err(
        &[
            "patch",
            "deploy",
            "web",
            "--type",
            "json",
            "-p",
            r#"[{"op":"test","path":"/spec/replicas","value":1}]"#,
        ],
        None,
    );
    assert!(
        err.contains("The request is invalid")
            && err.contains("testing value /spec/replicas failed"),
        "{err}"
    );

    // As upstream (evanphx/json-patch): testing a missing path against null passes — the
    // shape kube-runtime and the operator use to add a first finalizer.
    c.kubectl_ok(&[
        "patch", "deploy", "web", "--type", "json", "-p",
        r#"[{"op":"test","path":"/metadata/finalizers","value":null},{"op":"add","path":"/metadata/finalizers","value":["example.com/f"]}]"#,
    ]);
    c.kubectl_ok(&[
        "patch",
        "deploy",
        "web",
        "--type",
        "json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]);

    // Strategic merge: containers merge by name.
    c.kubectl_ok(&[
        "patch",
        "deploy",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"extra","image":"busybox:1"}]}}}}"#,
    ]);
    let d = get_json(&c, &["deploy", "web"]);
    let names: Vec<&str> = d
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .expect("c")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["web", "extra"]);
    assert_eq!(d.pointer("/spec/replicas"), Some(&Value::from(3)));
    // `$patch: delete` removes one.
    c.kubectl_ok(&[
        "patch",
        "deploy",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"extra","$patch":"delete"}]}}}}"#,
    ]);
    assert_eq!(
        get_json(&c, &["deploy", "web"])
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn conflicts_status_and_server_side_apply() {
    let c = Cluster::start();
    c.kubectl_ok(&["apply", "--server-side", "-f", "deploy/crds/"]);
    c.kubectl_ok(&["create", "configmap", "cfg", "--from-literal=a=1"]);
    let stale = c.kubectl_ok(&["get", "cm", "cfg", "-o", "json"]);
    c.kubectl_ok(&[
        "patch",
        "cm",
        "cfg",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"a":"2"}}"#,
    ]);
    let err = c.kubectl_err(&["replace", "-f", "-"], Some(&stale));
    assert!(err.contains("the object has been modified; please apply your changes to the latest version and try again"), "{err}");

    // Status subresource isolation on a custom resource.
    let session = r#"
apiVersion: core.kubestash.com/v1alpha1
kind: BackupSession
metadata: {name: s1, namespace: default}
spec:
  invoker: {apiGroup: core.kubestash.com, kind: BackupConfiguration, name: bc}
  session: daily
"#;
    c.kubectl_stdin_ok(&["apply", "-f", "-"], session);
    c.kubectl_ok(&[
        "patch",
        "backupsession",
        "s1",
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"phase":"Running"},"spec":{"session":"hourly"}}"#,
    ]);
    let s = get_json(&c, &["backupsession", "s1"]);
    assert_eq!(s.pointer("/status/phase"), Some(&Value::from("Running")));
    assert_eq!(
        s.pointer("/spec/session"),
        Some(&Value::from("daily")),
        "status writes keep spec"
    );
    assert_eq!(s.pointer("/metadata/generation"), Some(&Value::from(1)));
    c.kubectl_ok(&[
        "patch",
        "backupsession",
        "s1",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"phase":"Failed"},"spec":{"session":"hourly"}}"#,
    ]);
    let s = get_json(&c, &["backupsession", "s1"]);
    assert_eq!(
        s.pointer("/status/phase"),
        Some(&Value::from("Running")),
        "main writes keep status"
    );
    assert_eq!(s.pointer("/metadata/generation"), Some(&Value::from(2)));

    // Server-side apply: conflict with another manager, force, removal of dropped fields.
    let cm = |v: &str, extra: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ssa, namespace: default}}\ndata: {{k: \"{v}\"{extra}}}\n")
    };
    c.kubectl_stdin_ok(
        &["apply", "--server-side", "--field-manager=alice", "-f", "-"],
        &cm("1", ", only: \"x\""),
    );
    let err = c.kubectl_err(
        &["apply", "--server-side", "--field-manager=bob", "-f", "-"],
        Some(&cm("2", "")),
    );
    assert!(
        err.contains("conflict") && err.contains("alice") && err.contains(".data.k"),
        "{err}"
    );
    c.kubectl_stdin_ok(
        &[
            "apply",
            "--server-side",
            "--field-manager=bob",
            "--force-conflicts",
            "-f",
            "-",
        ],
        &cm("2", ""),
    );
    let v = get_json(&c, &["cm", "ssa"]);
    assert_eq!(v.pointer("/data/k"), Some(&Value::from("2")));
    assert_eq!(
        v.pointer("/data/only"),
        Some(&Value::from("x")),
        "alice still owns data.only"
    );
    // alice stops applying data.only: removed, as nobody else owns it.
    c.kubectl_stdin_ok(
        &["apply", "--server-side", "--field-manager=alice", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: default}\n",
    );
    let v = get_json(&c, &["cm", "ssa"]);
    assert!(v.pointer("/data/only").is_none(), "{v}");
    assert_eq!(v.pointer("/data/k"), Some(&Value::from("2")));
    let v = get_json(&c, &["cm", "ssa", "--show-managed-fields"]);
    let managers: Vec<String> = v
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .expect("managedFields")
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["manager"].as_str().unwrap_or(""),
                m["operation"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(managers.contains(&"bob/Apply".to_string()), "{managers:?}");
}

#[test]
fn finalizers_and_garbage_collection() {
    let c = Cluster::start();
    c.kubectl_stdin_ok(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, finalizers: [example.com/hold]}\n",
    );
    c.kubectl_ok(&["delete", "cm", "held", "--wait=false"]);
    let v = get_json(&c, &["cm", "held"]);
    assert!(v.pointer("/metadata/deletionTimestamp").is_some(), "{v}");
    c.kubectl_ok(&[
        "patch",
        "cm",
        "held",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    let gone = c.kubectl(&["get", "cm", "held"]);
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("NotFound"),
        "finalizer removal deletes"
    );

    // Dependents of a deleted owner are collected (server-side GC).
    c.kubectl_ok(&["create", "configmap", "owner"]);
    let uid = get_json(&c, &["cm", "owner"])
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .expect("uid")
        .to_string();
    let dep = |name: &str| {
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  ownerReferences: [{{apiVersion: v1, kind: ConfigMap, name: owner, uid: {uid}, blockOwnerDeletion: true}}]\n")
    };
    c.kubectl_stdin_ok(&["apply", "-f", "-"], &dep("dep1"));
    c.kubectl_ok(&["delete", "cm", "owner"]);
    eventually(10, "dependent collected", || {
        let out = c.kubectl(&["get", "secret", "dep1"]);
        (!out.status.success()).then_some(())
    });

    // Orphan propagation keeps the dependent and drops the reference.
    c.kubectl_ok(&["create", "configmap", "owner"]);
    let uid2 = get_json(&c, &["cm", "owner"])
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .expect("uid")
        .to_string();
    c.kubectl_stdin_ok(&["apply", "-f", "-"], &dep("dep2").replace(&uid, &uid2));
    c.kubectl_ok(&["delete", "cm", "owner", "--cascade=orphan"]);
    eventually(10, "owner gone, reference dropped", || {
        let owner_gone = !c.kubectl(&["get", "cm", "owner"]).status.success();
        let v = get_json(&c, &["secret", "dep2"]);
        (owner_gone && v.pointer("/metadata/ownerReferences").is_none()).then_some(())
    });
}
