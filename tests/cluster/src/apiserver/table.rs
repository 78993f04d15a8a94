//! `meta.k8s.io/v1 Table` responses (`kubectl get`): CRD additionalPrinterColumns, and the
//! usual columns of the common built-in kinds.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::registry::Resource;

/// upstream `duration.HumanDuration`.
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s % 60 == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        if m % 60 == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        if h % 24 == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{}h", h % 24)
        }
    } else if h < 24 * 365 * 2 {
        format!("{d}d")
    } else if h < 24 * 365 * 8 {
        format!("{}y{}d", d / 365, d % 365)
    } else {
        format!("{}y", d / 365)
    }
}

fn age(ts: Option<&str>) -> Value {
    match ts.and_then(|t| DateTime::parse_from_rfc3339(t).ok()) {
        Some(t) => json!(human_duration(
            (Utc::now() - t.with_timezone(&Utc)).num_seconds()
        )),
        None => json!("<unknown>"),
    }
}

/// Evaluates a printer-column JSONPath such as `.status.phase`, `.spec.items[0].name` or
/// `.status.conditions[?(@.type=="Ready")].status`.
pub fn json_path<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = obj;
    let p = path
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim_start_matches('.');
    let mut rest = p;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = &r[..end];
            rest = r[end + 1..].trim_start_matches('.');
            if let Some(filter) = inner.strip_prefix("?(@.").and_then(|f| f.strip_suffix(')')) {
                let (field, want) = filter.split_once("==")?;
                let want = want.trim().trim_matches(|c| c == '"' || c == '\'');
                cur = cur
                    .as_array()?
                    .iter()
                    .find(|i| i.get(field.trim()).and_then(Value::as_str) == Some(want))?;
            } else {
                cur = cur.as_array()?.get(inner.parse::<usize>().ok()?)?;
            }
            continue;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        cur = cur.get(&rest[..end])?;
        rest = rest[end..].trim_start_matches('.');
    }
    Some(cur)
}

fn col(name: &str, typ: &str, format: &str, priority: i64, description: &str) -> Value {
    json!({"name": name, "type": typ, "format": format, "description": description, "priority": priority})
}

/// A column definition and how to compute its cell.
type Column = (Value, fn(&Value) -> Value);

fn builtin_columns(kind: &str) -> Vec<Column> {
    match kind {
        "Pod" => vec![
            (
                col(
                    "Ready",
                    "string",
                    "",
                    0,
                    "The aggregate readiness state of this pod for accepting traffic.",
                ),
                |o| {
                    let cs = o
                        .pointer("/spec/containers")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    let ready = o
                        .pointer("/status/containerStatuses")
                        .and_then(Value::as_array)
                        .map_or(0, |a| a.iter().filter(|c| c["ready"] == true).count());
                    json!(format!("{ready}/{cs}"))
                },
            ),
            (
                col(
                    "Status",
                    "string",
                    "",
                    0,
                    "The aggregate status of the containers in this pod.",
                ),
                |o| {
                    if o.pointer("/metadata/deletionTimestamp").is_some() {
                        return json!("Terminating");
                    }
                    let waiting = o
                        .pointer("/status/containerStatuses")
                        .and_then(Value::as_array)
                        .and_then(|a| {
                            a.iter()
                                .find_map(|c| c.pointer("/state/waiting/reason").cloned())
                        });
                    waiting.unwrap_or_else(|| {
                        o.pointer("/status/phase")
                            .cloned()
                            .unwrap_or(json!("Pending"))
                    })
                },
            ),
            (
                col(
                    "Restarts",
                    "string",
                    "",
                    0,
                    "The number of times the containers in this pod have been restarted.",
                ),
                |o| {
                    let n: i64 = o
                        .pointer("/status/containerStatuses")
                        .and_then(Value::as_array)
                        .map_or(0, |a| {
                            a.iter().filter_map(|c| c["restartCount"].as_i64()).sum()
                        });
                    json!(n.to_string())
                },
            ),
        ],
        "Job" => vec![
            (col("Status", "string", "", 0, "Status of the job."), |o| {
                let conds = o
                    .pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let has = |t: &str| {
                    conds
                        .iter()
                        .any(|c| c["type"] == t && c["status"] == "True")
                };
                json!(if has("Complete") {
                    "Complete"
                } else if has("Failed") {
                    "Failed"
                } else if o.pointer("/spec/suspend") == Some(&json!(true)) {
                    "Suspended"
                } else {
                    "Running"
                })
            }),
            (
                col(
                    "Completions",
                    "string",
                    "",
                    0,
                    "The desired number of successfully finished pods the job should be run with.",
                ),
                |o| {
                    let want = o
                        .pointer("/spec/completions")
                        .and_then(Value::as_i64)
                        .unwrap_or(1);
                    let ok = o
                        .pointer("/status/succeeded")
                        .and_then(Value::as_i64)
                        .unwrap_or(0);
                    json!(format!("{ok}/{want}"))
                },
            ),
        ],
        "Deployment" | "ReplicaSet" | "StatefulSet" => vec![(
            col(
                "Ready",
                "string",
                "",
                0,
                "Number of the pod with ready state",
            ),
            |o| {
                let want = o
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                let ready = o
                    .pointer("/status/readyReplicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                json!(format!("{ready}/{want}"))
            },
        )],
        "Service" => vec![
            (
                col("Type", "string", "", 0, "The type of the service."),
                |o| {
                    o.pointer("/spec/type")
                        .cloned()
                        .unwrap_or(json!("ClusterIP"))
                },
            ),
            (
                col(
                    "Cluster-IP",
                    "string",
                    "",
                    0,
                    "The IP address of the service.",
                ),
                |o| {
                    o.pointer("/spec/clusterIP")
                        .cloned()
                        .unwrap_or(json!("<none>"))
                },
            ),
        ],
        "CronJob" => vec![
            (
                col(
                    "Schedule",
                    "string",
                    "",
                    0,
                    "The schedule for running the job.",
                ),
                |o| o.pointer("/spec/schedule").cloned().unwrap_or(json!("")),
            ),
            (
                col("Suspend", "boolean", "", 0, "Whether the job is suspended."),
                |o| o.pointer("/spec/suspend").cloned().unwrap_or(json!(false)),
            ),
            (
                col("Active", "integer", "", 0, "Number of active jobs."),
                |o| {
                    json!(o
                        .pointer("/status/active")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len))
                },
            ),
        ],
        "Event" => vec![
            (
                col(
                    "Last Seen",
                    "string",
                    "",
                    0,
                    "Time when this Event was last seen",
                ),
                |o| {
                    let t = [
                        "/lastTimestamp",
                        "/deprecatedLastTimestamp",
                        "/eventTime",
                        "/metadata/creationTimestamp",
                    ]
                    .iter()
                    .find_map(|p| o.pointer(p).and_then(Value::as_str));
                    age(t)
                },
            ),
            (
                col(
                    "Type",
                    "string",
                    "",
                    0,
                    "Type of this event (Normal, Warning), new types could be added in the future.",
                ),
                |o| o.get("type").cloned().unwrap_or(json!("")),
            ),
            (
                col(
                    "Reason",
                    "string",
                    "",
                    0,
                    "Reason why the action was taken.",
                ),
                |o| o.get("reason").cloned().unwrap_or(json!("")),
            ),
            (
                col(
                    "Object",
                    "string",
                    "",
                    0,
                    "The object that this event is about.",
                ),
                |o| {
                    let r = o
                        .get("involvedObject")
                        .or_else(|| o.get("regarding"))
                        .cloned()
                        .unwrap_or(json!({}));
                    let kind = r["kind"].as_str().unwrap_or("").to_lowercase();
                    json!(format!("{kind}/{}", r["name"].as_str().unwrap_or("")))
                },
            ),
            (
                col(
                    "Message",
                    "string",
                    "",
                    0,
                    "A human-readable description of the status of this operation.",
                ),
                |o| {
                    o.get("message")
                        .or_else(|| o.get("note"))
                        .cloned()
                        .unwrap_or(json!(""))
                },
            ),
        ],
        "CustomResourceDefinition" => vec![(
            col("Created At", "date", "", 0, "Time the CRD was created"),
            |o| {
                o.pointer("/metadata/creationTimestamp")
                    .cloned()
                    .unwrap_or(json!(""))
            },
        )],
        "Namespace" => vec![(
            col("Status", "string", "", 0, "The status of the namespace"),
            |o| {
                o.pointer("/status/phase")
                    .cloned()
                    .unwrap_or(json!("Active"))
            },
        )],
        "Secret" => vec![(
            col("Type", "string", "", 0, "The type of the secret"),
            |o| o.get("type").cloned().unwrap_or(json!("Opaque")),
        )],
        _ => Vec::new(),
    }
}

/// A Table of `objects`; `include_object` is the `includeObject` parameter.
pub fn table(
    res: &Resource,
    version: &str,
    objects: &[Value],
    rv: &str,
    include_object: &str,
) -> Value {
    let mut defs = vec![col(
        "Name",
        "string",
        "name",
        0,
        "Name must be unique within a namespace.",
    )];
    let mut rows: Vec<Vec<Value>> = objects
        .iter()
        .map(|o| vec![o.pointer("/metadata/name").cloned().unwrap_or(json!(""))])
        .collect();
    match res.printer_columns(version) {
        Some(cols) if !cols.is_empty() => {
            for c in cols {
                let typ = c["type"].as_str().unwrap_or("string");
                defs.push(col(
                    c["name"].as_str().unwrap_or(""),
                    typ,
                    c["format"].as_str().unwrap_or(""),
                    c["priority"].as_i64().unwrap_or(0),
                    c["description"].as_str().unwrap_or(""),
                ));
                let path = c["jsonPath"].as_str().unwrap_or("");
                for (row, o) in rows.iter_mut().zip(objects) {
                    let v = json_path(o, path);
                    row.push(match (typ, v) {
                        ("date", Some(Value::String(t))) => age(Some(t)),
                        (_, Some(v)) if !v.is_null() => v.clone(),
                        _ => Value::Null,
                    });
                }
            }
        }
        Some(_) => {
            defs.push(col("Age", "date", "", 0, "CreationTimestamp is a timestamp representing the server time when this object was created."));
            for (row, o) in rows.iter_mut().zip(objects) {
                row.push(age(o
                    .pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str)));
            }
        }
        None => {
            for (def, f) in builtin_columns(&res.kind) {
                defs.push(def);
                for (row, o) in rows.iter_mut().zip(objects) {
                    row.push(f(o));
                }
            }
            if !matches!(res.kind.as_str(), "Event" | "CustomResourceDefinition") {
                let d = "CreationTimestamp is a timestamp representing the server time when this object was created.";
                defs.push(col("Age", "string", "", 0, d));
                for (row, o) in rows.iter_mut().zip(objects) {
                    row.push(age(o
                        .pointer("/metadata/creationTimestamp")
                        .and_then(Value::as_str)));
                }
            }
        }
    }
    let rows: Vec<Value> = rows
        .into_iter()
        .zip(objects)
        .map(|(cells, o)| {
            let object = match include_object {
                "None" => Value::Null,
                "Object" => o.clone(),
                _ => json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}),
            };
            json!({"cells": cells, "object": object})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": defs,
        "rows": rows,
    })
}
