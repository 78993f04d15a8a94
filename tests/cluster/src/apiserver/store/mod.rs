//! In-memory object storage with one global resourceVersion counter and a bounded event log.

pub mod selectors;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::broadcast;

/// `(group, plural)`.
pub type GroupResource = (String, String);

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

impl EventType {
    /// The watch event `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as kept in the log and sent to watchers.
#[derive(Debug, Clone)]
pub struct Event {
    /// The resourceVersion of the change.
    pub rv: u64,
    /// Resource type.
    pub gr: GroupResource,
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// ADDED/MODIFIED/DELETED.
    pub kind: EventType,
    /// The object after the change (before it, for DELETED, with the new RV).
    pub object: Value,
    /// The object before the change (selectors: an object leaving a selector is DELETED).
    pub old: Option<Value>,
}

/// Past events of a watch and the receiver of the next ones.
pub type Replay = (Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>);

/// The objects, the RV counter and the event log.
pub struct Store {
    rv: u64,
    objects: HashMap<GroupResource, BTreeMap<(String, String), Value>>,
    log: VecDeque<Arc<Event>>,
    log_start: u64,
    cap: usize,
    tx: broadcast::Sender<Arc<Event>>,
}

impl Store {
    /// An empty store keeping at most `cap` events.
    pub fn new(cap: usize) -> Self {
        let (tx, _) = broadcast::channel(4096);
        Store {
            rv: 1,
            objects: HashMap::new(),
            log: VecDeque::new(),
            log_start: 0,
            cap,
            tx,
        }
    }

    /// The current (latest) resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.rv
    }

    /// The oldest RV a watch can start from (older ones get 410).
    pub fn oldest_watchable(&self) -> u64 {
        self.log_start
    }

    /// Forgets the event log: every watch from an older RV now gets 410 (tests).
    pub fn compact(&mut self) {
        self.log.clear();
        self.log_start = self.rv;
    }

    /// One object.
    pub fn get(&self, gr: &GroupResource, ns: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(gr)?
            .get(&(ns.to_string(), name.to_string()))
    }

    /// Objects of a type, in `(namespace, name)` order; `ns` None = all namespaces.
    pub fn list(&self, gr: &GroupResource, ns: Option<&str>) -> Vec<&Value> {
        match self.objects.get(gr) {
            None => Vec::new(),
            Some(m) => m
                .iter()
                .filter(|((n, _), _)| ns.is_none_or(|x| x == n))
                .map(|(_, v)| v)
                .collect(),
        }
    }

    /// Every stored object with its type.
    pub fn all(&self) -> impl Iterator<Item = (&GroupResource, &Value)> {
        self.objects
            .iter()
            .flat_map(|(gr, m)| m.values().map(move |v| (gr, v)))
    }

    /// Is there an object with this uid?
    pub fn uid_exists(&self, uid: &str) -> bool {
        self.all()
            .any(|(_, v)| v.pointer("/metadata/uid").and_then(Value::as_str) == Some(uid))
    }

    /// Stores `obj` (its metadata namespace/name), giving it a new resourceVersion; returns it.
    pub fn put(&mut self, gr: &GroupResource, mut obj: Value) -> Value {
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let (ns, name) = key_of(&obj);
        let map = self.objects.entry(gr.clone()).or_default();
        let old = map.insert((ns.clone(), name), obj.clone());
        let kind = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.record(Event {
            rv: self.rv,
            gr: gr.clone(),
            namespace: ns,
            kind,
            object: obj.clone(),
            old,
        });
        obj
    }

    /// Removes an object; the DELETED event carries it with a new resourceVersion.
    pub fn remove(&mut self, gr: &GroupResource, ns: &str, name: &str) -> Option<Value> {
        let mut obj = self
            .objects
            .get_mut(gr)?
            .remove(&(ns.to_string(), name.to_string()))?;
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.record(Event {
            rv: self.rv,
            gr: gr.clone(),
            namespace: ns.to_string(),
            kind: EventType::Deleted,
            object: obj.clone(),
            old: None,
        });
        Some(obj)
    }

    fn record(&mut self, ev: Event) {
        let ev = Arc::new(ev);
        self.log.push_back(ev.clone());
        while self.log.len() > self.cap {
            if let Some(old) = self.log.pop_front() {
                self.log_start = old.rv;
            }
        }
        let _ = self.tx.send(ev);
    }

    /// Events after `rv` of one type (from the log) and a receiver for the next ones.
    /// Err(oldest) when `rv` is older than the log keeps.
    pub fn watch_from(&self, gr: &GroupResource, rv: u64) -> Result<Replay, u64> {
        if rv < self.log_start {
            return Err(self.log_start + 1);
        }
        let past = self
            .log
            .iter()
            .filter(|e| e.rv > rv && &e.gr == gr)
            .cloned()
            .collect();
        Ok((past, self.tx.subscribe()))
    }

    /// A receiver for future events only.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

/// `(namespace, name)` of an object.
pub fn key_of(obj: &Value) -> (String, String) {
    let s = |p: &str| {
        obj.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (s("/metadata/namespace"), s("/metadata/name"))
}
