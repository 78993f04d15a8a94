//! `cairn describe KIND NAME`: identity, metadata, spec and status as indented YAML,
//! conditions as a table (top-level and per session), and the object's recent events.
//! Secrets show their keys and value sizes, never the values.

use std::fmt::Write;

use cairn_core::event::Event;
use cairn_core::world::ObjectRef;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::manifest_base64;
use crate::manifest_kind::ManifestKind;
use crate::store::StateDir;
use crate::table::align;
use crate::table_age::age;
use crate::table_select::{select_one, ViewError};

/// Most events `describe` shows (the most recent ones).
pub const RECENT_EVENTS: usize = 10;

/// Renders the description of one object; `now` is the reference for ages.
pub fn describe(
    state: &StateDir,
    kind: ManifestKind,
    name: &str,
    namespace: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String, ViewError> {
    let (key, value) = select_one(state, kind, name, namespace)?;
    let mut out = header(kind, value, now);
    if kind == ManifestKind::Secret {
        secret_data(&mut out, value);
        return Ok(out);
    }
    for field in ["spec", "status"] {
        let mut section = value.get(field).cloned().unwrap_or(Value::Null);
        strip_conditions(&mut section);
        if !section.is_null() {
            let _ = writeln!(out, "{}:", capitalise(field));
            out.push_str(&indent(
                &serde_yaml::to_string(&section).unwrap_or_default(),
                2,
            ));
        }
    }
    conditions(&mut out, value, now);
    if let ManifestKind::Api(k) = kind {
        let events = state.load_world()?.events;
        events_section(
            &mut out,
            &events,
            &ObjectRef {
                kind: k,
                key: key.clone(),
            },
        );
    }
    Ok(out)
}

fn header(kind: ManifestKind, value: &Value, now: DateTime<Utc>) -> String {
    let meta = |f: &str| value.pointer(&format!("/metadata/{f}"));
    let text = |f: &str| meta(f).and_then(Value::as_str).unwrap_or("").to_owned();
    let map = |f: &str| match meta(f).and_then(Value::as_object) {
        Some(m) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\n              "),
        _ => "<none>".to_owned(),
    };
    let when = |f: &str| {
        let t = text(f);
        match t.parse::<DateTime<Utc>>() {
            Ok(at) => format!("{t} ({} ago)", age(at, now)),
            Err(_) => "<unknown>".to_owned(),
        }
    };
    let mut rows = vec![
        ("Name:", text("name")),
        ("Namespace:", text("namespace")),
        ("Kind:", kind.name().to_owned()),
        ("API Version:", kind.api_version()),
        ("Labels:", map("labels")),
        ("Annotations:", map("annotations")),
        ("Created:", when("creationTimestamp")),
        ("UID:", text("uid")),
        ("Resource Version:", text("resourceVersion")),
    ];
    if let Some(g) = meta("generation") {
        rows.push(("Generation:", g.to_string()));
    }
    if let Some(f) = meta("finalizers").and_then(Value::as_array) {
        let list: Vec<&str> = f.iter().filter_map(Value::as_str).collect();
        rows.push(("Finalizers:", list.join(", ")));
    }
    if meta("deletionTimestamp").is_some() {
        rows.push(("Deleting since:", when("deletionTimestamp")));
    }
    if !kind.namespaced() {
        rows.retain(|(k, _)| *k != "Namespace:");
    }
    let mut out = String::new();
    for (k, v) in rows {
        let _ = writeln!(out, "{k:<18}{v}");
    }
    out
}

fn secret_data(out: &mut String, value: &Value) {
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("Opaque");
    let _ = writeln!(out, "{:<18}{kind}\n\nData\n====", "Type:");
    let Some(data) = value.get("data").and_then(Value::as_object) else {
        return;
    };
    for (k, v) in data {
        let size = v
            .as_str()
            .and_then(manifest_base64::decode)
            .map_or(0, |b| b.len());
        let _ = writeln!(out, "{k}:  {size} bytes");
    }
}

/// Removes `conditions` (shown as tables) from a status section.
fn strip_conditions(section: &mut Value) {
    if let Some(m) = section.as_object_mut() {
        m.remove("conditions");
        if let Some(Value::Array(sessions)) = m.get_mut("sessions") {
            for s in sessions.iter_mut().filter_map(Value::as_object_mut) {
                s.remove("conditions");
            }
        }
        if m.is_empty() {
            *section = Value::Null;
        }
    }
}

fn conditions(out: &mut String, value: &Value, now: DateTime<Utc>) {
    let mut blocks = vec![(
        "Conditions:".to_owned(),
        value.pointer("/status/conditions"),
    )];
    if let Some(sessions) = value.pointer("/status/sessions").and_then(Value::as_array) {
        for s in sessions {
            let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
            blocks.push((format!("Session {name} Conditions:"), s.get("conditions")));
        }
    }
    for (title, list) in blocks {
        let Some(list) = list.and_then(Value::as_array).filter(|l| !l.is_empty()) else {
            continue;
        };
        let field = |c: &Value, f: &str| c.get(f).and_then(Value::as_str).unwrap_or("").to_owned();
        let mut table = vec![["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"]
            .map(str::to_owned)
            .to_vec()];
        for c in list {
            let since = field(c, "lastTransitionTime")
                .parse::<DateTime<Utc>>()
                .map_or_else(|_| String::new(), |t| age(t, now));
            table.push(vec![
                field(c, "type"),
                field(c, "status"),
                field(c, "reason"),
                since,
                field(c, "message"),
            ]);
        }
        let _ = writeln!(out, "{title}");
        out.push_str(&indent(&align(&table), 2));
    }
}

fn events_section(out: &mut String, events: &[Event], object: &ObjectRef) {
    let mine: Vec<&Event> = events.iter().filter(|e| e.object == *object).collect();
    let recent = &mine[mine.len().saturating_sub(RECENT_EVENTS)..];
    if recent.is_empty() {
        out.push_str("Events:            <none>\n");
        return;
    }
    let mut table = vec![["TYPE", "REASON", "MESSAGE"].map(str::to_owned).to_vec()];
    for e in recent {
        let type_ = serde_json::to_value(e.type_)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        table.push(vec![type_, e.reason.clone(), e.message.clone()]);
    }
    out.push_str("Events:\n");
    out.push_str(&indent(&align(&table), 2));
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
