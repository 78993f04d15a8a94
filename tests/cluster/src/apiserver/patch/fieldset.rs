//! Field sets as in `managedFields[].fieldsV1` (structured-merge-diff): `f:<field>`,
//! `k:<json key>`, `v:<json value>` path elements; `.` marks a node that is itself a member.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::listtypes::{ListKind, Types};

/// A set of field paths.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSet {
    members: BTreeSet<String>,
    children: BTreeMap<String, FieldSet>,
}

/// Which part of an object a set covers (status subresource split).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Part {
    /// Everything.
    All,
    /// Everything but `.status`.
    Main,
    /// Only `.status`.
    Status,
}

/// Metadata fields never tracked (as upstream strips them).
const UNTRACKED_META: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
    "generateName",
];

impl FieldSet {
    /// Parses a `fieldsV1` object (`{}` is a member; `"."` marks the node itself).
    pub fn from_json(v: &Value) -> Self {
        let mut s = FieldSet::default();
        if let Some(m) = v.as_object() {
            for (k, child) in m {
                if k == "." || child.as_object().is_none_or(|o| o.is_empty()) {
                    s.members.insert(k.clone());
                } else {
                    s.children.insert(k.clone(), FieldSet::from_json(child));
                }
            }
        }
        s
    }

    /// The `fieldsV1` JSON.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        for k in &self.members {
            m.insert(k.clone(), json!({}));
        }
        for (k, c) in &self.children {
            if !c.is_empty() {
                m.insert(k.clone(), c.to_json());
            }
        }
        Value::Object(m)
    }

    /// No path at all?
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.values().all(FieldSet::is_empty)
    }

    /// Every member path.
    pub fn paths(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        for m in &self.members {
            let mut p = prefix.clone();
            p.push(m.clone());
            out.push(p);
        }
        for (k, c) in &self.children {
            prefix.push(k.clone());
            c.collect(prefix, out);
            prefix.pop();
        }
    }

    /// Adds a path.
    pub fn insert(&mut self, path: &[String]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// Is `path` a member?
    pub fn contains(&self, path: &[String]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.contains(rest)),
        }
    }

    /// Is `path` a member or a prefix of one?
    pub fn touches(&self, path: &[String]) -> bool {
        match path {
            [] => !self.is_empty(),
            [last] => {
                self.members.contains(last)
                    || self.children.get(last).is_some_and(|c| !c.is_empty())
            }
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.touches(rest)),
        }
    }

    /// Removes a path (and prunes empty children).
    pub fn remove(&mut self, path: &[String]) {
        match path {
            [] => {}
            [last] => {
                self.members.remove(last);
            }
            [first, rest @ ..] => {
                if let Some(c) = self.children.get_mut(first) {
                    c.remove(rest);
                    if c.is_empty() {
                        self.children.remove(first);
                    }
                }
            }
        }
    }

    /// The fields of `obj` (apiVersion/kind and server-set metadata excluded).
    pub fn of_object(obj: &Value, types: &dyn Types, part: Part) -> Self {
        let mut s = FieldSet::default();
        let Some(m) = obj.as_object() else { return s };
        for (k, v) in m {
            if k == "apiVersion" || k == "kind" {
                continue;
            }
            match (part, k.as_str()) {
                (Part::Main, "status") => continue,
                (Part::Status, other) if other != "status" => continue,
                _ => {}
            }
            if k == "metadata" {
                let mut meta = v.clone();
                if let Some(o) = meta.as_object_mut() {
                    for f in UNTRACKED_META {
                        o.remove(*f);
                    }
                }
                if meta.as_object().is_some_and(|o| !o.is_empty()) {
                    let mut child = FieldSet::default();
                    walk(&meta, &mut vec!["metadata".into()], types, &mut child);
                    s.children.insert("f:metadata".into(), child);
                }
                continue;
            }
            add_field(&mut s, k, v, &mut Vec::new(), types);
        }
        s
    }
}

fn add_field(set: &mut FieldSet, k: &str, v: &Value, path: &mut Vec<String>, types: &dyn Types) {
    let pe = format!("f:{k}");
    path.push(k.to_string());
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match v {
        Value::Object(o) if !o.is_empty() && !types.atomic_map(&p) => {
            let mut child = FieldSet::default();
            walk(v, path, types, &mut child);
            if child.is_empty() {
                set.members.insert(pe);
            } else {
                set.children.insert(pe, child);
            }
        }
        Value::Array(items) => match types.list(&p) {
            ListKind::Map(keys) if items.iter().all(Value::is_object) && !items.is_empty() => {
                let mut child = FieldSet::default();
                for item in items {
                    let mut item_set = FieldSet::default();
                    walk(item, path, types, &mut item_set);
                    item_set.members.insert(".".into());
                    child.children.insert(key_element(item, &keys), item_set);
                }
                set.children.insert(pe, child);
            }
            ListKind::Set if !items.is_empty() => {
                let mut child = FieldSet::default();
                for item in items {
                    child.members.insert(format!("v:{item}"));
                }
                set.children.insert(pe, child);
            }
            _ => {
                set.members.insert(pe);
            }
        },
        _ => {
            set.members.insert(pe);
        }
    }
    path.pop();
}

fn walk(v: &Value, path: &mut Vec<String>, types: &dyn Types, set: &mut FieldSet) {
    if let Some(o) = v.as_object() {
        for (k, child) in o {
            add_field(set, k, child, path, types);
        }
    }
}

/// `k:{"name":"x"}` for a list-map item (key fields in sorted order, as upstream prints them).
pub fn key_element(item: &Value, keys: &[String]) -> String {
    let mut sorted: Vec<&String> = keys.iter().collect();
    sorted.sort();
    let parts: Vec<String> = sorted
        .iter()
        .filter_map(|k| item.get(k.as_str()).map(|v| format!("{}:{}", json!(k), v)))
        .collect();
    format!("k:{{{}}}", parts.join(","))
}

/// The value at a field path (None when absent). `.` is the node itself.
pub fn get_path<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = obj;
    for pe in path {
        cur = step(cur, pe)?;
    }
    Some(cur)
}

fn step<'a>(cur: &'a Value, pe: &str) -> Option<&'a Value> {
    if pe == "." {
        return Some(cur);
    }
    if let Some(f) = pe.strip_prefix("f:") {
        return cur.get(f);
    }
    let items = cur.as_array()?;
    if let Some(k) = pe.strip_prefix("k:") {
        let key: Value = serde_json::from_str(k).ok()?;
        let key = key.as_object()?;
        return items
            .iter()
            .find(|i| key.iter().all(|(kk, kv)| i.get(kk) == Some(kv)));
    }
    if let Some(v) = pe.strip_prefix("v:") {
        let val: Value = serde_json::from_str(v).ok()?;
        return items.iter().find(|i| **i == val);
    }
    None
}

/// Removes the value at a field path (a list item for `k:`/`v:` then `.`).
pub fn remove_path(obj: &mut Value, path: &[String]) {
    let (last, parent_path) = match path.last().map(String::as_str) {
        Some(".") => match path[..path.len() - 1].split_last() {
            Some((l, p)) => (l, p),
            None => return,
        },
        Some(_) => match path.split_last() {
            Some((l, p)) => (l, p),
            None => return,
        },
        None => return,
    };
    let mut cur = obj;
    for pe in parent_path {
        let next = if let Some(f) = pe.strip_prefix("f:") {
            cur.get_mut(f)
        } else {
            let idx = match &*cur {
                Value::Array(items) => {
                    let probe = Value::Array(items.clone());
                    step(&probe, pe).and_then(|found| items.iter().position(|i| i == found))
                }
                _ => None,
            };
            match idx {
                Some(i) => cur.get_mut(i),
                None => None,
            }
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(o) = cur.as_object_mut() {
            o.remove(f);
        }
    } else if let Value::Array(items) = &*cur {
        let probe = Value::Array(items.clone());
        let idx = step(&probe, last).and_then(|found| items.iter().position(|i| i == found));
        if let (Some(i), Some(a)) = (idx, cur.as_array_mut()) {
            a.remove(i);
        }
    }
}
