//! One pod's life on the node: images, volumes, init containers in order, containers with
//! restarts, probes, status reports, and graceful deletion.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Pod};
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::{Api, ResourceExt as _};
use tokio::sync::{watch, Notify};

use super::super::images::{self, Image};
use super::super::probe;
use super::super::volumes::{self, PodVolumes, VolumeContext};
use super::super::Context;
use super::container::{self, NotStarted, Stop};
use super::state::{self, Exit, Kind, Phase, PodState};

/// Restart backoff: upstream's CrashLoopBackOff is 10s doubling to 5min; the test
/// kubelet uses 1s doubling to 30s so restart tests take seconds.
const RESTART_BASE: Duration = Duration::from_secs(1);
const RESTART_MAX: Duration = Duration::from_secs(30);
/// Retry period of unready volumes, config errors and image pulls.
const RETRY: Duration = Duration::from_secs(2);

/// The state shared by a pod's tasks.
struct Shared {
    state: Mutex<PodState>,
    dirty: Notify,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut PodState)) {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
        self.dirty.notify_one();
    }
}

/// Runs the pod whose latest object `updates` carries (`None`: gone from the API).
pub async fn run(ctx: Arc<Context>, mut updates: watch::Receiver<Option<Arc<Pod>>>) {
    let Some(pod) = updates.borrow().clone() else {
        return;
    };
    let ns = pod.namespace().unwrap_or_default();
    let name = pod.name_any();
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let already_done = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .is_some_and(|p| p == "Succeeded" || p == "Failed");
    let shared = Arc::new(Shared {
        state: Mutex::new(PodState::new(&pod)),
        dirty: Notify::new(),
    });
    let (stop_tx, stop_rx) = watch::channel(None::<Stop>);
    let mut lifecycle = if already_done {
        tokio::spawn(async {})
    } else {
        if let Err(e) = ctx.layout.create_pod_dir(&ns, &name) {
            tracing::warn!(pod = %name, error = %e, "creating the pod directory failed");
        }
        shared.dirty.notify_one();
        tokio::spawn(lifecycle(ctx.clone(), pod.clone(), shared.clone(), stop_rx))
    };
    let reporter = (!already_done).then(|| tokio::spawn(report(api.clone(), shared.clone())));

    let mut lifecycle_done = false;
    let deleting = loop {
        let current = updates.borrow_and_update().clone();
        match &current {
            None => break None,
            Some(p) if p.metadata.deletion_timestamp.is_some() => break current,
            _ => {}
        }
        if lifecycle_done {
            if updates.changed().await.is_err() {
                break None;
            }
            continue;
        }
        tokio::select! {
            r = updates.changed() => if r.is_err() { break None },
            _ = &mut lifecycle => lifecycle_done = true,
        }
    };
    // Gone from the API (force-deleted): a short grace; else the pod's deletion grace.
    let grace = deleting.as_ref().map_or(2, |p| {
        p.metadata
            .deletion_grace_period_seconds
            .or(p
                .spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds))
            .unwrap_or(30)
    });
    let _ = stop_tx.send(Some(Stop { grace }));
    let bound = Duration::from_secs(u64::try_from(grace.max(0)).unwrap_or(0) + 10);
    if !lifecycle_done && tokio::time::timeout(bound, &mut lifecycle).await.is_err() {
        lifecycle.abort();
    }
    if let Some(r) = reporter {
        r.abort();
    }
    if let Some(p) = deleting {
        if !already_done {
            let status = shared
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .status();
            let _ = write_status(&api, &name, &status).await;
        }
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: p.uid(),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        if let Err(e) = api.delete(&name, &dp).await {
            tracing::debug!(pod = %name, error = %e, "final delete failed");
        }
    }
    let _ = std::fs::remove_dir_all(ctx.layout.pod_dir(&ns, &name).join("volumes"));
    tracing::info!(pod = %format!("{ns}/{name}"), "pod finished on the node");
}

async fn write_status(
    api: &Api<Pod>,
    name: &str,
    status: &k8s_openapi::api::core::v1::PodStatus,
) -> kube::Result<()> {
    let patch = serde_json::json!({ "status": status });
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(|_| ())
}

/// Writes the pod status whenever it changes.
async fn report(api: Api<Pod>, shared: Arc<Shared>) {
    let mut last = None;
    loop {
        shared.dirty.notified().await;
        let status = shared
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .status();
        if last.as_ref() == Some(&status) {
            continue;
        }
        let name = shared
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pod_name
            .clone();
        match write_status(&api, &name, &status).await {
            Ok(()) => last = Some(status),
            Err(e) => {
                tracing::debug!(pod = %name, error = %e, "status write failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                shared.dirty.notify_one();
            }
        }
    }
}

/// Sleeps `d`; true when a stop was requested meanwhile.
async fn sleep_or_stop(d: Duration, stop: &mut watch::Receiver<Option<Stop>>) -> bool {
    let stopped = async {
        loop {
            if stop.borrow_and_update().is_some() {
                return;
            }
            if stop.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = tokio::time::sleep(d) => stop.borrow().is_some(),
        () = stopped => true,
    }
}

/// How a container ended for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Final {
    Succeeded,
    Failed,
}

async fn lifecycle(
    ctx: Arc<Context>,
    pod: Arc<Pod>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<Option<Stop>>,
) {
    let spec = pod.spec.clone().unwrap_or_default();
    let inits = spec.init_containers.clone().unwrap_or_default();
    let mains = spec.containers.clone();
    let resolve =
        |c: &Container| images::resolve(&ctx.images, c.image.as_deref().unwrap_or_default());
    let init_images: Vec<Option<Image>> = inits.iter().map(resolve).collect();
    let main_images: Vec<Option<Image>> = mains.iter().map(resolve).collect();
    if init_images.iter().chain(&main_images).any(Option::is_none) {
        pull_backoff(
            &shared,
            &inits,
            &mains,
            &init_images,
            &main_images,
            &mut stop,
        )
        .await;
        return;
    }
    let volume_ctx = VolumeContext {
        client: &ctx.client,
        layout: &ctx.layout,
        ca_pem: &ctx.ca_pem,
    };
    let volumes = loop {
        match volumes::prepare(&volume_ctx, &pod).await {
            Ok(v) => break v,
            Err(msg) => {
                tracing::warn!(pod = %pod.name_any(), error = %msg, "volumes not ready");
                if sleep_or_stop(RETRY, &mut stop).await {
                    return;
                }
            }
        }
    };
    shared.update(|s| s.sandbox_ready = true);
    let policy = spec
        .restart_policy
        .clone()
        .unwrap_or_else(|| "Always".into());
    for (i, c) in inits.iter().enumerate() {
        let image = init_images[i].clone().unwrap_or(Image::Host);
        // Init containers restart on failure unless the pod's policy is Never.
        let init_policy = if policy == "Never" {
            "Never"
        } else {
            "OnFailure"
        };
        let end = run_container(
            &ctx,
            &pod,
            c,
            Kind::Init,
            i,
            &image,
            &volumes,
            init_policy,
            &shared,
            stop.clone(),
        )
        .await;
        if end == Final::Failed || stop.borrow().is_some() {
            shared.update(|s| {
                s.phase = if end == Final::Failed {
                    Phase::Failed
                } else {
                    Phase::Succeeded
                }
            });
            return;
        }
    }
    shared.update(|s| {
        s.initialized = true;
        for cs in &mut s.main {
            state::set_waiting(cs, "ContainerCreating", None);
        }
    });
    let runs = mains.iter().enumerate().map(|(i, c)| {
        let image = main_images[i].clone().unwrap_or(Image::Host);
        let (ctx, pod, shared, stop, volumes, policy) =
            (&ctx, &pod, &shared, stop.clone(), &volumes, policy.as_str());
        async move {
            run_container(
                ctx,
                pod,
                c,
                Kind::Main,
                i,
                &image,
                volumes,
                policy,
                shared,
                stop,
            )
            .await
        }
    });
    let ends = futures::future::join_all(runs).await;
    let failed = ends.contains(&Final::Failed);
    shared.update(|s| {
        s.phase = if failed {
            Phase::Failed
        } else {
            Phase::Succeeded
        }
    });
}

async fn pull_backoff(
    shared: &Shared,
    inits: &[Container],
    mains: &[Container],
    init_images: &[Option<Image>],
    main_images: &[Option<Image>],
    stop: &mut watch::Receiver<Option<Stop>>,
) {
    let mark = |reason: &str| {
        shared.update(|s| {
            for (kind, list, imgs) in [(Kind::Init, inits, init_images), (Kind::Main, mains, main_images)] {
                for (i, c) in list.iter().enumerate() {
                    if imgs[i].is_none() {
                        let image = c.image.clone().unwrap_or_default();
                        let message = if reason == "ErrImagePull" {
                            format!(
                                "rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": \
                                 not found (the test cluster runs only its known images)"
                            )
                        } else {
                            format!("Back-off pulling image \"{image}\"")
                        };
                        state::set_waiting(s.container(kind, i), reason, Some(message));
                    }
                }
            }
        });
    };
    mark("ErrImagePull");
    if sleep_or_stop(RETRY, stop).await {
        return;
    }
    mark("ImagePullBackOff");
    while !sleep_or_stop(Duration::from_secs(60), stop).await {}
}

fn restart_backoff(restarts: i32) -> Duration {
    let exp = u32::try_from(restarts.clamp(0, 16)).unwrap_or(0);
    (RESTART_BASE * 2u32.pow(exp)).min(RESTART_MAX)
}

#[allow(clippy::too_many_arguments)]
async fn run_container(
    ctx: &Arc<Context>,
    pod: &Arc<Pod>,
    c: &Container,
    kind: Kind,
    i: usize,
    image: &Image,
    volumes: &PodVolumes,
    policy: &str,
    shared: &Arc<Shared>,
    mut stop: watch::Receiver<Option<Stop>>,
) -> Final {
    loop {
        if stop.borrow().is_some() {
            return Final::Succeeded;
        }
        let restarts = shared
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .container(kind, i)
            .restart_count;
        let exit = match container::start(ctx, pod, c, image, volumes, restarts).await {
            Err(NotStarted::Config(msg)) => {
                shared.update(|s| {
                    state::set_waiting(
                        s.container(kind, i),
                        "CreateContainerConfigError",
                        Some(msg),
                    )
                });
                if sleep_or_stop(RETRY, &mut stop).await {
                    return Final::Succeeded;
                }
                continue;
            }
            Err(NotStarted::Start(msg)) => Exit {
                code: 128,
                reason: "StartError".into(),
                message: Some(msg),
                started_at: None,
                finished_at: state::now(),
            },
            Ok(running) => {
                let no_readiness = c.readiness_probe.is_none() || kind == Kind::Init;
                let started_at = running.started_at.clone();
                shared.update(|s| {
                    if kind == Kind::Main {
                        s.phase = Phase::Running;
                    }
                    let cs = s.container(kind, i);
                    let id = format!("cairn-test://{}", running.pid);
                    state::set_running(cs, started_at, id, c.image.clone().unwrap_or_default());
                    cs.ready = kind == Kind::Main && no_readiness;
                });
                let (inst_tx, inst_rx) = watch::channel(None::<Stop>);
                let forward = {
                    let (tx, mut pod_stop) = (inst_tx.clone(), stop.clone());
                    tokio::spawn(async move {
                        loop {
                            if let Some(s) = *pod_stop.borrow_and_update() {
                                let _ = tx.send(Some(s));
                                return;
                            }
                            if pod_stop.changed().await.is_err() {
                                return;
                            }
                        }
                    })
                };
                let target = probe::ExecTarget {
                    pid: running.pid,
                    setpriv: running.setpriv_args(),
                    env: running.env.clone(),
                };
                let grace = pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.termination_grace_period_seconds)
                    .unwrap_or(30);
                let probers = if kind == Kind::Main {
                    spawn_probers(c, i, &target, shared, inst_tx.clone(), grace)
                } else {
                    vec![]
                };
                let exit = running.wait(ctx, pod, inst_rx).await;
                forward.abort();
                probers.iter().for_each(tokio::task::JoinHandle::abort);
                exit
            }
        };
        shared.update(|s| state::set_terminated(s.container(kind, i), &exit));
        let ok = exit.code == 0;
        let restart = match policy {
            "Always" => true,
            "OnFailure" => !ok,
            _ => false,
        };
        if stop.borrow().is_some() || !restart {
            return if ok { Final::Succeeded } else { Final::Failed };
        }
        let delay = restart_backoff(restarts);
        let message = format!(
            "back-off {}s restarting failed container={} pod={}_{}({})",
            delay.as_secs(),
            c.name,
            pod.name_any(),
            pod.namespace().unwrap_or_default(),
            pod.uid().unwrap_or_default()
        );
        shared.update(|s| state::set_restarting(s.container(kind, i), message));
        if sleep_or_stop(delay, &mut stop).await {
            return if ok { Final::Succeeded } else { Final::Failed };
        }
    }
}

/// Readiness (marks the container ready) and liveness (restarts it) probers.
fn spawn_probers(
    c: &Container,
    i: usize,
    target: &probe::ExecTarget,
    shared: &Arc<Shared>,
    kill: watch::Sender<Option<Stop>>,
    grace: i64,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    if let Some(p) = c.readiness_probe.clone() {
        let (c, target, shared) = (c.clone(), target.clone(), shared.clone());
        tasks.push(tokio::spawn(async move {
            let t = probe::timing(&p);
            tokio::time::sleep(t.initial_delay).await;
            let (mut ok_run, mut fail_run) = (0u32, 0u32);
            loop {
                match probe::check(&p, &c, Some(&target)).await {
                    Ok(()) => (ok_run, fail_run) = (ok_run + 1, 0),
                    Err(_) => (ok_run, fail_run) = (0, fail_run + 1),
                }
                if ok_run >= t.success_threshold {
                    shared.update(|s| s.main[i].ready = true);
                } else if fail_run >= t.failure_threshold {
                    shared.update(|s| s.main[i].ready = false);
                }
                tokio::time::sleep(t.period).await;
            }
        }));
    }
    if let Some(p) = c.liveness_probe.clone() {
        let (c, target) = (c.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            let t = probe::timing(&p);
            tokio::time::sleep(t.initial_delay).await;
            let mut fail_run = 0u32;
            loop {
                match probe::check(&p, &c, Some(&target)).await {
                    Ok(()) => fail_run = 0,
                    Err(e) => {
                        fail_run += 1;
                        if fail_run >= t.failure_threshold {
                            tracing::info!(container = %c.name, error = %e, "liveness probe failed; restarting");
                            let _ = kill.send(Some(Stop { grace }));
                            return;
                        }
                    }
                }
                tokio::time::sleep(t.period).await;
            }
        }));
    }
    tasks
}
