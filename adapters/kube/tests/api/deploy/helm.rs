//! The Helm chart, through real helm 4: it lints strictly, renders with its defaults and
//! with every option on, and what it renders validates against Kubernetes 1.34, passes
//! Pod Security "restricted", and hands the operator its image and pull secrets.

use serde_json::{json, Value};

use super::manifests::{problems, ForeignCheck};
use super::pod_security::{pod_templates, restricted_violations};
use super::tools::{documents, helm, helm_unchecked};

const CHART: &str = "deploy/helm/cairn";
const ALL_OPTIONS: &str = "deploy/helm/cairn/ci/all-options-values.yaml";

/// `helm template` of the chart (CRDs included) as objects.
fn render(extra: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "template",
        "cairn",
        CHART,
        "--namespace",
        "backup-system",
        "--include-crds",
    ];
    args.extend_from_slice(extra);
    documents(&String::from_utf8(helm(&args).stdout).unwrap())
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} rendered"))
}

/// The Prometheus Operator's ServiceMonitor (its CRD is not ours to validate against):
/// the fields the chart sets, with their types.
fn service_monitor(o: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if o["apiVersion"] != "monitoring.coreos.com/v1" {
        out.push(format!("apiVersion {}", o["apiVersion"]));
    }
    let spec = &o["spec"];
    if !spec["selector"]["matchLabels"].is_object() {
        out.push("spec.selector.matchLabels must be an object".into());
    }
    for e in spec["endpoints"].as_array().into_iter().flatten() {
        if !e["port"].is_string() || !e["path"].is_string() {
            out.push("endpoint port and path must be strings".into());
        }
        let interval = e["interval"].as_str().unwrap_or_default();
        let duration = interval.trim_end_matches(['s', 'm', 'h']);
        if interval.is_empty()
            || duration.is_empty()
            || !duration.chars().all(|c| c.is_ascii_digit())
        {
            out.push(format!(
                "endpoint interval {interval:?} is not a duration like 30s"
            ));
        }
    }
    if spec["endpoints"].as_array().is_none_or(Vec::is_empty) {
        out.push("spec.endpoints must not be empty".into());
    }
    out
}

const FOREIGN: [ForeignCheck; 1] = [("ServiceMonitor", service_monitor)];

fn assert_valid(what: &str, objects: &[Value]) {
    let named: Vec<(String, Value)> = objects
        .iter()
        .map(|o| (what.to_owned(), o.clone()))
        .collect();
    let found = problems(&named, &FOREIGN);
    assert!(
        found.is_empty(),
        "the chart rendered invalid objects:\n{}",
        found.join("\n")
    );
    for (name, pod) in pod_templates(objects) {
        let broken = restricted_violations(&pod);
        assert!(
            broken.is_empty(),
            "{what}: {name} breaks Pod Security restricted:\n{}",
            broken.join("\n")
        );
    }
}

#[test]
fn the_chart_lints_strictly_with_its_defaults_and_with_every_option() {
    helm(&["lint", "--strict", CHART]);
    helm(&["lint", "--strict", CHART, "--values", ALL_OPTIONS]);
}

#[test]
fn the_default_chart_renders_valid_restricted_objects() {
    let objects = render(&[]);
    assert_valid("default values", &objects);
    let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    assert!(!kinds.contains(&"ServiceMonitor"), "{kinds:?}");
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "CustomResourceDefinition")
            .count(),
        11
    );
    let deployment = find(&objects, "Deployment", "cairn-operator");
    let pod = &deployment["spec"]["template"]["spec"];
    let image = format!("ghcr.io/cairn-backup/cairn:v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        pod["containers"][0]["image"],
        json!(image),
        "the tag defaults to appVersion"
    );
    let env = &pod["containers"][0]["env"];
    assert!(env
        .as_array()
        .unwrap()
        .contains(&json!({"name": "CAIRN_IMAGE", "value": image})));
    assert!(pod.get("imagePullSecrets").is_none());
}

#[test]
fn the_chart_with_every_option_on_renders_valid_restricted_objects() {
    let objects = render(&["--values", ALL_OPTIONS]);
    assert_valid("all options", &objects);
    let deployment = find(&objects, "Deployment", "cairn-operator");
    assert_eq!(deployment["spec"]["replicas"], 3);
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(
        pod["imagePullSecrets"],
        json!([{"name": "regcred"}, {"name": "other-registry"}])
    );
    let operator = &pod["containers"][0];
    let image = "registry.example.com/mirror/cairn:v0.1.0-rc.1";
    assert_eq!(operator["image"], image);
    let env = operator["env"].as_array().unwrap();
    assert!(env.contains(&json!({"name": "CAIRN_IMAGE", "value": image})));
    assert!(env
        .contains(&json!({"name": "CAIRN_IMAGE_PULL_SECRETS", "value": "regcred,other-registry"})));
    assert_eq!(operator["volumeMounts"][0]["mountPath"], "/safe/data");
    assert_eq!(
        pod["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "backups"
    );
    assert_eq!(pod["priorityClassName"], "system-cluster-critical");
    assert_eq!(
        deployment["spec"]["template"]["metadata"]["labels"]["team"],
        "dba"
    );
    let monitor = find(&objects, "ServiceMonitor", "cairn-operator");
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(monitor["metadata"]["namespace"], "backup-system");
    let service = find(&objects, "Service", "cairn-operator-metrics");
    assert_eq!(service["spec"]["ports"][0]["port"], 9090);
    // The ServiceMonitor selects the Service, and the Service the operator pods.
    let service_labels = service["metadata"]["labels"].as_object().unwrap();
    for (k, v) in monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap()
    {
        assert_eq!(service_labels.get(k), Some(v), "ServiceMonitor selects {k}");
    }
    let pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        .as_object()
        .unwrap();
    for (k, v) in service["spec"]["selector"].as_object().unwrap() {
        assert_eq!(pod_labels.get(k), Some(v), "Service selects {k}");
    }
    let catalog = objects
        .iter()
        .filter(|o| o["kind"] == "Addon" || o["kind"] == "Function")
        .count();
    assert!(
        catalog >= 9,
        "catalog.install renders the Addons and Functions ({catalog})"
    );
    let rbac = find(&objects, "ClusterRoleBinding", "cairn-operator");
    assert_eq!(rbac["subjects"][0]["namespace"], "backup-system");
}

#[test]
fn a_service_monitor_without_its_service_is_refused() {
    let out = helm_unchecked(&[
        "template",
        "cairn",
        CHART,
        "--set",
        "metrics.serviceMonitor.enabled=true,metrics.service.enabled=false",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs metrics.service.enabled"));
}

#[test]
fn the_plain_operator_manifest_is_restricted() {
    let text = std::fs::read_to_string(super::repo("deploy/operator.yaml")).unwrap();
    for (name, pod) in pod_templates(&documents(&text)) {
        let broken = restricted_violations(&pod);
        assert!(
            broken.is_empty(),
            "deploy/operator.yaml {name}:\n{}",
            broken.join("\n")
        );
    }
}

#[test]
fn every_setting_the_chart_hands_the_operator_is_one_it_reads() {
    use clap::Args as _;
    let cli = cairn_kube::cli::OperatorArgs::augment_args(clap::Command::new("operator"));
    let reads = |env: &str| {
        cli.get_arguments()
            .any(|a| a.get_env().is_some_and(|e| e == env))
    };
    let objects = render(&["--values", ALL_OPTIONS]);
    let operator = &find(&objects, "Deployment", "cairn-operator")["spec"]["template"]["spec"]
        ["containers"][0];
    for var in operator["env"].as_array().unwrap() {
        let name = var["name"].as_str().unwrap();
        assert!(
            reads(name),
            "the chart sets {name} but `cairn operator` reads no such variable"
        );
    }
    let args: Vec<&str> = operator["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let after = &args[args.iter().position(|a| *a == "operator").unwrap() + 1..];
    for flag in after.iter().filter_map(|a| a.strip_prefix("--")) {
        assert!(
            cli.get_arguments().any(|a| a.get_long() == Some(flag)),
            "the chart passes --{flag} but `cairn operator` has no such flag"
        );
    }
}
