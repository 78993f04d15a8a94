//! The container command of every executor and trigger pod goes through the real binary.
//! Each task of every built-in Addon and of the chart's catalog is resolved as the operator
//! resolves it (Addon → Function, `${var:=default}` from parameters and built-ins); the
//! resulting `command` + `args` are run as a pod runs them. Outside a cluster the binary
//! must get past its argument parser (exit 2 is a usage error) and stop at the API server.

use cairn_core::api::{Addon, AddonInfo, Function, TaskReference};
use cairn_core::catalog::{builtin_addons, builtin_functions};
use cairn_core::reconcile::executor::{resolve_tasks, BuiltIns, Direction};
use cairn_core::world::{ObjectKey, World};
use serde::Deserialize as _;
use std::process::Command;

/// Built-ins the operator gives every job (core/src/reconcile/session_steps.rs and
/// restore_session.rs).
fn builtins(direction: Direction) -> BuiltIns {
    let mut vars = BuiltIns::from([
        ("namespace".to_owned(), "demo".to_owned()),
        ("invokerKind".to_owned(), "BackupConfiguration".to_owned()),
        ("invokerName".to_owned(), "bc".to_owned()),
    ]);
    match direction {
        Direction::Backup => vars.insert("backupSession".into(), "bc-full-1795681958".into()),
        Direction::Restore => {
            vars.insert("snapshot".into(), "repo-bc-full-1795681958".into());
            vars.insert("restoreSession".into(), "restore-1".into())
        }
    };
    vars
}

/// The chart's catalog (deploy/helm/cairn/catalog/catalog.yaml), as a world.
fn chart_catalog() -> World {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/helm/cairn/catalog/catalog.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut world = World::default();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let value = serde_yaml::Value::deserialize(doc).unwrap();
        match value["kind"].as_str() {
            Some("Addon") => {
                let a: Addon = serde_yaml::from_value(value).unwrap();
                let key = ObjectKey::new("", a.metadata.name.clone().unwrap_or_default());
                world.addons.insert(key, a);
            }
            Some("Function") => {
                let f: Function = serde_yaml::from_value(value).unwrap();
                let key = ObjectKey::new("", f.metadata.name.clone().unwrap_or_default());
                world.functions.insert(key, f);
            }
            _ => {}
        }
    }
    world
}

/// `command[1..] + args` of every task of every Addon of `world` (built-ins when empty).
fn pod_commands(world: &World, addons: &[Addon]) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for addon in addons {
        let name = addon.metadata.name.clone().unwrap_or_default();
        for (direction, tasks) in [
            (Direction::Backup, &addon.spec.backup_tasks),
            (Direction::Restore, &addon.spec.restore_tasks),
        ] {
            for task in tasks {
                let info = AddonInfo {
                    name: name.clone(),
                    tasks: vec![TaskReference {
                        name: task.name.clone(),
                        ..TaskReference::default()
                    }],
                    ..AddonInfo::default()
                };
                let runs = resolve_tasks(world, &info, direction, &builtins(direction), None)
                    .unwrap_or_else(|e| panic!("{name}/{}: {e}", task.name));
                for run in runs {
                    assert_eq!(
                        run.command.first().map(String::as_str),
                        Some("cairn"),
                        "{name}/{}: the image's binary",
                        task.name
                    );
                    let mut argv = run.command[1..].to_vec();
                    argv.extend(run.args);
                    out.push((format!("{name}/{}", task.name), argv));
                }
            }
        }
    }
    out
}

/// Runs `cairn ARGV` as a pod would, but with no API server: the parser must accept it.
fn assert_parses(what: &str, argv: &[String]) {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(argv)
        // In a pod (so the Kubernetes forms run) of a cluster that is not there.
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", "1")
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("POD_NAMESPACE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: `cairn {}` must parse and then fail at the API server:\n{stderr}",
        argv.join(" ")
    );
    assert!(
        stderr.contains("API server"),
        "{what}: `cairn {}`:\n{stderr}",
        argv.join(" ")
    );
}

#[test]
fn every_builtin_function_runs_through_the_binarys_parser() {
    let commands = pod_commands(&World::default(), &builtin_addons());
    assert!(commands.len() >= 12, "{commands:?}");
    for (what, argv) in &commands {
        assert_parses(what, argv);
    }
    assert!(!builtin_functions().is_empty());
}

#[test]
fn every_function_of_the_charts_catalog_runs_through_the_binarys_parser() {
    let world = chart_catalog();
    let addons: Vec<Addon> = world.addons.values().cloned().collect();
    assert!(!addons.is_empty(), "the chart ships Addons");
    for (what, argv) in &pod_commands(&world, &addons) {
        assert_parses(what, argv);
    }
}

#[test]
fn the_trigger_cronjobs_command_runs_through_the_binarys_parser() {
    let cfg = cairn_kube::objects::Config::default();
    let input = cairn_kube::objects::TriggerInput {
        namespace: "demo",
        configuration: "bc",
        configuration_uid: None,
        session: None,
        session_name: "full",
        name: "bc-full",
        schedule: "*/5 * * * *",
        suspended: false,
    };
    let cron = cairn_kube::objects::trigger_cron_job(&cfg, &input);
    let container = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    let command: Vec<String> = serde_json::from_value(container["command"].clone()).unwrap();
    let args: Vec<String> = serde_json::from_value(container["args"].clone()).unwrap_or_default();
    assert_eq!(command[0], "cairn");
    let mut argv = command[1..].to_vec();
    argv.extend(args);
    assert_parses("trigger CronJob", &argv);
}

#[test]
fn a_usage_error_is_exit_2_so_the_checks_above_can_tell() {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["exec", "backup", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
