//! One container instance: from the pod spec to a running process (environment, volumes,
//! identity, program) and back to its exit, honouring stop requests and the test-only
//! OOM fault hook.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Pod};
use kube::ResourceExt as _;
use nix::sys::signal::Signal;
use tokio::sync::watch;

use super::super::env::{self, expand::expand, Sources};
use super::super::hosts;
use super::super::images::{self, Image};
use super::super::process::{groups, Launch};
use super::super::security::{self, Identity};
use super::super::volumes::{self, PodVolumes};
use super::super::Context;
use super::state::{now, Exit};

/// Test-only fault hook: SIGKILL the container after this many seconds and report it as
/// OOMKilled (exit 137), as the kernel's OOM killer would.
pub const OOM_KILL_AFTER: &str = "test.cairn.dev/oom-kill-after-seconds";

/// Why a container could not be started.
#[derive(Debug)]
pub enum NotStarted {
    /// CreateContainerConfigError (waiting; retried).
    Config(String),
    /// The runtime failed to start it (terminated, StartError, exit 128).
    Start(String),
}

/// A started container instance.
pub struct Running {
    /// Its pid (and process group).
    pub pid: i32,
    /// The child.
    child: tokio::process::Child,
    /// Start time.
    pub started_at: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    /// Environment and identity (exec probes run with them).
    pub env: Vec<(String, String)>,
    /// Who it runs as.
    pub identity: Identity,
    pid_file: std::path::PathBuf,
}

/// Prepares and starts `container` of `pod`.
pub async fn start(
    ctx: &Arc<Context>,
    pod: &Pod,
    container: &Container,
    image: &Image,
    volumes: &PodVolumes,
    restart_count: i32,
) -> Result<Running, NotStarted> {
    let ns = pod.namespace().unwrap_or_default();
    let name = pod.name_any();
    let spec = pod.spec.clone().unwrap_or_default();
    let identity = security::identity(
        spec.security_context.as_ref(),
        container.security_context.as_ref(),
        image.user(),
        &format!("{ns}/{name}"),
        &container.name,
    )
    .map_err(NotStarted::Config)?;
    let sources = Sources::new(ctx.client.clone(), &ns);
    let env = env::container_env(&sources, pod, container, &ctx.service_env(&ns))
        .await
        .map_err(NotStarted::Config)?;
    let lookup = |n: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    let command: Vec<String> = container
        .command
        .iter()
        .flatten()
        .map(|c| expand(c, lookup))
        .collect();
    let args: Vec<String> = container
        .args
        .iter()
        .flatten()
        .map(|a| expand(a, lookup))
        .collect();
    let (program, args) = images::program(image, &command, &args).map_err(NotStarted::Start)?;
    let mounts = volumes::mounts_for(container, volumes).map_err(NotStarted::Config)?;
    let hostname = env::hostname(pod);
    let hosts_path = ctx.layout.hosts(&ns, &name);
    std::fs::write(
        &hosts_path,
        hosts::render(&hostname, &ns, &ctx.service_addresses()),
    )
    .map_err(|e| NotStarted::Config(e.to_string()))?;
    let launch = Launch {
        program,
        args,
        env: env.clone(),
        working_dir: container.working_dir.clone().unwrap_or_else(|| "/".into()),
        mounts,
        hosts: hosts_path,
        hostname,
        identity: identity.clone(),
        read_only_root: container
            .security_context
            .as_ref()
            .and_then(|s| s.read_only_root_filesystem)
            == Some(true),
    };
    let log = ctx.layout.log(&ns, &name, &container.name);
    if restart_count > 0 && log.exists() {
        let _ = std::fs::rename(&log, ctx.layout.previous_log(&ns, &name, &container.name));
    }
    let script = ctx.layout.script(&ns, &name, &container.name);
    let mut cmd = launch
        .command(&script, &log)
        .map_err(|e| NotStarted::Start(e.to_string()))?;
    let child = cmd.spawn().map_err(|e| NotStarted::Start(e.to_string()))?;
    let pid = child.id().map_or(0, |p| p as i32);
    ctx.groups.add(pid);
    let pid_file = ctx.layout.pid(&ns, &name, &container.name);
    let _ = std::fs::write(&pid_file, format!("{pid}\n"));
    tracing::info!(pod = %format!("{ns}/{name}"), container = %container.name, pid, "container started");
    Ok(Running {
        pid,
        child,
        started_at: now(),
        env,
        identity,
        pid_file,
    })
}

/// The grace period of the first stop request (0 when the requester is gone).
async fn requested(stop: &mut watch::Receiver<Option<Stop>>) -> i64 {
    loop {
        if let Some(s) = *stop.borrow_and_update() {
            return s.grace;
        }
        if stop.changed().await.is_err() {
            return 0;
        }
    }
}

/// A request to stop a running container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop {
    /// Seconds between SIGTERM and SIGKILL.
    pub grace: i64,
}

impl Running {
    /// setpriv arguments of the container's identity (exec probes).
    pub fn setpriv_args(&self) -> Vec<String> {
        let id = &self.identity;
        if id.uid == 0 && id.gid == 0 && id.groups.is_empty() {
            return vec![];
        }
        let groups = if id.groups.is_empty() {
            "--clear-groups".to_owned()
        } else {
            format!(
                "--groups={}",
                id.groups
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        vec![
            format!("--reuid={}", id.uid),
            format!("--regid={}", id.gid),
            groups,
        ]
    }

    /// Waits for the process to exit, stopping it (SIGTERM, then SIGKILL after the grace
    /// period) when `stop` asks, or killing it when the OOM hook fires.
    pub async fn wait(
        mut self,
        ctx: &Context,
        pod: &Pod,
        mut stop: watch::Receiver<Option<Stop>>,
    ) -> Exit {
        let oom_after = pod
            .annotations()
            .get(OOM_KILL_AFTER)
            .and_then(|v| v.parse::<f64>().ok())
            .map(Duration::from_secs_f64);
        let oom = async {
            match oom_after {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        let mut oom_killed = false;
        let status = tokio::select! {
            s = self.child.wait() => s,
            () = oom => {
                oom_killed = true;
                groups::signal(self.pid, Signal::SIGKILL);
                self.child.wait().await
            }
            grace = requested(&mut stop) => {
                groups::signal(self.pid, Signal::SIGTERM);
                let bound = Duration::from_secs(u64::try_from(grace.max(0)).unwrap_or(0));
                match tokio::time::timeout(bound, self.child.wait()).await {
                    Ok(s) => s,
                    Err(_) => {
                        groups::signal(self.pid, Signal::SIGKILL);
                        self.child.wait().await
                    }
                }
            }
        };
        // Children left in the group die with their container.
        groups::signal(self.pid, Signal::SIGKILL);
        ctx.groups.remove(self.pid);
        let _ = std::fs::remove_file(&self.pid_file);
        let code = match &status {
            Ok(s) => {
                use std::os::unix::process::ExitStatusExt as _;
                s.code().or(s.signal().map(|sig| 128 + sig)).unwrap_or(255)
            }
            Err(_) => 255,
        };
        let (code, reason) = if oom_killed {
            (137, "OOMKilled")
        } else if code == 0 {
            (0, "Completed")
        } else {
            (code, "Error")
        };
        Exit {
            code,
            reason: reason.to_owned(),
            message: None,
            started_at: Some(self.started_at.clone()),
            finished_at: now(),
        }
    }
}
