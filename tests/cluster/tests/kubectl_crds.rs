//! CRDs with real kubectl: server-side apply of deploy/crds, Established conditions, custom
//! resources with printer columns, schema validation (422), defaulting, pruning.

mod support;

use support::Cluster;

const STORAGE: &str = r#"
apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {name: local, namespace: demo}
spec:
  storage:
    provider: local
    local: {mountPath: /safe/data, hostPath: {path: /tmp/backups}}
  usagePolicy: {allowedNamespaces: {from: All}}
  default: true
  deletionPolicy: WipeOut
"#;

#[test]
fn crds_apply_server_side_and_printer_columns() {
    let c = Cluster::start();
    let out = c.kubectl_ok(&["apply", "--server-side", "-f", "deploy/crds/"]);
    assert!(
        out.contains("backupstorages.storage.kubestash.com serverside-applied"),
        "{out}"
    );
    let crds = c.kubectl_ok(&["get", "crd", "-o", "name"]);
    assert!(crds.contains("backupsessions.core.kubestash.com"), "{crds}");
    c.kubectl_ok(&[
        "wait",
        "--for=condition=Established",
        "--timeout=20s",
        "crd/backupstorages.storage.kubestash.com",
    ]);
    // Re-applying the same CRDs is a no-op for the server.
    c.kubectl_ok(&["apply", "--server-side", "-f", "deploy/crds/"]);

    c.kubectl_ok(&["create", "namespace", "demo"]);
    c.kubectl_stdin_ok(&["apply", "-f", "-"], STORAGE);
    let table = c.kubectl_ok(&["get", "backupstorages", "-A"]);
    let header = table.lines().next().unwrap_or("");
    for col in [
        "NAMESPACE",
        "NAME",
        "PROVIDER",
        "DEFAULT",
        "DELETION-POLICY",
        "PHASE",
        "AGE",
    ] {
        assert!(header.contains(col), "missing column {col}: {table}");
    }
    let row = table.lines().nth(1).unwrap_or("");
    assert!(
        row.contains("demo") && row.contains("local") && row.contains("WipeOut"),
        "{table}"
    );

    // A second client-side apply with no change: unchanged (merge patch for custom resources).
    let again = c.kubectl_stdin_ok(&["apply", "-f", "-"], STORAGE);
    assert!(again.contains("unchanged"), "{again}");
}

#[test]
fn custom_resource_validation_defaulting_pruning() {
    let c = Cluster::start();
    c.kubectl_ok(&["apply", "--server-side", "-f", "deploy/crds/"]);
    c.kubectl_ok(&["create", "namespace", "demo"]);

    // Enum violation: 422 with the real field message.
    let bad = STORAGE.replace("provider: local", "provider: floppy");
    let err = c.kubectl_err(&["apply", "-f", "-"], Some(&bad));
    assert!(
        err.contains("is invalid")
            && err.contains("spec.storage.provider: Unsupported value: \"floppy\""),
        "{err}"
    );

    // Unknown fields: refused under kubectl's default strict validation...
    let unknown = STORAGE.replace("default: true", "default: true\n  bogus: 1");
    let err = c.kubectl_err(&["apply", "-f", "-"], Some(&unknown));
    assert!(err.contains("unknown field \"spec.bogus\""), "{err}");
    // ...and pruned when validation is off.
    c.kubectl_stdin_ok(&["apply", "--validate=false", "-f", "-"], &unknown);
    let json = c.kubectl_ok(&["get", "backupstorage", "-n", "demo", "local", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert!(v.pointer("/spec/bogus").is_none(), "not pruned: {v}");
    assert_eq!(
        v.pointer("/metadata/generation"),
        Some(&serde_json::json!(1))
    );
    assert!(v.pointer("/metadata/uid").is_some());
}
