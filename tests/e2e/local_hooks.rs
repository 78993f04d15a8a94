//! Hooks in local mode, as a user writes them: a preBackup hook before the dump, and
//! preRestore / postRestore hooks around a restore; a failing preRestore hook keeps the
//! restore from touching the database.

use crate::local_support::*;
use anyhow::Result;
use cairn_testkit::MariaDb;
use std::path::Path;

/// A HookTemplate whose exec action appends `word` to `log`.
fn logging_template(name: &str, word: &str, log: &Path) -> String {
    format!(
        r#"apiVersion: core.kubestash.com/v1alpha1
kind: HookTemplate
metadata: {{name: {name}, namespace: {NS}}}
spec:
  usagePolicy: {{allowedNamespaces: {{from: Same}}}}
  action:
    exec:
      command: ["sh", "-c", "echo {word} >> '{log}'"]
  executor: {{type: Function}}
---
"#,
        log = log.display()
    )
}

/// A HookTemplate whose command fails.
fn failing_template(name: &str) -> String {
    format!(
        r#"apiVersion: core.kubestash.com/v1alpha1
kind: HookTemplate
metadata: {{name: {name}, namespace: {NS}}}
spec:
  action:
    exec:
      command: ["sh", "-c", "echo writers still connected >&2; exit 3"]
  executor: {{type: Function}}
"#
    )
}

/// `restore_session` with a `hooks` block.
fn restore_with_hooks(name: &str, target: &str, hooks: &str) -> String {
    format!("{}  hooks:\n{hooks}", restore_session(name, target, "repo"))
}

#[test]
fn hooks_run_around_the_backup_and_the_restore_and_a_failed_pre_hook_stops_the_restore(
) -> Result<()> {
    let src = sample_source()?;
    let dst = MariaDb::start()?;
    let local = Local::new()?;
    let log = local.path("hooks.log");
    let set = local.write("m", "base.yaml", &base_manifests("store", &local.path("b")))?;
    local.write("m", "app.yaml", &app_binding("app", &src, src.password()))?;
    local.write("m", "rp.yaml", &retention("keep", 5))?;
    let templates = ["pre-backup", "pre-restore", "post-restore", "on-failure"]
        .iter()
        .map(|w| logging_template(w, w, &log))
        .collect::<String>()
        + &failing_template("writers-gone");
    local.write("m", "hooks.yaml", &templates)?;
    let hooks = format!(
        "      hooks:\n        preBackup:\n          - {{name: mark, hookTemplate: {{name: pre-backup, namespace: {NS}}}}}\n"
    );
    local.write(
        "m",
        "bc.yaml",
        &backup_configuration(
            "bc",
            "app",
            "0 0 1 1 *",
            &[("local", "store", "keep")],
            &[RepoSpec {
                name: "repo",
                backend: "local",
                directory: "/db",
            }],
            &hooks,
        ),
    )?;
    let run = local.run_once("state", &[&set])?;
    assert!(
        run.ok,
        "backup with a preBackup hook failed:\n{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&log)?, "pre-backup\n");
    let session = &local.objects("state", "backupsessions")?[0];
    assert_condition(session, "PreBackupHooksExecutionSucceeded", "True");

    // A restore whose pre hook fails: no restore job, the session says which hook.
    let refused = local.write(
        "r1",
        "app.yaml",
        &app_binding("restored", &dst, dst.password()),
    )?;
    local.write(
        "r1",
        "restore.yaml",
        &restore_with_hooks(
            "refused",
            "restored",
            &format!("    preRestore:\n      - {{name: check-writers, hookTemplate: {{name: writers-gone, namespace: {NS}}}}}\n"),
        ),
    )?;
    let run = local.run_once("state", &[&set, &refused])?;
    assert!(!run.ok, "a failed preRestore hook must fail the run");
    let restore = local.object("state", "restoresessions", "refused")?;
    assert_eq!(phase(&restore), "Failed", "{restore:?}");
    assert_condition(&restore, "PreRestoreHooksExecutionSucceeded", "False");
    let message = condition(&restore, "PreRestoreHooksExecutionSucceeded").unwrap()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("check-writers"), "{message}");
    assert!(
        restore["status"]["components"].is_null()
            || restore["status"]["components"]
                .as_mapping()
                .is_some_and(|m| m.is_empty()),
        "nothing restored: {restore:?}"
    );
    assert!(
        dst.tables("shop")?.is_empty(),
        "the database was not touched"
    );

    // A restore with working hooks: pre, the data, then only the OnSuccess post hook.
    let restore_set = local.write("r2", "restore.yaml", &restore_with_hooks(
        "restore",
        "restored",
        &format!(
            "    preRestore:\n      - {{name: quiesce, hookTemplate: {{name: pre-restore, namespace: {NS}}}}}\n    postRestore:\n      - {{name: analyze, hookTemplate: {{name: post-restore, namespace: {NS}}}, executionPolicy: OnSuccess}}\n      - {{name: page, hookTemplate: {{name: on-failure, namespace: {NS}}}, executionPolicy: OnFailure}}\n"
        ),
    ))?;
    let run = local.run_once("state", &[&set, &refused, &restore_set])?;
    let restore = local.object("state", "restoresessions", "restore")?;
    assert_eq!(phase(&restore), "Succeeded", "{restore:?}\n{}", run.stderr);
    for c in [
        "PreRestoreHooksExecutionSucceeded",
        "PostRestoreHooksExecutionSucceeded",
    ] {
        assert_condition(&restore, c, "True");
    }
    assert_eq!(
        std::fs::read_to_string(&log)?,
        "pre-backup\npre-restore\npost-restore\n"
    );
    assert_same_tables(&src, &dst, &["shop", "analytics"])?;
    Ok(())
}
