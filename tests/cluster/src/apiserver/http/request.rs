//! A parsed request: method, path parts, query, headers of interest, body.

use std::collections::HashMap;

use bytes::Bytes;
use hyper::Method;

use crate::apiserver::auth::User;

/// One API request after reading its body.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// HTTP method.
    pub method: Method,
    /// URL path.
    pub path: String,
    /// Decoded query parameters.
    pub query: HashMap<String, String>,
    /// `Accept`.
    pub accept: String,
    /// `Content-Type`.
    pub content_type: String,
    /// `User-Agent`.
    pub user_agent: String,
    /// Body bytes.
    pub body: Bytes,
    /// The authenticated user (None before authentication / for anonymous health checks).
    pub user: Option<User>,
}

impl Ctx {
    /// A query parameter.
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    /// A boolean query parameter (`true`/`1`).
    pub fn flag(&self, k: &str) -> bool {
        matches!(self.q(k), Some("true" | "1"))
    }

    /// `?dryRun=All`.
    pub fn dry_run(&self) -> bool {
        self.q("dryRun") == Some("All")
    }

    /// Does the client ask for a `meta.k8s.io` Table?
    pub fn wants_table(&self) -> bool {
        self.accept
            .split(',')
            .next()
            .is_some_and(|first| first.contains("as=Table"))
    }

    /// The field manager: `fieldManager`, else the user agent's program name (upstream default).
    pub fn field_manager(&self) -> String {
        match self.q("fieldManager") {
            Some(m) if !m.is_empty() => m.to_string(),
            _ => self
                .user_agent
                .split('/')
                .next()
                .unwrap_or("unknown")
                .to_string(),
        }
    }

    /// The user (only called after authentication).
    pub fn user(&self) -> User {
        self.user.clone().unwrap_or(User {
            name: "system:anonymous".into(),
            groups: vec![],
            uid: String::new(),
        })
    }
}

/// Where a resource request points.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePath {
    /// Group ("" for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Namespace from the URL ("" for none).
    pub namespace: String,
    /// Plural.
    pub resource: String,
    /// Name ("" for collections).
    pub name: String,
    /// Subresource ("" for none).
    pub subresource: String,
    /// Legacy `/watch/` path.
    pub watch_path: bool,
}

/// What a path addresses.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/<g>`.
    Group(String),
    /// `/api/v1` or `/apis/<g>/<v>`.
    GroupVersion(String, String),
    /// A resource URL.
    Resource(ResourcePath),
    /// Anything else (non-resource URL).
    Other,
}

/// Parses a URL path.
pub fn parse_path(path: &str) -> Target {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api"] => return Target::CoreVersions,
        ["apis"] => return Target::Groups,
        ["apis", g] => return Target::Group(g.to_string()),
        ["api", v] => return Target::GroupVersion(String::new(), v.to_string()),
        ["apis", g, v] => return Target::GroupVersion(g.to_string(), v.to_string()),
        ["api", v, rest @ ..] => (String::new(), v.to_string(), rest),
        ["apis", g, v, rest @ ..] => (g.to_string(), v.to_string(), rest),
        _ => return Target::Other,
    };
    let (watch_path, rest) = match rest {
        ["watch", r @ ..] => (true, r),
        r => (false, r),
    };
    let mut p = ResourcePath {
        group,
        version,
        namespace: String::new(),
        resource: String::new(),
        name: String::new(),
        subresource: String::new(),
        watch_path,
    };
    let s = |x: &&str| x.to_string();
    match rest {
        ["namespaces", ns, sub @ ("status" | "finalize")] => {
            p.resource = "namespaces".into();
            p.name = s(ns);
            p.subresource = s(sub);
        }
        ["namespaces", ns, res, tail @ ..] => {
            p.namespace = s(ns);
            p.resource = s(res);
            p.name = tail.first().map(s).unwrap_or_default();
            p.subresource = tail.get(1).map(s).unwrap_or_default();
            if tail.len() > 2 {
                return Target::Other;
            }
        }
        [res, tail @ ..] => {
            p.resource = s(res);
            p.name = tail.first().map(s).unwrap_or_default();
            p.subresource = tail.get(1).map(s).unwrap_or_default();
            if tail.len() > 2 {
                return Target::Other;
            }
        }
        [] => return Target::Other,
    }
    Target::Resource(p)
}

/// Decodes a query string.
pub fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    q.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}
