//! The write path shared by create, update, patch and apply: metadata rules, status
//! subresource isolation, defaulting, schema pruning/validation, admission, generation,
//! managedFields, no-op detection, dry-run, finalizer completion.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::apiserver::admission::{defaults, escalation, ownerrefs, serviceaccount, validation};
use crate::apiserver::auth::User;
use crate::apiserver::http::status::{ApiError, Cause, Subject};
use crate::apiserver::patch::fieldset::Part;
use crate::apiserver::patch::listtypes::{Builtin, Schema, Types};
use crate::apiserver::patch::managed;
use crate::apiserver::registry::Resource;
use crate::apiserver::schema::structural;
use crate::apiserver::state::State;

/// The kind of write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// POST.
    Create,
    /// PUT.
    Update,
    /// PATCH (merge, json, strategic).
    Patch,
    /// Server-side apply (managedFields already computed).
    Apply,
}

/// Everything about a write but the objects.
#[derive(Clone)]
pub struct Write {
    /// The resource type.
    pub res: Arc<Resource>,
    /// The version of the request.
    pub version: String,
    /// Namespace from the URL.
    pub namespace: String,
    /// Name from the URL ("" for create).
    pub name: String,
    /// "" or `status`.
    pub subresource: String,
    /// Who writes.
    pub user: User,
    /// `fieldManager`.
    pub manager: String,
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `fieldValidation` (`Strict`, `Warn`, `Ignore`).
    pub field_validation: String,
    /// Now, RFC 3339 (seconds).
    pub now: String,
}

/// The outcome of a write.
pub struct Written {
    /// The object as answered.
    pub object: Value,
    /// 200 or 201.
    pub code: u16,
    /// `Warning` headers.
    pub warnings: Vec<String>,
}

impl Write {
    /// The error subject of this write.
    pub fn subject(&self, name: &str) -> Subject {
        Subject::new(&self.res.group, &self.res.plural, name)
    }

    /// Merge type information of this resource.
    pub fn types(&self) -> Box<dyn Types + '_> {
        match self.res.schema(&self.version) {
            Some(s) => Box::new(Schema(s)),
            None => Box::new(Builtin(&self.res.kind)),
        }
    }

    /// The part of the object this write's subresource covers.
    pub fn part(&self) -> Part {
        managed::part_of(&self.subresource, self.res.status)
    }
}

fn gr(res: &Resource) -> (String, String) {
    res.gr()
}

fn spec_of(v: &Value, drop_status: bool) -> Value {
    let mut c = v.clone();
    if let Some(o) = c.as_object_mut() {
        o.remove("metadata");
        if drop_status {
            o.remove("status");
        }
    }
    c
}

fn without_volatile(v: &Value) -> Value {
    let mut c = v.clone();
    if let Some(m) = c.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
        m.remove("managedFields");
    }
    c
}

/// A random 5-character suffix for `generateName` (upstream's alphabet).
pub fn random_suffix() -> String {
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    uuid::Uuid::new_v4().as_bytes()[..5]
        .iter()
        .map(|b| ALPHA[*b as usize % ALPHA.len()] as char)
        .collect()
}

/// Runs the write; `old` is the current object (None for create).
pub fn commit(
    st: &mut State,
    w: &Write,
    old: Option<&Value>,
    mut new: Value,
    op: Op,
) -> Result<Written, ApiError> {
    let res = w.res.clone();
    if !new.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request was not a JSON object",
        ));
    }
    if let Some(k) = new.get("kind").and_then(Value::as_str) {
        if k != res.kind && op == Op::Create {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({}) does not match the expected API version ({})",
                new.get("apiVersion").and_then(Value::as_str).unwrap_or(""),
                res.api_version(&w.version)
            )));
        }
    }
    new["apiVersion"] = json!(res.api_version(&w.version));
    new["kind"] = json!(res.kind);
    if !new.get("metadata").is_some_and(Value::is_object) {
        new["metadata"] = json!({});
    }
    let body_ns = new
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if res.namespaced {
        if !body_ns.is_empty() && body_ns != w.namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        new["metadata"]["namespace"] = json!(w.namespace);
    } else if let Some(m) = new["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    let mut warnings = Vec::new();
    match old {
        None => prepare_create(st, w, &mut new)?,
        Some(old) => prepare_update(w, old, &mut new, op)?,
    }
    let name = new
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();

    defaults::apply(st, w, old, &mut new);
    if let Some(schema) = res.schema(&w.version) {
        let unknown = structural::prune(&mut new, schema);
        if !unknown.is_empty() && op != Op::Apply {
            match w.field_validation.as_str() {
                "Strict" => {
                    let list: Vec<String> = unknown
                        .iter()
                        .map(|u| format!("unknown field \"{}\"", u.trim_start_matches('.')))
                        .collect();
                    return Err(ApiError::bad_request(format!(
                        "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
                        res.kind,
                        w.version,
                        res.kind,
                        list.join(", ")
                    )));
                }
                "Ignore" => {}
                _ => warnings.extend(
                    unknown
                        .iter()
                        .map(|u| format!("unknown field \"{}\"", u.trim_start_matches('.'))),
                ),
            }
        }
        structural::apply_defaults(&mut new, schema);
        let errs = structural::validate(&new, schema);
        if !errs.is_empty() {
            return Err(ApiError::invalid(&res.kind, &res.group, &name, errs));
        }
    }
    let mut causes: Vec<Cause> = validation::validate(st, w, old, &new);
    if let Some(n) = new.pointer("/metadata/name").and_then(Value::as_str) {
        causes.splice(0..0, validation::name(&res, n));
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid(&res.kind, &res.group, &name, causes));
    }
    ownerrefs::check(st, w, old, &new)?;
    serviceaccount::check(st, w, old, &new)?;
    escalation::check(st, w, &new)?;

    if let Some(old) = old {
        if res.generation && spec_of(old, res.status) != spec_of(&new, res.status) {
            let g = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            new["metadata"]["generation"] = json!(g + 1);
        }
    }
    if op != Op::Apply {
        let types = w.types();
        managed::track_update(
            old,
            &mut new,
            &w.manager,
            &w.subresource,
            w.part(),
            types.as_ref(),
            &w.now,
        );
    }
    if let Some(old) = old {
        if without_volatile(old) == without_volatile(&new) {
            return Ok(Written {
                object: old.clone(),
                code: 200,
                warnings,
            });
        }
    }
    let code = if old.is_some() { 200 } else { 201 };
    if w.dry_run {
        if old.is_none() {
            if let Some(m) = new["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
        }
        return Ok(Written {
            object: new,
            code,
            warnings,
        });
    }
    let gr = gr(&res);
    if gr != (res.group.clone(), res.plural.clone()) {
        new = crate::apiserver::registry::events::to_core(&new);
    }
    let finishing = old.is_some_and(|o| o.pointer("/metadata/deletionTimestamp").is_some())
        && new
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
    if finishing {
        st.store.put(&gr, new);
        let gone = st
            .store
            .remove(&gr, &w.namespace, &name)
            .unwrap_or(Value::Null);
        after_remove(st, &res, &gone);
        return Ok(Written {
            object: gone,
            code: 200,
            warnings,
        });
    }
    let stored = st.store.put(&gr, new);
    after_write(st, &res, &stored, old.is_none(), &w.now);
    Ok(Written {
        object: stored,
        code,
        warnings,
    })
}

fn prepare_create(st: &mut State, w: &Write, new: &mut Value) -> Result<(), ApiError> {
    let res = &w.res;
    let meta = &mut new["metadata"];
    let mut name = meta
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty() {
        match meta.get("generateName").and_then(Value::as_str) {
            Some(g) if !g.is_empty() => {
                name = format!("{g}{}", random_suffix());
                meta["name"] = json!(name);
            }
            _ => {
                return Err(ApiError::invalid(
                    &res.kind,
                    &res.group,
                    "",
                    vec![Cause::new(
                        "FieldValueRequired",
                        "metadata.name",
                        "Required value: name or generateName is required",
                    )],
                ))
            }
        }
    }
    if res.namespaced {
        let ns_gr = (String::new(), "namespaces".to_string());
        match st.store.get(&ns_gr, "", &w.namespace) {
            None => {
                return Err(ApiError::not_found(&Subject::new(
                    "",
                    "namespaces",
                    &w.namespace,
                )))
            }
            Some(ns) if ns.pointer("/metadata/deletionTimestamp").is_some() => {
                let mut e = ApiError::forbidden(
                    &w.subject(&name),
                    &format!(
                        "unable to create new content in namespace {} because it is being terminated",
                        w.namespace
                    ),
                );
                if let Some(d) = e.details.as_mut() {
                    d["causes"] = json!([{"reason": "NamespaceTerminating", "message": format!("namespace {} is being terminated", w.namespace), "field": "metadata.namespace"}]);
                }
                return Err(e);
            }
            _ => {}
        }
    }
    if st.store.get(&gr(res), &w.namespace, &name).is_some() {
        return Err(ApiError::already_exists(&w.subject(&name)));
    }
    let meta = new["metadata"]
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("metadata"))?;
    for k in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    ] {
        meta.remove(k);
    }
    meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    meta.insert("creationTimestamp".into(), json!(w.now));
    if res.generation {
        meta.insert("generation".into(), json!(1));
    } else {
        meta.remove("generation");
    }
    if res.status && res.is_custom() {
        if let Some(o) = new.as_object_mut() {
            o.remove("status");
        }
    }
    Ok(())
}

fn prepare_update(w: &Write, old: &Value, new: &mut Value, op: Op) -> Result<(), ApiError> {
    let res = &w.res;
    let old_name = old
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    match new.pointer("/metadata/name").and_then(Value::as_str) {
        Some(n) if n != old_name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({old_name})"
            )))
        }
        _ => new["metadata"]["name"] = json!(old_name),
    }
    let old_rv = old
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    match new
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        Some(rv) if !rv.is_empty() && rv != old_rv => {
            return Err(ApiError::stale(&w.subject(old_name)))
        }
        Some(rv) if !rv.is_empty() => {}
        _ if op == Op::Update && res.is_custom() => {
            return Err(ApiError::invalid(
                &res.kind,
                &res.group,
                old_name,
                vec![Cause::new(
                    "FieldValueInvalid",
                    "metadata.resourceVersion",
                    "Invalid value: 0x0: must be specified for an update",
                )],
            ))
        }
        _ => {}
    }
    for k in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        match old.pointer(&format!("/metadata/{k}")) {
            Some(v) => new["metadata"][k] = v.clone(),
            None => {
                if let Some(m) = new["metadata"].as_object_mut() {
                    m.remove(k);
                }
            }
        }
    }
    if w.subresource == "status" {
        let mut kept = old.clone();
        match new.get("status") {
            Some(s) => kept["status"] = s.clone(),
            None => {
                if let Some(o) = kept.as_object_mut() {
                    o.remove("status");
                }
            }
        }
        kept["metadata"]["resourceVersion"] = new["metadata"]["resourceVersion"].clone();
        match new.pointer("/metadata/managedFields") {
            Some(m) => kept["metadata"]["managedFields"] = m.clone(),
            None => {
                if let Some(m) = kept["metadata"].as_object_mut() {
                    m.remove("managedFields");
                }
            }
        }
        *new = kept;
    } else if res.status {
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                if let Some(o) = new.as_object_mut() {
                    o.remove("status");
                }
            }
        }
    }
    if old.pointer("/metadata/deletionTimestamp").is_some() {
        let fins = |v: &Value| -> Vec<String> {
            v.pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let before = fins(old);
        let added: Vec<String> = fins(new)
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        if !added.is_empty() {
            return Err(ApiError::invalid(&res.kind, &res.group, old_name, vec![Cause::new(
                "FieldValueForbidden",
                "metadata.finalizers",
                format!("Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"),
            )]));
        }
    }
    Ok(())
}

/// Bookkeeping after an object is stored: CRD registration, namespace contents.
fn after_write(st: &mut State, res: &Resource, stored: &Value, created: bool, now: &str) {
    if res.plural == "customresourcedefinitions" && res.group == "apiextensions.k8s.io" {
        refresh_crds(st);
    }
    if created && res.plural == "namespaces" && res.group.is_empty() {
        super::super::bootstrap::namespace_contents(st, stored, now);
    }
}

/// Bookkeeping after an object is removed.
pub fn after_remove(st: &mut State, res: &Resource, gone: &Value) {
    if res.plural == "customresourcedefinitions" && res.group == "apiextensions.k8s.io" {
        if let Some(r) = crate::apiserver::registry::crd::resource_of(gone) {
            let gr = (r.group.clone(), r.plural.clone());
            let keys: Vec<(String, String)> = st
                .store
                .list(&gr, None)
                .iter()
                .map(|o| crate::apiserver::store::key_of(o))
                .collect();
            for (ns, n) in keys {
                st.store.remove(&gr, &ns, &n);
            }
        }
        refresh_crds(st);
    }
}

/// Re-registers the custom resources of the stored CRDs.
pub fn refresh_crds(st: &mut State) {
    let gr = (
        "apiextensions.k8s.io".to_string(),
        "customresourcedefinitions".to_string(),
    );
    let crds: Vec<Value> = st.store.list(&gr, None).into_iter().cloned().collect();
    st.registry.set_custom(&crds);
}
