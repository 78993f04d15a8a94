//! The process groups of every running container, so the kubelet can signal a container
//! with its children and kill everything left when it stops.

use std::collections::HashSet;
use std::sync::Mutex;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// Live process groups (by leader pid).
#[derive(Debug, Default)]
pub struct Groups {
    live: Mutex<HashSet<i32>>,
}

impl Groups {
    /// Records a started container.
    pub fn add(&self, pgid: i32) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(pgid);
    }

    /// Forgets a container whose process was reaped.
    pub fn remove(&self, pgid: i32) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&pgid);
    }

    /// Sends `sig` to every live group.
    pub fn signal_all(&self, sig: Signal) {
        for pgid in self.live.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            signal(*pgid, sig);
        }
    }

    /// Whether no group is live.
    pub fn is_empty(&self) -> bool {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// Number of live groups.
    pub fn len(&self) -> usize {
        self.live.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Sends `sig` to process group `pgid` (gone groups are ignored).
pub fn signal(pgid: i32, sig: Signal) {
    let _ = killpg(Pid::from_raw(pgid), sig);
}
