//! Resolving an Addon task into a runnable container: Addon → Task → Function, with
//! `${var:=default}` filled from task params, Addon parameter defaults and built-ins.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::component::{COMPONENT_DUMP, COMPONENT_MANIFEST, KEY_DB_VERSION};
use crate::api::{AddonInfo, AppBinding, Driver, Task};
use crate::catalog;
use crate::job::TaskRun;
use crate::world::World;

use super::envsubst::substitute;

/// Which task list of the Addon a job uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `backupTasks`.
    Backup,
    /// `restoreTasks`.
    Restore,
}

/// Built-in variables of one job (`namespace`, `backupSession`, `snapshot`, ...).
pub type BuiltIns = BTreeMap<String, String>;

/// Resolves every task of `info`; `Err` says what is missing and what to do.
pub fn resolve_tasks(
    world: &World,
    info: &AddonInfo,
    direction: Direction,
    builtins: &BuiltIns,
    app: Option<&AppBinding>,
) -> Result<Vec<TaskRun>, String> {
    let addon = catalog::addon(world, &info.name).ok_or_else(|| {
        format!("Addon {:?} not found: create it or use a built-in addon (singlestore-addon, mysql-addon, mariadb-addon)", info.name)
    })?;
    info.tasks
        .iter()
        .map(|reference| {
            let task = match direction {
                Direction::Backup => addon.backup_task(&reference.name),
                Direction::Restore => addon.restore_task(&reference.name),
            }
            .ok_or_else(|| {
                format!(
                    "Addon {:?} has no {} task {:?}",
                    info.name,
                    direction_name(direction),
                    reference.name
                )
            })?;
            let function = catalog::function(world, &task.function).ok_or_else(|| {
                format!(
                    "Function {:?} of task {:?} not found: create it",
                    task.function, task.name
                )
            })?;
            let vars = variables(task, reference.params.as_ref(), builtins, app);
            Ok(TaskRun {
                task: task.name.clone(),
                function: task.function.clone(),
                component: component_of(&task.name).to_owned(),
                driver: task.driver.unwrap_or(Driver::Restic),
                image: substitute(
                    &resolve_image(&function.spec.image, &function.spec.available_versions, app),
                    &vars,
                ),
                command: function
                    .spec
                    .command
                    .iter()
                    .map(|c| substitute(c, &vars))
                    .collect(),
                args: function
                    .spec
                    .args
                    .iter()
                    .map(|a| substitute(a, &vars))
                    .collect(),
                env: reference
                    .variables
                    .iter()
                    .filter_map(|v| v.value.clone().map(|value| (v.name.clone(), value)))
                    .collect(),
            })
        })
        .collect()
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Backup => "backup",
        Direction::Restore => "restore",
    }
}

/// Snapshot component a task produces: manifests for `manifest-*`, else the dump.
pub fn component_of(task: &str) -> &'static str {
    if task.starts_with("manifest") {
        COMPONENT_MANIFEST
    } else {
        COMPONENT_DUMP
    }
}

/// Addon parameter defaults, overridden by task params, overridden by built-ins.
fn variables(
    task: &Task,
    params: Option<&Value>,
    builtins: &BuiltIns,
    app: Option<&AppBinding>,
) -> BTreeMap<String, String> {
    let mut vars: BTreeMap<String, String> = task
        .parameters
        .iter()
        .map(|p| (p.name.clone(), p.default.clone()))
        .collect();
    if let Some(Value::Object(map)) = params {
        for (k, v) in map {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            vars.insert(k.clone(), text);
        }
    }
    if let Some(version) = app
        .map(|a| a.spec.version.clone())
        .filter(|v| !v.is_empty())
    {
        vars.insert("dbVersion".to_owned(), version);
    }
    vars.extend(builtins.iter().map(|(k, v)| (k.clone(), v.clone())));
    vars
}

/// Resolves `${DB_VERSION}` in an image: the available version that mentions the
/// application's version, else the version itself.
fn resolve_image(image: &str, available: &[String], app: Option<&AppBinding>) -> String {
    let placeholder = format!("${{{KEY_DB_VERSION}}}");
    if !image.contains(&placeholder) {
        return image.to_owned();
    }
    let version = app.map(|a| a.spec.version.as_str()).unwrap_or_default();
    let tag = available
        .iter()
        .find(|v| !version.is_empty() && v.contains(version))
        .map_or(version, String::as_str);
    image.replace(&placeholder, tag)
}
