//! Hooks through the operator, as a KubeStash user writes them: HookTemplates of
//! executor type `Operator` run in the operator's pod (a `tcpSocket` check that the
//! database answers before the dump, an `httpPost` notification after it, seen by a
//! webhook receiver the test runs); a template of executor type `Pod`, which the operator
//! cannot run yet, makes its BackupConfiguration Invalid up front, naming the field.

use crate::kube_story::{manifests, STEP};
use crate::kube_support::*;
use crate::local_support::NS;
use anyhow::Result;
use cairn_testkit::MariaDb;
use std::io::{Read, Write};
use std::sync::mpsc;

/// A webhook receiver on loopback: answers 200 to each request and hands it over.
fn receiver() -> Result<(u16, mpsc::Receiver<String>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then as much body as content-length says.
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            if tx
                .send(String::from_utf8_lossy(&request).into_owned())
                .is_err()
            {
                return;
            }
        }
    });
    Ok((port, rx))
}

fn templates(db_port: u16, webhook_port: u16) -> String {
    format!(
        r#"apiVersion: core.kubestash.com/v1alpha1
kind: HookTemplate
metadata: {{name: database-answers, namespace: {NS}}}
spec:
  action:
    tcpSocket: {{host: 127.0.0.1, port: {db_port}}}
  executor: {{type: Operator}}
---
apiVersion: core.kubestash.com/v1alpha1
kind: HookTemplate
metadata: {{name: notify-chat, namespace: {NS}}}
spec:
  action:
    httpPost:
      host: 127.0.0.1
      port: {webhook_port}
      path: /hooks/backup
      httpHeaders: [{{name: X-Team, value: dba}}]
      body: '{{"text": "nightly backup finished"}}'
  executor: {{type: Operator}}
---
apiVersion: core.kubestash.com/v1alpha1
kind: HookTemplate
metadata: {{name: flush-in-pod, namespace: {NS}}}
spec:
  action:
    exec: {{command: [mariadb, -e, "FLUSH TABLES"]}}
  executor: {{type: Pod, pod: {{selector: "app=db"}}}}
"#
    )
}

const HOOKS: &str = "      hooks:
        preBackup:
          - {name: database-answers, hookTemplate: {name: database-answers, namespace: demo}}
        postBackup:
          - {name: notify, hookTemplate: {name: notify-chat, namespace: demo}, executionPolicy: Always}
";

fn condition<'a>(o: &'a serde_json::Value, type_: &str) -> Option<&'a serde_json::Value> {
    o["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

#[test]
fn kube_operator_hooks_check_the_database_before_the_dump_and_notify_after_it() -> Result<()> {
    let db = MariaDb::start()?;
    db.sql(
        "CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY); \
         INSERT INTO shop.items SELECT seq FROM shop.seq_1_to_100",
    )?;
    let (webhook_port, requests) = receiver()?;
    let cluster = Cluster::up()?;
    let backups = cluster.backups_dir()?;
    cluster.install_operator(&backups)?;
    cluster.kubectl(&["create", "namespace", NS])?;
    cluster.apply(&templates(db.port(), webhook_port))?;
    cluster.apply(&manifests(&db, &backups, HOOKS))?;

    cluster.wait_for_a_succeeded_session("the hooked BackupSession to succeed", NS, STEP)?;
    let sessions = cluster.items("backupsessions", NS)?;
    let session = sessions.iter().find(|s| phase(s) == "Succeeded").unwrap();
    for type_ in [
        "PreBackupHooksExecutionSucceeded",
        "PostBackupHooksExecutionSucceeded",
    ] {
        let c = condition(session, type_);
        assert_eq!(
            c.map(|c| c["status"].clone()),
            Some("True".into()),
            "{type_}: {session:#}"
        );
    }
    let request = requests.recv_timeout(std::time::Duration::from_secs(10))?;
    assert!(
        request.starts_with("POST /hooks/backup HTTP/1.1"),
        "{request}"
    );
    assert!(
        request.to_ascii_lowercase().contains("x-team: dba"),
        "{request}"
    );
    assert!(
        request.ends_with(r#"{"text": "nightly backup finished"}"#),
        "{request}"
    );
    assert!(
        requests.try_recv().is_err(),
        "one notification for one session"
    );

    // A configuration whose hook needs the Pod executor is refused before it runs.
    let pod_hooks = HOOKS.replace("notify-chat", "flush-in-pod");
    let invalid = crate::local_support::backup_configuration(
        "pod-hooked",
        "app",
        "*/5 * * * *",
        &[("local", "local-storage", "keep")],
        &[crate::local_support::RepoSpec {
            name: "pod-repo",
            backend: "local",
            directory: "/pod-hooked",
        }],
        &pod_hooks,
    );
    cluster.apply(&invalid)?;
    cluster.wait("the Pod-executor configuration to be Invalid", STEP, || {
        let c = cluster.kubectl(&[
            "get",
            "backupconfiguration",
            "pod-hooked",
            "-n",
            NS,
            "-o",
            "json",
        ])?;
        let c: serde_json::Value = serde_json::from_str(&c)?;
        Ok(phase(&c) == "Invalid")
    })?;
    let shown = cluster.kubectl(&[
        "get",
        "backupconfiguration",
        "pod-hooked",
        "-n",
        NS,
        "-o",
        "json",
    ])?;
    assert!(
        shown.contains(r#"spec.sessions[0].hooks.postBackup hook \"notify\": HookTemplate demo/flush-in-pod: spec.executor.type Pod is not supported"#),
        "{shown}"
    );
    let sessions = cluster.items("backupsessions", NS)?;
    assert!(
        sessions
            .iter()
            .all(|s| s["spec"]["invoker"]["name"] != "pod-hooked"),
        "no session of the Invalid configuration: {sessions:#?}"
    );
    cluster.helm(&["uninstall", "cairn", "--namespace", "cairn-system"])?;
    Ok(())
}
