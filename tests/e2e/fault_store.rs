//! The object store failing mid-upload, behind a switchable proxy in front of moto: the
//! repository's config, keys and lock go through, then pack uploads get HTTP 500, 503 or
//! a dropped connection, or every answer comes late. A backup either fails with a message
//! naming the storage operation and no snapshot listed, or succeeds after retries; once the
//! store is healthy again, backup and restore work.

use crate::fault_proxy::{Action, Proxy, Request};
use crate::fault_support::*;
use crate::local_support::*;
use anyhow::Result;
use cairn_testkit::S3Server;
use std::time::Duration;

const BUCKET: &str = "faults";

/// The servers and the scenario; dropped in field order (daemons before the proxy and moto).
struct S3Fault {
    env: Env,
    proxy: Proxy,
    _s3: S3Server,
}

/// An S3 BackupStorage reaching moto through the proxy, with distinctive keys (moto
/// accepts any) that the leak check looks for.
fn s3_fault() -> Result<S3Fault> {
    let s3 = S3Server::start()?;
    s3.create_bucket(BUCKET)?;
    let proxy = Proxy::start(s3.port())?;
    let (key, secret) = (distinctive("AKIAFAULT"), distinctive("s3secret"));
    let storage = format!(
        r#"apiVersion: v1
kind: Secret
metadata: {{name: s3-cred, namespace: {NS}}}
stringData: {{AWS_ACCESS_KEY_ID: {key}, AWS_SECRET_ACCESS_KEY: {secret}}}
---
apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {{name: store, namespace: {NS}}}
spec:
  storage:
    provider: s3
    s3: {{endpoint: "{endpoint}", bucket: {BUCKET}, prefix: team, region: us-east-1, secretName: s3-cred}}
  usagePolicy: {{allowedNamespaces: {{from: All}}}}
  deletionPolicy: Delete
"#,
        endpoint = proxy.endpoint()
    );
    let mut env = Env::new(Options {
        storage: Some(storage),
        remote: Some(Remote {
            repo: s3.restic_repo(BUCKET, "team/db/repository/v1/full/dump"),
            env: s3.env(),
        }),
        ..Options::default()
    })?;
    env.secret("S3 access key", &key);
    env.secret("S3 secret key", &secret);
    Ok(S3Fault {
        env,
        proxy,
        _s3: s3,
    })
}

/// Runs the first backup under the proxy's current rule; the Snapshot it ends with.
fn first_backup_ends(f: &S3Fault, wanted: &str) -> Result<serde_yaml::Value> {
    let mut daemon = f.env.daemon(&[])?;
    f.env
        .wait(&format!("the first Snapshot to be {wanted}"), || {
            Ok(f.env
                .objects("snapshots")
                .iter()
                .any(|s| ["Succeeded", "Failed"].contains(&phase(s))))
        })?;
    assert!(daemon.stop(), "{}", f.env.logs());
    let snapshot = f.env.objects("snapshots").remove(0);
    assert_eq!(phase(&snapshot), wanted, "{snapshot:?}");
    Ok(snapshot)
}

/// The failed upload's story: a one-line storage message naming the operation, the
/// object, the repository and the object store's answer; no restic snapshot; the session Failed.
fn assert_failed_cleanly(f: &S3Fault, snapshot: &serde_yaml::Value, answer: &str) -> Result<()> {
    let error = component_error(snapshot);
    assert!(
        error.contains("storage `put` of `data/")
            && !error.contains('\n')
            && error.contains(&format!("{BUCKET}/team/db/repository/v1/full/dump"))
            && error.contains(answer),
        "the message names the failed upload, the repository and the answer: {error}"
    );
    assert_eq!(
        f.env.in_phase("backupsessions", "Failed").len(),
        1,
        "{}",
        brief(&f.env.objects("backupsessions"))
    );
    assert_eq!(
        f.env.restic_snapshots()?,
        0,
        "no partial snapshot is listed"
    );
    Ok(())
}

#[test]
fn fault_store_http_500_on_pack_upload_fails_the_backup_clearly() -> Result<()> {
    let f = s3_fault()?;
    f.proxy.set(|r: &Request| {
        if r.is_pack_upload() {
            Action::Status(500)
        } else {
            Action::Pass
        }
    });
    let snapshot = first_backup_ends(&f, "Failed")?;
    assert!(
        f.proxy.count(Action::Status(500)) > 1,
        "retried before failing"
    );
    assert_failed_cleanly(&f, &snapshot, "500 Internal Server Error")?;
    f.proxy.pass();
    f.env.assert_recovered()
}

#[test]
fn fault_store_dropped_connections_on_pack_upload_fail_the_backup_clearly() -> Result<()> {
    let f = s3_fault()?;
    f.proxy.set(|r: &Request| {
        if r.is_pack_upload() {
            Action::Drop
        } else {
            Action::Pass
        }
    });
    let snapshot = first_backup_ends(&f, "Failed")?;
    assert!(f.proxy.count(Action::Drop) > 1, "retried before failing");
    assert_failed_cleanly(&f, &snapshot, "error sending request")?;
    f.proxy.pass();
    f.env.assert_recovered()
}

#[test]
fn fault_store_503_bursts_and_slow_answers_are_retried_to_success() -> Result<()> {
    let f = s3_fault()?;
    // The first two pack uploads are throttled (503 SlowDown); every answer is late.
    let mut throttled = 0;
    f.proxy.set(move |r: &Request| {
        if r.is_pack_upload() && throttled < 2 {
            throttled += 1;
            Action::Status(503)
        } else {
            Action::Delay(Duration::from_millis(150))
        }
    });
    first_backup_ends(&f, "Succeeded")?;
    assert_eq!(f.proxy.count(Action::Status(503)), 2);
    assert_eq!(f.env.restic_snapshots()?, 1);
    f.proxy.pass();
    f.env.assert_recovered()
}
