//! Expectations, as upstream controllers keep them: after creating or deleting pods, a
//! controller waits until its cache shows the change before acting on that owner again,
//! so a stale cache never causes a second create.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long an unmet expectation blocks its owner (then the cache is trusted again).
const EXPIRY: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct Pending {
    created: Vec<String>,
    deleted: Vec<String>,
    since: Instant,
}

/// Per-owner pending creations and deletions (by object name).
#[derive(Debug, Default)]
pub struct Expectations {
    pending: HashMap<String, Pending>,
}

impl Expectations {
    /// Records that `created` were created and `deleted` deleted for `owner`.
    pub fn expect(&mut self, owner: &str, created: Vec<String>, deleted: Vec<String>) {
        if created.is_empty() && deleted.is_empty() {
            return;
        }
        let p = self.pending.entry(owner.to_owned()).or_insert(Pending {
            created: vec![],
            deleted: vec![],
            since: Instant::now(),
        });
        p.created.extend(created);
        p.deleted.extend(deleted);
        p.since = Instant::now();
    }

    /// Whether the cache (`present` tells if a name is in it) reflects every change made
    /// for `owner`; clears the owner's record when it does.
    pub fn satisfied(&mut self, owner: &str, present: impl Fn(&str) -> bool) -> bool {
        let Some(p) = self.pending.get(owner) else {
            return true;
        };
        let done = p.created.iter().all(|n| present(n)) && p.deleted.iter().all(|n| !present(n));
        if done || p.since.elapsed() > EXPIRY {
            self.pending.remove(owner);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_until_created_pods_are_seen() {
        let mut e = Expectations::default();
        e.expect("j", vec!["p1".into()], vec![]);
        assert!(!e.satisfied("j", |_| false));
        assert!(e.satisfied("j", |n| n == "p1"));
        assert!(e.satisfied("j", |_| false), "cleared once met");
    }

    #[test]
    fn waits_until_deleted_pods_are_gone() {
        let mut e = Expectations::default();
        e.expect("j", vec![], vec!["p1".into()]);
        assert!(!e.satisfied("j", |_| true));
        assert!(e.satisfied("j", |_| false));
    }
}
