//! The built-in Addon and Function catalog (KubeDB's KubeStash catalog for SingleStore,
//! MySQL and MariaDB), so a fresh install works without applying catalog manifests.
//! An Addon or Function of the same name in the world wins over the built-in one.

use std::borrow::Cow;
use std::sync::OnceLock;

use k8s_openapi::api::core::v1::VolumeMount;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::addon::VolumeTemplate;
use crate::api::component::{TEMP_DIR_MOUNT_PATH, TEMP_DIR_VOLUME_NAME};
use crate::api::parameter::ParameterDefinition;
use crate::api::volume::VolumeSource;
use crate::api::{Addon, AddonSpec, Driver, Function, FunctionSpec, Task, TaskExecutor};
use crate::world::{ObjectKey, World};

/// Image of Cairn's executor; `${DB_VERSION}` is kept for KubeStash compatibility.
pub const EXECUTOR_IMAGE: &str = "ghcr.io/cairn-backup/cairn:v0.1.0";

/// Databases with a built-in addon: (addon prefix, dump-args flag name).
const DATABASES: [(&str, &str); 3] = [
    ("singlestore", "singlestore"),
    ("mysql", "mysql"),
    ("mariadb", "mariadb"),
];

/// The Addon named `name`: the world's if present, else the built-in one.
pub fn addon<'a>(world: &'a World, name: &str) -> Option<Cow<'a, Addon>> {
    if let Some(found) = world.addons.get(&ObjectKey::new("", name)) {
        return Some(Cow::Borrowed(found));
    }
    builtin_addon_catalog()
        .iter()
        .find(|a| a.metadata.name.as_deref() == Some(name))
        .map(Cow::Borrowed)
}

/// The Function named `name`: the world's if present, else the built-in one.
pub fn function<'a>(world: &'a World, name: &str) -> Option<Cow<'a, Function>> {
    if let Some(found) = world.functions.get(&ObjectKey::new("", name)) {
        return Some(Cow::Borrowed(found));
    }
    builtin_function_catalog()
        .iter()
        .find(|f| f.metadata.name.as_deref() == Some(name))
        .map(Cow::Borrowed)
}

/// The built-in Addons, built once per process (they are constants; lookups happen on
/// every reconcile of every configuration and session).
pub fn builtin_addon_catalog() -> &'static [Addon] {
    static ADDONS: OnceLock<Vec<Addon>> = OnceLock::new();
    ADDONS.get_or_init(build_addons)
}

/// The built-in Functions, built once per process.
pub fn builtin_function_catalog() -> &'static [Function] {
    static FUNCTIONS: OnceLock<Vec<Function>> = OnceLock::new();
    FUNCTIONS.get_or_init(build_functions)
}

/// Every built-in Addon: `singlestore-addon`, `mysql-addon`, `mariadb-addon`.
pub fn builtin_addons() -> Vec<Addon> {
    builtin_addon_catalog().to_vec()
}

/// Every built-in Function (`<db>-backup`, `<db>-restore`, `kubedbmanifest-*`).
pub fn builtin_functions() -> Vec<Function> {
    builtin_function_catalog().to_vec()
}

fn build_addons() -> Vec<Addon> {
    DATABASES
        .iter()
        .map(|(db, _)| {
            let spec = AddonSpec {
                backup_tasks: vec![
                    task("logical-backup", &format!("{db}-backup"), true),
                    task("manifest-backup", "kubedbmanifest-backup", false),
                ],
                restore_tasks: vec![
                    task("logical-backup-restore", &format!("{db}-restore"), false),
                    task("manifest-restore", "kubedbmanifest-restore", false),
                ],
            };
            Addon {
                metadata: named(&format!("{db}-addon")),
                spec,
            }
        })
        .collect()
}

fn build_functions() -> Vec<Function> {
    let mut out = Vec::new();
    for (db, flag) in DATABASES {
        out.push(function_of(
            &format!("{db}-backup"),
            "backup",
            &backup_args(flag),
        ));
        out.push(function_of(
            &format!("{db}-restore"),
            "restore",
            &restore_args(flag),
        ));
    }
    let common = [
        "--namespace=${namespace:=default}",
        "--enable-cache=${enableCache:=}",
        "--scratch-dir=${scratchDir:=}",
    ];
    let mut backup: Vec<String> = common.iter().map(|s| (*s).to_owned()).collect();
    backup.insert(1, "--backupsession=${backupSession:=}".to_owned());
    let mut restore: Vec<String> = common.iter().map(|s| (*s).to_owned()).collect();
    restore.insert(1, "--restoresession=${restoreSession:=}".to_owned());
    restore.insert(2, "--snapshot=${snapshot:=}".to_owned());
    out.push(function_of("kubedbmanifest-backup", "backup", &backup));
    out.push(function_of("kubedbmanifest-restore", "restore", &restore));
    out
}

/// The args KubeDB's `<db>-backup` Functions declare.
fn backup_args(flag: &str) -> Vec<String> {
    [
        "--namespace=${namespace:=default}".to_owned(),
        "--backupsession=${backupSession:=}".to_owned(),
        "--enable-cache=${enableCache:=}".to_owned(),
        "--scratch-dir=${scratchDir:=}".to_owned(),
        "--wait-timeout=${waitTimeout:=300}".to_owned(),
        format!("--{flag}-args=${{args:=}}"),
        "--db-version=${dbVersion:=}".to_owned(),
        "--databases=${databases:=}".to_owned(),
    ]
    .into()
}

/// The args KubeDB's `<db>-restore` Functions declare.
fn restore_args(flag: &str) -> Vec<String> {
    [
        "--namespace=${namespace:=default}".to_owned(),
        "--restoresession=${restoreSession:=}".to_owned(),
        "--snapshot=${snapshot:=}".to_owned(),
        "--enable-cache=${enableCache:=}".to_owned(),
        "--scratch-dir=${scratchDir:=}".to_owned(),
        "--wait-timeout=${waitTimeout:=300}".to_owned(),
        format!("--{flag}-args=${{args:=}}"),
        "--db-version=${dbVersion:=}".to_owned(),
        "--databases=${databases:=}".to_owned(),
    ]
    .into()
}

fn function_of(name: &str, verb: &str, args: &[String]) -> Function {
    let spec = FunctionSpec {
        image: EXECUTOR_IMAGE.to_owned(),
        command: vec!["cairn".to_owned(), "exec".to_owned(), verb.to_owned()],
        args: args.to_vec(),
        ..FunctionSpec::default()
    };
    Function {
        metadata: named(name),
        spec,
    }
}

fn task(name: &str, function: &str, with_databases: bool) -> Task {
    let mut parameters = vec![
        param("args", "Extra arguments for the dump or load command", ""),
        param("enableCache", "Use a restic cache", "true"),
        param("scratchDir", "Scratch directory", TEMP_DIR_MOUNT_PATH),
    ];
    if with_databases {
        parameters.insert(
            1,
            param(
                "databases",
                "Comma-separated databases to back up (default: all)",
                "",
            ),
        );
    }
    Task {
        name: name.to_owned(),
        function: function.to_owned(),
        driver: Some(Driver::Restic),
        executor: Some(TaskExecutor::Job),
        singleton: true,
        parameters,
        volume_template: vec![VolumeTemplate {
            name: TEMP_DIR_VOLUME_NAME.to_owned(),
            usage: "Scratch volume".to_owned(),
            source: Some(VolumeSource::empty_dir()),
        }],
        volume_mounts: vec![VolumeMount {
            name: TEMP_DIR_VOLUME_NAME.to_owned(),
            mount_path: TEMP_DIR_MOUNT_PATH.to_owned(),
            ..VolumeMount::default()
        }],
    }
}

fn param(name: &str, usage: &str, default: &str) -> ParameterDefinition {
    ParameterDefinition {
        name: name.to_owned(),
        usage: usage.to_owned(),
        required: false,
        default: default.to_owned(),
    }
}

fn named(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        ..ObjectMeta::default()
    }
}
