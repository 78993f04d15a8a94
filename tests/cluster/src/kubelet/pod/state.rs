//! What the kubelet knows about one pod's containers, and the pod status derived from it
//! (phase, conditions, container statuses), as the kubelet's status manager reports it.

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// The pod IP (and host IP): every pod shares the host's loopback.
pub const POD_IP: &str = "127.0.0.1";

/// Now, at the seconds precision the API stores.
pub fn now() -> Time {
    Time(Timestamp::from_second(Timestamp::now().as_second()).unwrap_or(Timestamp::UNIX_EPOCH))
}

/// Pod phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not all containers started yet.
    Pending,
    /// Containers run (or restart).
    Running,
    /// All containers exited 0 and will not restart.
    Succeeded,
    /// All containers exited, one failed, none will restart.
    Failed,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
        }
    }

    /// Succeeded or Failed.
    pub fn terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

/// Init or regular container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `spec.initContainers[i]`.
    Init,
    /// `spec.containers[i]`.
    Main,
}

/// The kubelet's view of one pod.
#[derive(Clone, Debug)]
pub struct PodState {
    /// Init container statuses, in order.
    pub init: Vec<ContainerStatus>,
    /// Container statuses, in order.
    pub main: Vec<ContainerStatus>,
    /// Phase.
    pub phase: Phase,
    /// Init containers all succeeded.
    pub initialized: bool,
    /// Volumes are set up (PodReadyToStartContainers).
    pub sandbox_ready: bool,
    /// When the kubelet accepted the pod.
    pub start_time: Time,
    /// The pod's name (status writes).
    pub pod_name: String,
    conditions: Vec<PodCondition>,
}

fn waiting_status(name: &str, image: &str, reason: &str) -> ContainerStatus {
    ContainerStatus {
        name: name.to_owned(),
        image: image.to_owned(),
        image_id: String::new(),
        ready: false,
        restart_count: 0,
        started: Some(false),
        state: Some(ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.to_owned()),
                message: None,
            }),
            ..ContainerState::default()
        }),
        ..ContainerStatus::default()
    }
}

impl PodState {
    /// A freshly accepted pod: every container waiting.
    pub fn new(pod: &Pod) -> Self {
        let spec = pod.spec.clone().unwrap_or_default();
        let inits = spec.init_containers.unwrap_or_default();
        let main_reason = if inits.is_empty() {
            "ContainerCreating"
        } else {
            "PodInitializing"
        };
        Self {
            init: inits
                .iter()
                .map(|c| {
                    waiting_status(
                        &c.name,
                        c.image.as_deref().unwrap_or_default(),
                        "PodInitializing",
                    )
                })
                .collect(),
            main: spec
                .containers
                .iter()
                .map(|c| {
                    waiting_status(&c.name, c.image.as_deref().unwrap_or_default(), main_reason)
                })
                .collect(),
            phase: Phase::Pending,
            initialized: inits.is_empty(),
            sandbox_ready: false,
            start_time: now(),
            pod_name: pod.metadata.name.clone().unwrap_or_default(),
            conditions: Vec::new(),
        }
    }

    /// The status of container `i` of `kind`.
    pub fn container(&mut self, kind: Kind, i: usize) -> &mut ContainerStatus {
        match kind {
            Kind::Init => &mut self.init[i],
            Kind::Main => &mut self.main[i],
        }
    }

    fn set_condition(&mut self, type_: &str, value: bool, reason: Option<&str>) {
        let status = if value { "True" } else { "False" };
        if let Some(c) = self.conditions.iter_mut().find(|c| c.type_ == type_) {
            if c.status != status {
                c.status = status.to_owned();
                c.last_transition_time = Some(now());
            }
            c.reason = reason.map(str::to_owned);
            return;
        }
        self.conditions.push(PodCondition {
            type_: type_.to_owned(),
            status: status.to_owned(),
            reason: reason.map(str::to_owned),
            last_transition_time: Some(now()),
            ..PodCondition::default()
        });
    }

    /// The pod status to report.
    pub fn status(&mut self) -> PodStatus {
        let terminal = self.phase.terminal();
        let completed = terminal.then_some("PodCompleted");
        let ready = !terminal && !self.main.is_empty() && self.main.iter().all(|c| c.ready);
        let not_ready = (!ready && !terminal).then_some("ContainersNotReady");
        self.set_condition(
            "PodReadyToStartContainers",
            self.sandbox_ready && !terminal,
            None,
        );
        self.set_condition(
            "Initialized",
            self.initialized,
            if terminal && self.initialized {
                completed
            } else if self.initialized {
                None
            } else {
                Some("ContainersNotInitialized")
            },
        );
        self.set_condition("Ready", ready, completed.or(not_ready));
        self.set_condition("ContainersReady", ready, completed.or(not_ready));
        self.set_condition("PodScheduled", true, None);
        PodStatus {
            phase: Some(self.phase.as_str().to_owned()),
            conditions: Some(self.conditions.clone()),
            container_statuses: Some(self.main.clone()),
            init_container_statuses: (!self.init.is_empty()).then(|| self.init.clone()),
            host_ip: Some(POD_IP.to_owned()),
            host_ips: Some(vec![HostIP {
                ip: POD_IP.to_owned(),
            }]),
            pod_ip: Some(POD_IP.to_owned()),
            pod_ips: Some(vec![PodIP {
                ip: POD_IP.to_owned(),
            }]),
            start_time: Some(self.start_time.clone()),
            qos_class: Some("BestEffort".to_owned()),
            ..PodStatus::default()
        }
    }
}

/// Marks `cs` waiting for `reason`.
pub fn set_waiting(cs: &mut ContainerStatus, reason: &str, message: Option<String>) {
    cs.ready = false;
    cs.started = Some(false);
    cs.state = Some(ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_owned()),
            message,
        }),
        ..ContainerState::default()
    });
}

/// Marks `cs` running since `started_at`.
pub fn set_running(
    cs: &mut ContainerStatus,
    started_at: Time,
    container_id: String,
    image_id: String,
) {
    cs.started = Some(true);
    cs.container_id = Some(container_id);
    cs.image_id = image_id;
    cs.state = Some(ContainerState {
        running: Some(ContainerStateRunning {
            started_at: Some(started_at),
        }),
        ..ContainerState::default()
    });
}

/// How a container instance ended.
#[derive(Clone, Debug)]
pub struct Exit {
    /// Exit code (128 + signal when killed).
    pub code: i32,
    /// Completed, Error, OOMKilled, StartError.
    pub reason: String,
    /// Why, when known.
    pub message: Option<String>,
    /// Start.
    pub started_at: Option<Time>,
    /// End.
    pub finished_at: Time,
}

/// Marks `cs` terminated by `exit`.
pub fn set_terminated(cs: &mut ContainerStatus, exit: &Exit) {
    cs.ready = false;
    cs.started = Some(false);
    cs.state = Some(ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: exit.code,
            reason: Some(exit.reason.clone()),
            message: exit.message.clone(),
            started_at: exit.started_at.clone(),
            finished_at: Some(exit.finished_at.clone()),
            container_id: cs.container_id.clone(),
            signal: None,
        }),
        ..ContainerState::default()
    });
}

/// Moves the terminated state of `cs` to `lastState` and counts a restart (the container
/// waits in CrashLoopBackOff until it starts again).
pub fn set_restarting(cs: &mut ContainerStatus, message: String) {
    cs.last_state = cs.state.take();
    cs.restart_count += 1;
    set_waiting(cs, "CrashLoopBackOff", Some(message));
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};

    fn pod(inits: usize) -> Pod {
        let c = |n: &str| Container {
            name: n.into(),
            image: Some("img".into()),
            ..Container::default()
        };
        Pod {
            spec: Some(PodSpec {
                init_containers: Some((0..inits).map(|i| c(&format!("init{i}"))).collect()),
                containers: vec![c("main")],
                ..PodSpec::default()
            }),
            ..Pod::default()
        }
    }

    fn cond<'a>(s: &'a PodStatus, t: &str) -> &'a PodCondition {
        s.conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == t)
            .unwrap()
    }

    #[test]
    fn a_new_pod_is_pending_and_scheduled() {
        let mut st = PodState::new(&pod(1));
        let s = st.status();
        assert_eq!(s.phase.as_deref(), Some("Pending"));
        assert_eq!(cond(&s, "PodScheduled").status, "True");
        assert_eq!(cond(&s, "Initialized").status, "False");
        let w = s.container_statuses.as_ref().unwrap()[0]
            .state
            .clone()
            .unwrap()
            .waiting
            .unwrap();
        assert_eq!(w.reason.as_deref(), Some("PodInitializing"));
        assert_eq!(s.pod_ip.as_deref(), Some(POD_IP));
    }

    #[test]
    fn ready_when_all_containers_are_ready_and_completed_when_terminal() {
        let mut st = PodState::new(&pod(0));
        st.sandbox_ready = true;
        st.phase = Phase::Running;
        set_running(&mut st.main[0], now(), "id".into(), "img".into());
        st.main[0].ready = true;
        let s = st.status();
        assert_eq!(cond(&s, "Ready").status, "True");
        assert_eq!(cond(&s, "ContainersReady").status, "True");
        let exit = Exit {
            code: 0,
            reason: "Completed".into(),
            message: None,
            started_at: None,
            finished_at: now(),
        };
        set_terminated(&mut st.main[0], &exit);
        st.phase = Phase::Succeeded;
        let s = st.status();
        assert_eq!(cond(&s, "Ready").reason.as_deref(), Some("PodCompleted"));
        let t = s.container_statuses.as_ref().unwrap()[0]
            .state
            .clone()
            .unwrap()
            .terminated
            .unwrap();
        assert_eq!(t.reason.as_deref(), Some("Completed"));
    }

    #[test]
    fn restarts_keep_the_last_state() {
        let mut st = PodState::new(&pod(0));
        let exit = Exit {
            code: 1,
            reason: "Error".into(),
            message: None,
            started_at: None,
            finished_at: now(),
        };
        set_terminated(&mut st.main[0], &exit);
        set_restarting(&mut st.main[0], "back-off".into());
        let cs = &st.main[0];
        assert_eq!(cs.restart_count, 1);
        assert_eq!(
            cs.last_state.clone().unwrap().terminated.unwrap().exit_code,
            1
        );
        assert_eq!(
            cs.state.clone().unwrap().waiting.unwrap().reason.as_deref(),
            Some("CrashLoopBackOff")
        );
    }
}
