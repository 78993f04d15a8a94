//! What a user sees when the executor cannot get at what a backup needs: a Secret that
//! does not exist yet, or a cluster admin's trimmed ClusterRole. Each fails its session at
//! once with a reason naming the object (and, for RBAC, the permission and where it is
//! granted), never a session that stays Running; once fixed, the next backup succeeds.

use crate::kube_story::{manifests, STEP};
use crate::kube_support::*;
use crate::local_support::NS;
use anyhow::{Context, Result};
use cairn_testkit::MariaDb;
use serde_json::Value;

/// A BackupSession the user creates by hand (what `kubectl kubestash trigger` does).
fn manual_session(name: &str) -> String {
    format!(
        "apiVersion: core.kubestash.com/v1alpha1\nkind: BackupSession\n\
         metadata: {{name: {name}, namespace: {NS}}}\n\
         spec:\n  invoker: {{apiGroup: core.kubestash.com, kind: BackupConfiguration, name: sample-backup}}\n  session: full\n"
    )
}

/// The error of the dump component of the session's Snapshot.
fn dump_error(cluster: &Cluster, session: &str) -> Result<String> {
    let snapshots = cluster.items("snapshots", NS)?;
    let snapshot = snapshots
        .iter()
        .find(|s| s["spec"]["backupSession"] == session)
        .with_context(|| format!("the Snapshot of {session}"))?;
    Ok(snapshot["status"]["components"]["dump"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

#[test]
fn kube_a_missing_secret_or_a_trimmed_executor_role_fails_the_session_with_its_reason() -> Result<()>
{
    let db = MariaDb::start()?;
    db.sql("CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY); INSERT INTO shop.items VALUES (1)")?;
    let cluster = Cluster::up()?;
    let backups = cluster.backups_dir()?;
    cluster.install_operator(&backups)?;
    cluster.kubectl(&["create", "namespace", NS])?;
    let all = manifests(&db, &backups, "");
    let (secret, rest): (Vec<&str>, Vec<&str>) = all
        .split("---\n")
        .partition(|doc| doc.contains("name: encrypt-secret") && doc.contains("kind: Secret"));
    assert_eq!(secret.len(), 1, "one encryption Secret in the manifests");

    // 1. The encryption Secret is not there yet: the instant backup fails naming it.
    cluster.apply(&rest.join("---\n"))?;
    let mut first = None;
    cluster.wait("the instant BackupSession", STEP, || {
        first = cluster.items("backupsessions", NS)?.first().cloned();
        Ok(first.is_some())
    })?;
    let first = first.unwrap()["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let ended = cluster.wait_for_session_end(NS, &first, STEP)?;
    assert_eq!(phase(&ended), "Failed", "{ended:#}");
    let why = dump_error(&cluster, &first)?;
    assert!(
        why.contains(&format!("Secret {NS}/encrypt-secret")) && why.contains("encryptionSecret"),
        "the reason names the missing Secret and who references it: {why}"
    );

    // 2. The Secret exists, but an admin took `secrets` out of the executor's ClusterRole.
    cluster.apply(secret[0])?;
    let mut role: Value = serde_json::from_str(&cluster.kubectl(&[
        "get",
        "clusterrole",
        "cairn-executor",
        "-o",
        "json",
    ])?)?;
    // As the admin's edit: no server-set fields, so `replace` is unconditional.
    role["metadata"] = serde_json::json!({ "name": "cairn-executor" });
    let mut trimmed = role.clone();
    let rules = trimmed["rules"].as_array_mut().context("rules")?;
    let before = rules.len();
    rules.retain(|r| {
        !r["resources"]
            .as_array()
            .is_some_and(|rs| rs.iter().any(|x| x == "secrets"))
    });
    assert_eq!(rules.len() + 1, before, "one rule grants secrets: {role:#}");
    cluster.kubectl_with_input(&["replace", "-f", "-"], &serde_json::to_string(&trimmed)?)?;
    cluster.apply(&manual_session("by-hand-1"))?;
    let ended = cluster.wait_for_session_end(NS, "by-hand-1", STEP)?;
    assert_eq!(phase(&ended), "Failed", "{ended:#}");
    let why = dump_error(&cluster, "by-hand-1")?;
    for part in [
        "403",
        "system:serviceaccount:demo:cairn-executor",
        "secrets",
        "ClusterRole",
    ] {
        assert!(why.contains(part), "the reason says {part:?}: {why}");
    }

    // 3. The role is put back: the next backup succeeds.
    cluster.kubectl_with_input(&["replace", "-f", "-"], &serde_json::to_string(&role)?)?;
    cluster.apply(&manual_session("by-hand-2"))?;
    let ended = cluster.wait_for_session_end(NS, "by-hand-2", STEP)?;
    assert_eq!(
        phase(&ended),
        "Succeeded",
        "{ended:#}\n{}",
        cluster.diagnostics()
    );
    Ok(())
}
