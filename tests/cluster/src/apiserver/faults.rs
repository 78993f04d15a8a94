//! Fault injection for tests (`POST /_test/faults`, admin only): error codes, delays,
//! dropped watches and 410 Gone on requests matching a method, a user and a path regex.

use std::time::{Duration, Instant};

use serde_json::Value;

/// One injected fault.
#[derive(Debug, Clone)]
pub struct Rule {
    method: Option<String>,
    user: Option<String>,
    path: regex::Regex,
    status: Option<u16>,
    count: Option<u64>,
    until: Option<Instant>,
    delay_ms: u64,
    drop_watch: bool,
    gone410: bool,
    message: Option<String>,
}

/// What to do to one request.
#[derive(Debug, Clone, Default)]
pub struct Hit {
    /// Wait this long first.
    pub delay_ms: u64,
    /// Answer this error code.
    pub status: Option<u16>,
    /// Watches: close the stream right after it starts.
    pub drop_watch: bool,
    /// Watches: send an ERROR 410 event; lists: answer 410.
    pub gone410: bool,
    /// Message of the injected error.
    pub message: Option<String>,
}

/// The active rules.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<Rule>,
}

/// A rule that cannot be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid fault rule: {0}")]
pub struct RuleError(String);

impl Faults {
    /// Adds rules from `{...}`, `[{...}]` or `{"rules": [...]}`.
    pub fn add(&mut self, body: &Value) -> Result<usize, RuleError> {
        let list: Vec<&Value> = match body {
            Value::Array(a) => a.iter().collect(),
            Value::Object(o) if o.contains_key("rules") => o["rules"]
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default(),
            other => vec![other],
        };
        for r in &list {
            let path = r.get("pathRegex").and_then(Value::as_str).unwrap_or(".*");
            let path = regex::Regex::new(path).map_err(|e| RuleError(e.to_string()))?;
            self.rules.push(Rule {
                method: r
                    .get("method")
                    .and_then(Value::as_str)
                    .map(str::to_uppercase),
                user: r.get("user").and_then(Value::as_str).map(String::from),
                path,
                status: r.get("status").and_then(Value::as_u64).map(|s| s as u16),
                count: r.get("count").and_then(Value::as_u64),
                until: r
                    .get("untilSeconds")
                    .and_then(Value::as_f64)
                    .map(|s| Instant::now() + Duration::from_secs_f64(s)),
                delay_ms: r.get("delayMs").and_then(Value::as_u64).unwrap_or(0),
                drop_watch: r.get("dropWatch").and_then(Value::as_bool).unwrap_or(false),
                gone410: r.get("gone410").and_then(Value::as_bool).unwrap_or(false),
                message: r.get("message").and_then(Value::as_str).map(String::from),
            });
        }
        Ok(list.len())
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The fault for a request (consuming one of its `count`), if any. `target` is the path
    /// with its query string; `user` the authenticated user name.
    pub fn take(&mut self, method: &str, target: &str, user: &str) -> Option<Hit> {
        let now = Instant::now();
        self.rules
            .retain(|r| r.count != Some(0) && r.until.is_none_or(|u| u > now));
        let r = self.rules.iter_mut().find(|r| {
            r.method.as_deref().is_none_or(|m| m == method)
                && r.user.as_deref().is_none_or(|u| u == user)
                && r.path.is_match(target)
        })?;
        if let Some(c) = r.count.as_mut() {
            *c -= 1;
        }
        Some(Hit {
            delay_ms: r.delay_ms,
            status: r.status,
            drop_watch: r.drop_watch,
            gone410: r.gone410,
            message: r.message.clone(),
        })
    }
}

/// The `reason` upstream uses for a code.
pub fn reason_of(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "InternalError",
    }
}
