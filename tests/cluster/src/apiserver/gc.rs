//! Garbage collection in the server (instead of a kube-controller-manager GC): dependents
//! whose owners are all gone are deleted (background), dangling references dropped, the
//! `orphan` and `foregroundDeletion` finalizers honoured, terminating namespaces emptied.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::handlers::delete::{delete_object, DeleteOptions};
use super::handlers::pipeline::after_remove;
use super::state::{Shared, State};
use super::store::{key_of, GroupResource};

/// Runs passes on every notification (and every second) until the task is dropped.
pub async fn run(shared: Arc<Shared>) {
    loop {
        tokio::select! {
            _ = shared.gc.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        // Several passes: one deletion can free the next level of dependents.
        for _ in 0..8 {
            let changed = pass(&mut shared.lock());
            if !changed {
                break;
            }
        }
    }
}

struct Obj {
    gr: GroupResource,
    ns: String,
    name: String,
    refs: Vec<Value>,
    deleting: bool,
    finalizers: Vec<String>,
}

fn snapshot(st: &State) -> (HashMap<String, Obj>, Vec<Obj>) {
    let mut by_uid = HashMap::new();
    let mut all = Vec::new();
    for (gr, o) in st.store.all() {
        let (ns, name) = key_of(o);
        let mk = || Obj {
            gr: gr.clone(),
            ns: ns.clone(),
            name: name.clone(),
            refs: o
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            deleting: o.pointer("/metadata/deletionTimestamp").is_some(),
            finalizers: o
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
        };
        if let Some(uid) = o.pointer("/metadata/uid").and_then(Value::as_str) {
            by_uid.insert(uid.to_string(), mk());
        }
        all.push(mk());
    }
    (by_uid, all)
}

fn resource(st: &State, gr: &GroupResource) -> Option<Arc<super::registry::Resource>> {
    st.registry
        .all()
        .find(|r| r.group == gr.0 && r.plural == gr.1)
        .cloned()
}

fn set_refs(st: &mut State, o: &Obj, refs: Vec<Value>) {
    if let Some(mut cur) = st.store.get(&o.gr, &o.ns, &o.name).cloned() {
        if refs.is_empty() {
            cur["metadata"]
                .as_object_mut()
                .map(|m| m.remove("ownerReferences"));
        } else {
            cur["metadata"]["ownerReferences"] = json!(refs);
        }
        st.store.put(&o.gr, cur);
    }
}

fn remove_finalizer(st: &mut State, o: &Obj, f: &str) {
    let Some(mut cur) = st.store.get(&o.gr, &o.ns, &o.name).cloned() else {
        return;
    };
    let left: Vec<String> = o.finalizers.iter().filter(|x| *x != f).cloned().collect();
    if left.is_empty() {
        cur["metadata"]
            .as_object_mut()
            .map(|m| m.remove("finalizers"));
    } else {
        cur["metadata"]["finalizers"] = json!(left);
    }
    if left.is_empty() && o.deleting {
        st.store.put(&o.gr, cur);
        if let Some(gone) = st.store.remove(&o.gr, &o.ns, &o.name) {
            if let Some(res) = resource(st, &o.gr) {
                after_remove(st, &res, &gone);
            }
        }
    } else {
        st.store.put(&o.gr, cur);
    }
}

fn delete(st: &mut State, o: &Obj, policy: &str) {
    if let Some(res) = resource(st, &o.gr) {
        let opts = DeleteOptions {
            propagation: Some(policy.into()),
            ..Default::default()
        };
        let _ = delete_object(st, &res, &o.ns, &o.name, &opts);
    }
}

/// One pass; true when something changed.
pub fn pass(st: &mut State) -> bool {
    let (by_uid, all) = snapshot(st);
    let mut changed = false;
    for o in &all {
        if o.refs.is_empty() {
            continue;
        }
        let mut keep = Vec::new();
        let mut owner_foreground = false;
        for r in &o.refs {
            let uid = r["uid"].as_str().unwrap_or("");
            match by_uid.get(uid) {
                None => {}
                Some(owner) if owner.deleting && owner.finalizers.iter().any(|f| f == "orphan") => {
                }
                Some(owner) => {
                    if owner.deleting && owner.finalizers.iter().any(|f| f == "foregroundDeletion")
                    {
                        owner_foreground = true;
                    }
                    keep.push(r.clone());
                }
            }
        }
        let orphaned_by_policy = o.refs.iter().any(|r| {
            by_uid
                .get(r["uid"].as_str().unwrap_or(""))
                .is_some_and(|ow| ow.deleting && ow.finalizers.iter().any(|f| f == "orphan"))
        });
        if keep.is_empty() && !orphaned_by_policy {
            if !o.deleting {
                delete(st, o, "Background");
                changed = true;
            }
        } else if keep.len() != o.refs.len() {
            set_refs(st, o, keep);
            changed = true;
        } else if owner_foreground && !o.deleting {
            delete(st, o, "Foreground");
            changed = true;
        }
    }
    let (_, all) = snapshot(st);
    let dependents_of = |uid: &str| all.iter().any(|d| d.refs.iter().any(|r| r["uid"] == uid));
    for o in &all {
        if !o.deleting {
            continue;
        }
        let uid = st
            .store
            .get(&o.gr, &o.ns, &o.name)
            .and_then(|v| {
                v.pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .map(String::from)
            })
            .unwrap_or_default();
        for f in ["orphan", "foregroundDeletion"] {
            if o.finalizers.iter().any(|x| x == f) && !dependents_of(&uid) {
                remove_finalizer(st, o, f);
                changed = true;
                break;
            }
        }
        if o.gr == (String::new(), "namespaces".to_string()) {
            changed |= finalize_namespace(st, &o.name, &all);
        }
    }
    changed
}

/// Deletes a terminating namespace's contents; removes it once empty.
fn finalize_namespace(st: &mut State, ns: &str, all: &[Obj]) -> bool {
    let contents: Vec<&Obj> = all.iter().filter(|o| o.ns == ns).collect();
    if contents.is_empty() {
        let gr = (String::new(), "namespaces".to_string());
        if let Some(mut cur) = st.store.get(&gr, "", ns).cloned() {
            cur["spec"]["finalizers"] = json!([]);
            st.store.put(&gr, cur);
            st.store.remove(&gr, "", ns);
            return true;
        }
        return false;
    }
    let mut changed = false;
    for o in contents {
        if !o.deleting {
            delete(st, o, "Background");
            changed = true;
        }
    }
    changed
}
