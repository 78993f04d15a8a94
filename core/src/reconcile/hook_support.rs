//! Which hooks a control plane can run, decided before any session starts: a hook that
//! cannot run makes its BackupConfiguration or RestoreSession Invalid with the reason,
//! instead of a session that starts, runs its backup and then fails.
//!
//! The local daemon runs a template's action from its host, whatever the executor type
//! (there is no pod): `exec` as a local command, `httpGet`/`httpPost`/`tcpSocket` as a
//! probe would. The operator runs executor type `Operator` the same way, from its own
//! pod, as KubeStash's operator does (notifications: an `httpPost` to a chat webhook);
//! the `Function` (a Job) and `Pod` (`pods/exec` into the target) executors are not
//! built yet.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::hook::HookInfo;
use crate::api::hook_template::HookExecutorType;
use crate::api::HookTemplate;
use crate::world::{HookSpec, ObjectKey, World};

/// The control plane that runs a world's hooks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HookRunner {
    /// `cairn run` on a host: every `exec` action runs as a local command.
    #[default]
    Local,
    /// The Kubernetes operator: `exec` actions of executor type `Operator`.
    Operator,
}

/// A HookTemplate's action (kmodules prober `Handler`), resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HookAction {
    /// `exec.command`: run it.
    Exec(Vec<String>),
    /// `httpGet` / `httpPost`: a request that must answer 200-399, as a probe must.
    Http {
        /// `GET` or `POST`.
        method: String,
        /// `scheme://host:port/path`.
        url: String,
        /// `httpHeaders` as (name, value).
        headers: Vec<(String, String)>,
        /// `body` of an `httpPost`.
        body: Option<String>,
    },
    /// `tcpSocket`: a connection that must open.
    Tcp {
        /// Host.
        host: String,
        /// Port.
        port: u16,
    },
}

/// The action of `template`, or what is wrong with it. Hosts default to `localhost`
/// (a probe's default is the pod's own address; here the process's host).
pub fn action(template: &HookTemplate) -> Result<HookAction, String> {
    let action = template
        .spec
        .action
        .as_ref()
        .ok_or("the HookTemplate has no spec.action")?;
    if let Some(exec) = action.get("exec") {
        let command: Vec<String> = exec
            .get("command")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        if command.is_empty() {
            return Err("spec.action.exec.command is empty".into());
        }
        return Ok(HookAction::Exec(command));
    }
    let host = |a: &Value| {
        a.get("host")
            .and_then(Value::as_str)
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost")
            .to_owned()
    };
    let port = |a: &Value, field: &str| -> Result<u16, String> {
        match a.get("port") {
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("spec.action.{field}.port {n} is not a port number")),
            Some(Value::String(s)) => s.parse().map_err(|_| {
                format!("spec.action.{field}.port {s:?}: named ports need a pod; give the number")
            }),
            _ => Err(format!("spec.action.{field}.port is required")),
        }
    };
    for (field, method) in [("httpGet", "GET"), ("httpPost", "POST")] {
        let Some(a) = action.get(field) else { continue };
        let scheme = a
            .get("scheme")
            .and_then(Value::as_str)
            .unwrap_or("HTTP")
            .to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!("spec.action.{field}.scheme must be HTTP or HTTPS"));
        }
        let path = a.get("path").and_then(Value::as_str).unwrap_or("/");
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        let headers = a
            .get("httpHeaders")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|h| {
                Some((
                    h.get("name")?.as_str()?.to_owned(),
                    h.get("value")?.as_str()?.to_owned(),
                ))
            })
            .collect();
        return Ok(HookAction::Http {
            method: method.to_owned(),
            url: format!("{scheme}://{}:{}{path}", host(a), port(a, field)?),
            headers,
            body: a.get("body").and_then(Value::as_str).map(str::to_owned),
        });
    }
    if let Some(a) = action.get("tcpSocket") {
        return Ok(HookAction::Tcp {
            host: host(a),
            port: port(a, "tcpSocket")?,
        });
    }
    Err("spec.action needs one of exec, httpGet, httpPost or tcpSocket".into())
}

/// The action of the hook `spec` runs: its HookTemplate's, or why there is none.
pub fn resolve(world: &World, spec: &HookSpec) -> Result<HookAction, String> {
    let key = ObjectKey::new(spec.template.namespace.clone(), spec.template.name.clone());
    let template = world
        .hook_templates
        .get(&key)
        .ok_or_else(|| format!("HookTemplate {key} not found"))?;
    action(template).map_err(|why| format!("HookTemplate {key}: {why}"))
}

/// Why `template` cannot run under `runner`, if it cannot.
pub fn template_problem(runner: HookRunner, template: &HookTemplate) -> Option<String> {
    if let Err(why) = action(template) {
        return Some(why);
    }
    let executor = template.spec.executor.as_ref().and_then(|e| e.type_);
    match (runner, executor) {
        (HookRunner::Local, _) | (HookRunner::Operator, Some(HookExecutorType::Operator)) => None,
        (HookRunner::Operator, other) => Some(format!(
            "spec.executor.type {} is not supported by Cairn's operator yet: use type Operator (the command runs in the operator's pod)",
            match other {
                Some(HookExecutorType::Function) => "Function",
                Some(HookExecutorType::Pod) => "Pod",
                _ => "(unset)",
            }
        )),
    }
}

/// Problems with the hooks of `field` (a spec path such as
/// `spec.sessions[0].hooks.preBackup`) referenced from `namespace`: templates that exist
/// and cannot run here. A template that does not exist yet is not a spec problem here:
/// its hook fails when it is due, naming it.
pub fn hook_problems(
    world: &World,
    namespace: &str,
    field: &str,
    hooks: &[HookInfo],
) -> Vec<String> {
    hooks
        .iter()
        .filter_map(|hook| {
            let r = hook.hook_template.as_ref()?;
            let key = ObjectKey::new(r.namespace_or(namespace), r.name.clone());
            let template = world.hook_templates.get(&key)?;
            let why = template_problem(world.hook_runner, template)?;
            Some(format!(
                "{field} hook {:?}: HookTemplate {key}: {why}",
                hook.name
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(action: &str) -> HookTemplate {
        serde_yaml::from_str(&format!(
            "apiVersion: core.kubestash.com/v1alpha1\nkind: HookTemplate\nmetadata: {{name: t, namespace: demo}}\nspec:\n  action: {action}\n"
        ))
        .unwrap()
    }

    #[test]
    fn each_kind_of_action_is_resolved_with_a_probes_defaults() {
        assert_eq!(
            action(&template("{exec: {command: [sh, -c, 'echo hi']}}")),
            Ok(HookAction::Exec(vec![
                "sh".into(),
                "-c".into(),
                "echo hi".into()
            ]))
        );
        assert_eq!(
            action(&template("{httpGet: {port: 8080, path: healthz}}")),
            Ok(HookAction::Http {
                method: "GET".into(),
                url: "http://localhost:8080/healthz".into(),
                headers: vec![],
                body: None,
            })
        );
        assert_eq!(
            action(&template(
                "{httpPost: {host: chat.example, port: 443, scheme: HTTPS, path: /x, httpHeaders: [{name: A, value: b}], body: '{}'}}"
            )),
            Ok(HookAction::Http {
                method: "POST".into(),
                url: "https://chat.example:443/x".into(),
                headers: vec![("A".into(), "b".into())],
                body: Some("{}".into()),
            })
        );
        assert_eq!(
            action(&template("{tcpSocket: {port: 3306}}")),
            Ok(HookAction::Tcp {
                host: "localhost".into(),
                port: 3306
            })
        );
    }

    #[test]
    fn an_action_that_cannot_run_says_which_field_is_wrong() {
        for (yaml, expected) in [
            ("{exec: {command: []}}", "spec.action.exec.command is empty"),
            ("{httpGet: {port: http}}", "named ports need a pod"),
            (
                "{httpGet: {path: /}}",
                "spec.action.httpGet.port is required",
            ),
            ("{tcpSocket: {port: 70000}}", "is not a port number"),
            (
                "{httpPost: {port: 1, scheme: FTP}}",
                "scheme must be HTTP or HTTPS",
            ),
            ("{}", "needs one of exec, httpGet, httpPost or tcpSocket"),
        ] {
            let why = action(&template(yaml)).unwrap_err();
            assert!(why.contains(expected), "{yaml}: {why}");
        }
    }
}
