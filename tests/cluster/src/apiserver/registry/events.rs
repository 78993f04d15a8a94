//! events.k8s.io/v1 ⇄ core/v1 Event field mapping: one storage, two APIs, as upstream.
//! Both directions only rename the fields of the other shape, so they are idempotent.

use serde_json::Value;

/// `(events.k8s.io/v1 name, core/v1 name)`.
const FIELDS: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
    ("reportingController", "reportingComponent"),
];

fn rename(obj: &Value, from_core: bool, api_version: &str) -> Value {
    let mut out = obj.clone();
    if let Some(o) = out.as_object_mut() {
        for (v1, core) in FIELDS {
            let (from, to) = if from_core { (core, v1) } else { (v1, core) };
            if let Some(v) = o.remove(*from) {
                o.insert(to.to_string(), v);
            }
        }
        o.insert("apiVersion".into(), Value::String(api_version.into()));
    }
    out
}

/// A stored (core/v1) Event as events.k8s.io/v1.
pub fn to_v1(core: &Value) -> Value {
    rename(core, true, "events.k8s.io/v1")
}

/// An events.k8s.io/v1 Event in its stored (core/v1) shape.
pub fn to_core(v1: &Value) -> Value {
    rename(v1, false, "v1")
}
