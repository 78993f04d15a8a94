//! Pod Security Standards, "restricted" profile (kubernetes.io/docs/concepts/security/
//! pod-security-standards, policy version latest): every pod Cairn creates or ships must
//! pass it unless the user's own template says otherwise.

use serde_json::{json, Value};

use super::super::support::*;
use cairn_kube::objects::Config;

/// Capabilities "baseline" lets a container add.
const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];
/// Volume types "restricted" allows.
const RESTRICTED_VOLUMES: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];
/// Sysctls "baseline" allows.
const SAFE_SYSCTLS: [&str; 9] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
];

/// Why the pod template `pod` (`{metadata, spec}`) breaks the "restricted" profile.
pub fn restricted_violations(pod: &Value) -> Vec<String> {
    let spec = &pod["spec"];
    let psc = &spec["securityContext"];
    let mut out = Vec::new();
    let mut bad = |s: String| out.push(s);

    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[host] == json!(true) {
            bad(format!("spec.{host} must be unset or false"));
        }
    }
    if psc["windowsOptions"]["hostProcess"] == json!(true) {
        bad("spec.securityContext.windowsOptions.hostProcess must not be true".into());
    }
    selinux(psc, "spec.securityContext", &mut bad);
    apparmor(psc, "spec.securityContext", &mut bad);
    if psc["runAsUser"] == json!(0) {
        bad("spec.securityContext.runAsUser must not be 0".into());
    }
    for sysctl in psc["sysctls"].as_array().into_iter().flatten() {
        let name = sysctl["name"].as_str().unwrap_or_default();
        if !SAFE_SYSCTLS.contains(&name) {
            bad(format!("sysctl {name} is not a safe sysctl"));
        }
    }
    for (key, value) in pod["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if key.starts_with("container.apparmor.security.beta.kubernetes.io/")
            && !(value == "runtime/default"
                || value.as_str().is_some_and(|v| v.starts_with("localhost/")))
        {
            bad(format!(
                "annotation {key}: {value} is not an allowed AppArmor profile"
            ));
        }
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        let kind = volume
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .find(|k| *k != "name")
            .unwrap_or("?");
        if !RESTRICTED_VOLUMES.contains(&kind) {
            bad(format!("volume {} has type {kind}", volume["name"]));
        }
    }
    let pod_non_root = psc["runAsNonRoot"] == json!(true);
    let pod_seccomp = seccomp_ok(&psc["seccompProfile"]);
    if !psc["seccompProfile"].is_null() && !pod_seccomp {
        bad("spec.securityContext.seccompProfile must be RuntimeDefault or Localhost".into());
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec[list].as_array().into_iter().flatten() {
            let at = format!("{list}[{}]", c["name"]);
            let sc = &c["securityContext"];
            let mut bad_c = |rule: &str| bad(format!("{at}: {rule}"));
            if sc["privileged"] == json!(true) {
                bad_c("privileged must be unset or false");
            }
            if sc["windowsOptions"]["hostProcess"] == json!(true) {
                bad_c("windowsOptions.hostProcess must not be true");
            }
            if sc["allowPrivilegeEscalation"] != json!(false) {
                bad_c("allowPrivilegeEscalation must be false");
            }
            let non_root = match &sc["runAsNonRoot"] {
                Value::Bool(b) => *b,
                _ => pod_non_root,
            };
            if !non_root {
                bad_c("runAsNonRoot must be true (on the pod or the container)");
            }
            if sc["runAsUser"] == json!(0) {
                bad_c("runAsUser must not be 0");
            }
            let seccomp = if sc["seccompProfile"].is_null() {
                pod_seccomp
            } else {
                seccomp_ok(&sc["seccompProfile"])
            };
            if !seccomp {
                bad_c("seccompProfile must be RuntimeDefault or Localhost (on the pod or the container)");
            }
            let drops_all = sc["capabilities"]["drop"]
                .as_array()
                .is_some_and(|d| d.iter().any(|c| c == "ALL"));
            if !drops_all {
                bad_c("capabilities.drop must include ALL");
            }
            for cap in sc["capabilities"]["add"].as_array().into_iter().flatten() {
                let cap = cap.as_str().unwrap_or_default();
                if cap != "NET_BIND_SERVICE" {
                    let level = if BASELINE_CAPABILITIES.contains(&cap) {
                        "restricted"
                    } else {
                        "baseline"
                    };
                    bad_c(&format!("capability {cap} is not allowed by {level}"));
                }
            }
            if !matches!(sc["procMount"].as_str(), None | Some("Default")) {
                bad_c("procMount must be Default");
            }
            for port in c["ports"].as_array().into_iter().flatten() {
                if port["hostPort"].as_i64().unwrap_or(0) != 0 {
                    bad_c("hostPort must be unset or 0");
                }
            }
            let mut inner = Vec::new();
            selinux(sc, "securityContext", &mut |s| inner.push(s));
            apparmor(sc, "securityContext", &mut |s| inner.push(s));
            for s in inner {
                bad_c(&s);
            }
        }
    }
    out
}

fn seccomp_ok(profile: &Value) -> bool {
    matches!(
        profile["type"].as_str(),
        Some("RuntimeDefault" | "Localhost")
    )
}

fn selinux(sc: &Value, at: &str, bad: &mut impl FnMut(String)) {
    let se = &sc["seLinuxOptions"];
    let allowed = [
        "container_t",
        "container_init_t",
        "container_kvm_t",
        "container_engine_t",
    ];
    if se["type"].as_str().is_some_and(|t| !allowed.contains(&t)) {
        bad(format!(
            "{at}.seLinuxOptions.type {} is not allowed",
            se["type"]
        ));
    }
    for key in ["user", "role"] {
        if !se[key].is_null() {
            bad(format!("{at}.seLinuxOptions.{key} must be unset"));
        }
    }
}

fn apparmor(sc: &Value, at: &str, bad: &mut impl FnMut(String)) {
    let profile = &sc["appArmorProfile"]["type"];
    if !profile.is_null() && !matches!(profile.as_str(), Some("RuntimeDefault" | "Localhost")) {
        bad(format!(
            "{at}.appArmorProfile.type must be RuntimeDefault or Localhost"
        ));
    }
}

/// The pod templates in `objects` (Deployments, Jobs, CronJobs, Pods), named `kind/name`.
pub fn pod_templates(objects: &[Value]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for o in objects {
        let name = format!(
            "{}/{}",
            o["kind"].as_str().unwrap_or("?"),
            o["metadata"]["name"].as_str().unwrap_or("?")
        );
        let pod = match o["kind"].as_str() {
            Some("Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "ReplicaSet") => {
                o["spec"]["template"].clone()
            }
            Some("CronJob") => o["spec"]["jobTemplate"]["spec"]["template"].clone(),
            Some("Pod") => o.clone(),
            _ => continue,
        };
        out.push((name, pod));
    }
    out
}

#[test]
fn the_checker_knows_a_restricted_pod_from_a_privileged_one() {
    let good = json!({"spec": {
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "volumes": [{"name": "t", "emptyDir": {}}],
        "containers": [{"name": "c", "securityContext": {
            "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
    }});
    assert_eq!(restricted_violations(&good), Vec::<String>::new());
    let bad = json!({"spec": {
        "hostNetwork": true,
        "volumes": [{"name": "h", "hostPath": {"path": "/"}}],
        "containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 80}],
            "securityContext": {"privileged": true, "runAsUser": 0, "capabilities": {"add": ["SYS_ADMIN"]}}}],
    }});
    let found = restricted_violations(&bad).join("\n");
    for rule in [
        "hostNetwork",
        "hostPath",
        "privileged",
        "allowPrivilegeEscalation",
        "runAsNonRoot",
        "runAsUser",
        "seccompProfile",
        "drop must include ALL",
        "SYS_ADMIN",
        "hostPort",
    ] {
        assert!(found.contains(rule), "{rule} not reported in:\n{found}");
    }
}

/// The executor Job and trigger CronJob the operator writes for `config`, with `cfg`.
fn written_pods(cfg: Config, config: &str) -> (Value, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, fake) = Fake::start();
        seed(&fake);
        fake.put(yaml(config));
        let mut d = cairn_kube::driver::Driver::new(cfg);
        let backend = cairn_kube::backend::FixedBackend(cairn_core::world::Outcome::Ok);
        super::super::support::settle(&mut d, &client, &backend, &fake, at("2024-08-19T10:58:20Z"))
            .await
            .unwrap();
        let log = fake.take_log();
        let body = |part: &str| {
            log.iter()
                .find(|l| l.path.contains(part) && l.body["kind"].is_string())
                .map(|l| l.body.clone())
                .unwrap_or_else(|| panic!("no {part} written"))
        };
        (body("/jobs/"), body("/cronjobs/"))
    })
}

#[test]
fn executor_and_trigger_pods_are_restricted_by_default() {
    let (job, cron) = written_pods(Config::default(), CONFIG);
    for (name, pod) in pod_templates(&[job, cron]) {
        let problems = restricted_violations(&pod);
        assert!(
            problems.is_empty(),
            "{name} breaks Pod Security restricted:\n{}",
            problems.join("\n")
        );
    }
}

#[test]
fn executor_and_trigger_pods_use_the_operators_image_and_pull_secrets() {
    let cfg = Config {
        image: "registry.example/cairn:v9".to_owned(),
        image_pull_secrets: vec!["regcred".to_owned()],
        ..Config::default()
    };
    let (job, cron) = written_pods(cfg, CONFIG);
    for (name, pod) in pod_templates(&[job, cron]) {
        assert_eq!(
            pod["spec"]["imagePullSecrets"],
            json!([{"name": "regcred"}]),
            "{name}"
        );
        for c in pod["spec"]["containers"].as_array().unwrap() {
            assert_eq!(c["image"], "registry.example/cairn:v9", "{name}");
        }
    }
}

#[test]
fn a_job_template_asking_for_root_runs_as_root() {
    // kubedb/docs: `addon.jobTemplate.spec.securityContext.runAsUser: 0` for tools that need root.
    let config = CONFIG.replace(
        "      name: singlestore-addon\n",
        "      name: singlestore-addon\n      jobTemplate:\n        spec:\n          securityContext: {runAsUser: 0, runAsGroup: 0}\n          containerSecurityContext: {readOnlyRootFilesystem: false}\n          resources: {limits: {memory: 1Gi}}\n          nodeSelector: {disk: ssd}\n",
    );
    let (job, _) = written_pods(Config::default(), &config);
    let pod = &job["spec"]["template"];
    let psc = &pod["spec"]["securityContext"];
    assert_eq!(psc["runAsUser"], 0);
    assert!(
        psc.get("runAsNonRoot").is_none(),
        "runAsNonRoot must not be forced: {psc}"
    );
    assert_eq!(psc["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(pod["spec"]["nodeSelector"], json!({"disk": "ssd"}));
    for c in pod["spec"]["containers"].as_array().unwrap() {
        let sc = &c["securityContext"];
        assert_eq!(sc["readOnlyRootFilesystem"], false);
        assert_eq!(sc["allowPrivilegeEscalation"], false);
        assert!(sc.get("runAsNonRoot").is_none());
        assert_eq!(c["resources"]["limits"]["memory"], "1Gi");
    }
    // offshoot-api fields of the container never land on the pod spec.
    for key in ["containerSecurityContext", "resources"] {
        assert!(pod["spec"].get(key).is_none(), "{key} on the pod spec");
    }
    let problems = restricted_violations(pod).join("\n");
    assert!(problems.contains("runAsUser must not be 0"), "{problems}");
}

#[test]
fn container_runtime_settings_override_the_container_defaults() {
    let config = CONFIG.replace(
        "      name: singlestore-addon\n",
        "      name: singlestore-addon\n      containerRuntimeSettings:\n        securityContext: {runAsUser: 0}\n        env: [{name: EXTRA, value: \"1\"}]\n",
    );
    let (job, _) = written_pods(Config::default(), &config);
    let pod = &job["spec"]["template"];
    assert!(pod["spec"]["securityContext"].get("runAsNonRoot").is_none());
    let c = &pod["spec"]["containers"][0];
    assert_eq!(c["securityContext"]["runAsUser"], 0);
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert!(c["env"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["name"] == "EXTRA"));
}

#[test]
fn a_scheduler_template_overrides_the_trigger_pod_but_not_its_identity() {
    let config = CONFIG.replace(
        "      jobTemplate: {backoffLimit: 1}\n",
        "      jobTemplate:\n        backoffLimit: 1\n        template:\n          metadata: {labels: {team: db}}\n          spec:\n            serviceAccountName: someone-else\n            securityContext: {runAsUser: 1000}\n            tolerations: [{key: dedicated, operator: Exists}]\n",
    );
    let (_, cron) = written_pods(Config::default(), &config);
    let pod = &cron["spec"]["jobTemplate"]["spec"]["template"];
    assert_eq!(pod["spec"]["serviceAccountName"], "cairn-trigger");
    assert_eq!(pod["spec"]["securityContext"]["runAsUser"], 1000);
    assert_eq!(pod["spec"]["tolerations"][0]["key"], "dedicated");
    assert_eq!(pod["metadata"]["labels"]["team"], "db");
    assert_eq!(
        pod["metadata"]["labels"]["kubestash.com/session-name"],
        "frequent-backup"
    );
    assert_eq!(restricted_violations(pod), Vec::<String>::new());
}
