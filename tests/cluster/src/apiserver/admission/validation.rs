//! Validation of built-in kinds where the operator depends on it (names, events.k8s.io/v1
//! Events, CronJob schedules, Job templates, CRD names), with upstream's field messages.

use serde_json::Value;

use super::schedule;
use crate::apiserver::handlers::pipeline::Write;
use crate::apiserver::http::status::{show, Cause};
use crate::apiserver::registry::Resource;
use crate::apiserver::state::State;

const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label)
}

/// `metadata.name` rules of the kind.
pub fn name(res: &Resource, n: &str) -> Vec<Cause> {
    let v = Value::String(n.into());
    match res.plural.as_str() {
        "namespaces" | "services" if !is_label(n) => {
            vec![Cause::invalid("metadata.name", &v, DNS1123_LABEL_MSG)]
        }
        "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings" => {
            if n.contains('/') || n.contains('%') || n == "." || n == ".." {
                vec![Cause::invalid(
                    "metadata.name",
                    &v,
                    "may not contain '/' or '%'",
                )]
            } else {
                vec![]
            }
        }
        _ if !is_subdomain(n) => vec![Cause::invalid("metadata.name", &v, DNS1123_SUBDOMAIN_MSG)],
        _ => vec![],
    }
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const QUALIFIED_NAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

fn is_label_value(v: &str) -> bool {
    v.is_empty()
        || (v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// Label keys and values, and the total size of annotations (upstream's ObjectMeta rules).
fn metadata(new: &Value) -> Vec<Cause> {
    let mut errs = Vec::new();
    if let Some(labels) = new.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            let (prefix, name) = k.rsplit_once('/').map_or(("", k.as_str()), |(p, n)| (p, n));
            let key = Value::String(k.clone());
            if name.is_empty() || name.len() > 63 || !is_label_value(name) {
                let why = if name.len() > 63 {
                    "name part must be no more than 63 characters"
                } else {
                    QUALIFIED_NAME_MSG
                };
                errs.push(Cause::invalid("metadata.labels", &key, why));
            } else if !prefix.is_empty() && !is_subdomain(prefix) {
                errs.push(Cause::invalid(
                    "metadata.labels",
                    &key,
                    &format!("prefix part {DNS1123_SUBDOMAIN_MSG}"),
                ));
            }
            let val = v.as_str().unwrap_or("");
            let shown = Value::String(val.into());
            if val.len() > 63 {
                errs.push(Cause::invalid(
                    "metadata.labels",
                    &shown,
                    "must be no more than 63 characters",
                ));
            } else if !is_label_value(val) {
                errs.push(Cause::invalid("metadata.labels", &shown, LABEL_VALUE_MSG));
            }
        }
    }
    if let Some(ann) = new
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        let total: usize = ann
            .iter()
            .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
            .sum();
        if total > 262_144 {
            errs.push(Cause::new(
                "FieldValueTooLong",
                "metadata.annotations",
                "Too long: must have at most 262144 bytes",
            ));
        }
    }
    errs
}

/// Kind-specific validation of the new object.
pub fn validate(st: &State, w: &Write, old: Option<&Value>, new: &Value) -> Vec<Cause> {
    let _ = st;
    let mut errs = metadata(new);
    errs.extend(kind_rules(w, old, new));
    errs
}

fn kind_rules(w: &Write, old: Option<&Value>, new: &Value) -> Vec<Cause> {
    match (w.res.group.as_str(), w.res.kind.as_str()) {
        ("events.k8s.io", "Event") if old.is_none() => events_v1(new),
        ("", "Event") if old.is_none() => core_event(new),
        ("batch", "CronJob") => cronjob(old, new),
        ("batch", "Job") => job(old, new),
        ("", "Pod") => pod(old, new),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(new),
        _ => Vec::new(),
    }
}

fn empty() -> Value {
    Value::String(String::new())
}

/// upstream `ValidateEventCreate` for events.k8s.io/v1 (field names of the internal type).
fn events_v1(e: &Value) -> Vec<Cause> {
    let mut errs = Vec::new();
    let ns = s(e, "/metadata/namespace");
    let has_time = !s(e, "/eventTime").is_empty();
    let regarding_ns = s(e, "/regarding/namespace");
    if !has_time {
        if (regarding_ns.is_empty() && !ns.is_empty() && ns != "default")
            || (!regarding_ns.is_empty() && ns != regarding_ns)
        {
            errs.push(Cause::invalid(
                "involvedObject.namespace",
                &Value::String(regarding_ns.into()),
                "does not match event.namespace",
            ));
        }
    } else {
        if regarding_ns.is_empty() && ns != "default" && ns != "kube-system" {
            errs.push(Cause::invalid(
                "involvedObject.namespace",
                &Value::String(regarding_ns.into()),
                "does not match event.namespace",
            ));
        }
        let rc = s(e, "/reportingController");
        if rc.is_empty() {
            errs.push(Cause::required("reportingController"));
        }
        let ri = s(e, "/reportingInstance");
        if ri.is_empty() {
            errs.push(Cause::required("reportingInstance"));
        } else if ri.len() > 128 {
            errs.push(Cause::invalid(
                "reportingInstance",
                &empty(),
                "can have at most 128 characters",
            ));
        }
        let action = s(e, "/action");
        if action.is_empty() {
            errs.push(Cause::required("action"));
        } else if action.len() > 128 {
            errs.push(Cause::invalid(
                "action",
                &empty(),
                "can have at most 128 characters",
            ));
        }
        let reason = s(e, "/reason");
        if reason.is_empty() {
            errs.push(Cause::required("reason"));
        } else if reason.len() > 128 {
            errs.push(Cause::invalid(
                "reason",
                &empty(),
                "can have at most 128 characters",
            ));
        }
        if s(e, "/note").len() > 1024 {
            errs.push(Cause::invalid(
                "message",
                &empty(),
                "can have at most 1024 characters",
            ));
        }
    }
    if let Some(series) = e.get("series").filter(|v| !v.is_null()) {
        if series.get("count").and_then(Value::as_i64).unwrap_or(0) < 2 {
            errs.push(Cause::invalid(
                "series.count",
                &empty(),
                "should be at least 2",
            ));
        }
        if s(series, "/lastObservedTime").is_empty() {
            errs.push(Cause::required("series.lastObservedTime"));
        }
    }
    if !has_time {
        errs.push(Cause::required("eventTime"));
    }
    let t = s(e, "/type");
    if t != "Normal" && t != "Warning" {
        errs.push(Cause::invalid(
            "type",
            &empty(),
            &format!("has invalid value: {t}"),
        ));
    }
    for f in ["deprecatedFirstTimestamp", "deprecatedLastTimestamp"] {
        if !s(e, &format!("/{f}")).is_empty() {
            let internal = if f.contains("First") {
                "firstTimestamp"
            } else {
                "lastTimestamp"
            };
            errs.push(Cause::invalid(internal, &empty(), "needs to be unset"));
        }
    }
    if e.get("deprecatedCount")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        != 0
    {
        errs.push(Cause::invalid("count", &empty(), "needs to be unset"));
    }
    if !s(e, "/deprecatedSource/component").is_empty() || !s(e, "/deprecatedSource/host").is_empty()
    {
        errs.push(Cause::invalid("source", &empty(), "needs to be unset"));
    }
    errs
}

/// upstream `legacyValidateEvent` for core/v1 Events.
fn core_event(e: &Value) -> Vec<Cause> {
    let mut errs = Vec::new();
    let ns = s(e, "/metadata/namespace");
    let ino = s(e, "/involvedObject/namespace");
    if s(e, "/eventTime").is_empty() {
        if (ino.is_empty() && !ns.is_empty() && ns != "default") || (!ino.is_empty() && ns != ino) {
            errs.push(Cause::invalid(
                "involvedObject.namespace",
                &Value::String(ino.into()),
                "does not match event.namespace",
            ));
        }
    } else {
        if ino.is_empty() && ns != "default" && ns != "kube-system" {
            errs.push(Cause::invalid(
                "involvedObject.namespace",
                &Value::String(ino.into()),
                "does not match event.namespace",
            ));
        }
        if s(e, "/reportingComponent").is_empty() {
            errs.push(Cause::required("reportingComponent"));
        }
        if s(e, "/reportingInstance").is_empty() {
            errs.push(Cause::required("reportingInstance"));
        }
        if s(e, "/action").is_empty() {
            errs.push(Cause::required("action"));
        }
        if s(e, "/reason").is_empty() {
            errs.push(Cause::required("reason"));
        }
    }
    errs
}

fn restart_policy(spec: &Value, field: &str) -> Vec<Cause> {
    let rp = s(spec, "/restartPolicy");
    if rp == "OnFailure" || rp == "Never" {
        return vec![];
    }
    vec![Cause::new(
        "FieldValueNotSupported",
        field,
        format!(
            "Unsupported value: {:?}: supported values: \"OnFailure\", \"Never\"",
            rp
        ),
    )]
}

fn cronjob(old: Option<&Value>, cj: &Value) -> Vec<Cause> {
    let mut errs = Vec::new();
    let sched = s(cj, "/spec/schedule");
    let v = Value::String(sched.into());
    if sched.is_empty() {
        errs.push(Cause::required("spec.schedule"));
    } else {
        if let Some(e) = schedule::parse_error(sched) {
            errs.push(Cause::invalid("spec.schedule", &v, &e));
        }
        let allow_tz = old.is_some_and(|o| s(o, "/spec/schedule").contains("TZ"));
        let tz_field = cj.pointer("/spec/timeZone").is_some_and(|t| !t.is_null());
        if allow_tz && sched.contains("TZ") && tz_field {
            errs.push(Cause::invalid(
                "spec.schedule",
                &v,
                "cannot use both timeZone field and TZ or CRON_TZ in schedule",
            ));
        } else if !allow_tz && sched.contains("TZ") {
            errs.push(Cause::invalid(
                "spec.schedule",
                &v,
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ));
        }
    }
    match s(cj, "/spec/concurrencyPolicy") {
        "Allow" | "Forbid" | "Replace" => {}
        other => errs.push(Cause::new(
            "FieldValueNotSupported",
            "spec.concurrencyPolicy",
            format!("Unsupported value: {other:?}: supported values: \"Allow\", \"Forbid\", \"Replace\""),
        )),
    }
    if let Some(spec) = cj.pointer("/spec/jobTemplate/spec/template/spec") {
        errs.extend(restart_policy(
            spec,
            "spec.jobTemplate.spec.template.spec.restartPolicy",
        ));
    }
    errs
}

fn job(old: Option<&Value>, j: &Value) -> Vec<Cause> {
    let mut errs = Vec::new();
    if let Some(spec) = j.pointer("/spec/template/spec") {
        errs.extend(restart_policy(spec, "spec.template.spec.restartPolicy"));
        if spec
            .get("containers")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
        {
            errs.push(Cause::required("spec.template.spec.containers"));
        }
    } else {
        errs.push(Cause::required("spec.template.spec.containers"));
    }
    if let Some(old) = old {
        for (p, f) in [
            ("/spec/selector", "spec.selector"),
            ("/spec/completions", "spec.completions"),
        ] {
            if old.pointer(p) != j.pointer(p) {
                errs.push(Cause::invalid(
                    f,
                    j.pointer(p).unwrap_or(&Value::Null),
                    "field is immutable",
                ));
            }
        }
        let strip = |v: Option<&Value>| v.cloned();
        if strip(old.pointer("/spec/template")) != strip(j.pointer("/spec/template")) {
            errs.push(Cause::invalid(
                "spec.template",
                &Value::String("core.PodTemplateSpec{...}".into()),
                "field is immutable",
            ));
        }
    }
    errs
}

fn pod(old: Option<&Value>, p: &Value) -> Vec<Cause> {
    let mut errs = Vec::new();
    let containers = p.pointer("/spec/containers").and_then(Value::as_array);
    match containers {
        None => errs.push(Cause::required("spec.containers")),
        Some(cs) if cs.is_empty() => errs.push(Cause::required("spec.containers")),
        Some(cs) => {
            for (i, c) in cs.iter().enumerate() {
                if s(c, "/name").is_empty() {
                    errs.push(Cause::required(format!("spec.containers[{i}].name")));
                }
                if s(c, "/image").is_empty() {
                    errs.push(Cause::required(format!("spec.containers[{i}].image")));
                }
            }
        }
    }
    if let Some(old) = old {
        let before = s(old, "/spec/nodeName");
        if !before.is_empty() && before != s(p, "/spec/nodeName") {
            errs.push(Cause::new(
                "FieldValueForbidden",
                "spec",
                "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
            ));
        }
    }
    errs
}

fn crd(c: &Value) -> Vec<Cause> {
    let name = s(c, "/metadata/name");
    let want = format!("{}.{}", s(c, "/spec/names/plural"), s(c, "/spec/group"));
    if name != want {
        return vec![Cause::invalid(
            "metadata.name",
            &Value::String(name.into()),
            "must be spec.names.plural+\".\"+spec.group",
        )];
    }
    let storage = c
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map_or(0, |vs| vs.iter().filter(|v| v["storage"] == true).count());
    if storage != 1 {
        return vec![Cause::invalid(
            "spec.versions",
            &Value::from(storage),
            "must have exactly one version marked as storage version",
        )];
    }
    let _ = show;
    Vec::new()
}
