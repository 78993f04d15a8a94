//! Label selectors (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) and field selectors.

use serde_json::Value;

use crate::apiserver::http::status::ApiError;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq)]
enum Req {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector (all requirements must hold).
#[derive(Debug, Clone, Default)]
pub struct LabelSelector(Vec<Req>);

impl LabelSelector {
    /// Parses the `labelSelector` query parameter.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        let bad = |why: &str| ApiError::bad_request(format!("unable to parse requirement: {why}"));
        for part in split_top(s) {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            if let Some(k) = p.strip_prefix('!') {
                reqs.push(Req::NotExists(check_key(k.trim())?));
            } else if let Some((k, v)) = p.split_once("!=") {
                reqs.push(Req::NotIn(check_key(k.trim())?, vec![v.trim().to_string()]));
            } else if let Some((k, v)) = p.split_once("==") {
                reqs.push(Req::In(check_key(k.trim())?, vec![v.trim().to_string()]));
            } else if let Some((k, v)) = p.split_once('=') {
                reqs.push(Req::In(check_key(k.trim())?, vec![v.trim().to_string()]));
            } else if let Some((k, rest)) = split_word(p, " notin ") {
                reqs.push(Req::NotIn(
                    check_key(k)?,
                    set_values(rest).ok_or_else(|| bad(p))?,
                ));
            } else if let Some((k, rest)) = split_word(p, " in ") {
                reqs.push(Req::In(
                    check_key(k)?,
                    set_values(rest).ok_or_else(|| bad(p))?,
                ));
            } else {
                reqs.push(Req::Exists(check_key(p)?));
            }
        }
        Ok(LabelSelector(reqs))
    }

    /// The selector of a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions`).
    pub fn from_object(sel: &Value) -> Self {
        let mut reqs = Vec::new();
        if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in m {
                reqs.push(Req::In(
                    k.clone(),
                    vec![v.as_str().unwrap_or("").to_string()],
                ));
            }
        }
        for e in sel
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let k = e["key"].as_str().unwrap_or("").to_string();
            let vals: Vec<String> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            match e["operator"].as_str() {
                Some("In") => reqs.push(Req::In(k, vals)),
                Some("NotIn") => reqs.push(Req::NotIn(k, vals)),
                Some("Exists") => reqs.push(Req::Exists(k)),
                Some("DoesNotExist") => reqs.push(Req::NotExists(k)),
                _ => {}
            }
        }
        LabelSelector(reqs)
    }

    /// Does an object's `metadata.labels` satisfy the selector?
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Req::In(k, vs) => get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Req::NotIn(k, vs) => get(k).is_none_or(|v| !vs.iter().any(|x| x == v)),
            Req::Exists(k) => get(k).is_some(),
            Req::NotExists(k) => get(k).is_none(),
        })
    }
}

fn check_key(k: &str) -> Result<String, ApiError> {
    if k.is_empty() || k.contains(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',') {
        return Err(ApiError::bad_request(format!(
            "unable to parse requirement: invalid label key \"{k}\""
        )));
    }
    Ok(k.to_string())
}

fn split_word<'a>(p: &'a str, word: &str) -> Option<(&'a str, &'a str)> {
    p.find(word)
        .map(|i| (p[..i].trim(), p[i + word.len()..].trim()))
}

fn set_values(rest: &str) -> Option<Vec<String>> {
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// A parsed field selector (`metadata.name=x,status.phase!=Running`).
#[derive(Debug, Clone, Default)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses `fieldSelector` for a resource; unsupported fields are refused as upstream does.
    pub fn parse(s: &str, kind: &str) -> Result<Self, ApiError> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if !supported(kind, field) {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            out.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(FieldSelector(out))
    }

    /// Does the object satisfy the selector?
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(f, eq, v)| {
            let pointer = format!("/{}", f.replace('.', "/"));
            let actual = match obj.pointer(&pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (actual == *v) == *eq
        })
    }
}

fn supported(kind: &str, field: &str) -> bool {
    if matches!(field, "metadata.name" | "metadata.namespace") {
        return true;
    }
    let extra: &[&str] = match kind {
        "Pod" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "Event" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
            "regarding.kind",
            "regarding.name",
            "regarding.namespace",
            "regarding.uid",
        ],
        "Secret" => &["type"],
        "Namespace" => &["status.phase"],
        "Node" => &["spec.unschedulable"],
        "Job" => &["status.successful"],
        "ReplicaSet" => &["status.replicas"],
        _ => &[],
    };
    extra.contains(&field)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn label_selector_operators() {
        let o = json!({"metadata": {"labels": {"app": "web", "tier": "front"}}});
        for (sel, want) in [
            ("app=web", true),
            ("app==web,tier!=back", true),
            ("app in (db, web)", true),
            ("app notin (web)", false),
            ("tier", true),
            ("!tier", false),
            ("!missing,app", true),
        ] {
            assert_eq!(
                LabelSelector::parse(sel).expect(sel).matches(&o),
                want,
                "{sel}"
            );
        }
    }

    #[test]
    fn field_selectors_are_checked_per_kind() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "node-1"}, "status": {"phase": "Running"}});
        assert!(
            FieldSelector::parse("spec.nodeName=node-1,status.phase!=Failed", "Pod")
                .expect("ok")
                .matches(&pod)
        );
        let err = FieldSelector::parse("spec.nodeName=x", "ConfigMap").expect_err("unsupported");
        assert_eq!(err.message, "field label not supported: spec.nodeName");
    }
}
