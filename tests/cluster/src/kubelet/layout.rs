//! Where the kubelet keeps each pod's files under the cluster directory. A contract with
//! the API server (which serves `pods/log` from these files) and with tests (pids):
//!
//! - `DIR/pods/<namespace>/<pod>/<container>.log`: stdout+stderr of the current instance
//!   (`<container>.previous.log`: the instance before the last restart);
//!   (`DIR/logs/<namespace>/<pod>` links to the pod's directory, for the API server);
//! - `DIR/pods/<namespace>/<pod>/<container>.pid`: pid (= process group) of the running instance;
//! - `DIR/pods/<namespace>/<pod>/volumes/<volume>/`: the pod's volumes;
//! - `DIR/volumes/claims/<namespace>/<claim>/`: persistentVolumeClaim data (outlives pods).

use std::path::{Path, PathBuf};

/// Paths of the kubelet's files.
#[derive(Clone, Debug)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// Files under the cluster directory `root`.
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
        }
    }

    /// A pod's directory.
    pub fn pod_dir(&self, namespace: &str, pod: &str) -> PathBuf {
        self.root.join("pods").join(namespace).join(pod)
    }

    /// `DIR/logs/<namespace>/<pod>`, where the API server's `pods/log` looks: a symlink
    /// to the pod's directory.
    pub fn log_link(&self, namespace: &str, pod: &str) -> PathBuf {
        self.root.join("logs").join(namespace).join(pod)
    }

    /// Creates the pod's directory (empty) and its [`Self::log_link`].
    pub fn create_pod_dir(&self, namespace: &str, pod: &str) -> std::io::Result<()> {
        let dir = self.pod_dir(namespace, pod);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let link = self.log_link(namespace, pod);
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&dir, &link)
    }

    /// A container's current log.
    pub fn log(&self, namespace: &str, pod: &str, container: &str) -> PathBuf {
        self.pod_dir(namespace, pod)
            .join(format!("{container}.log"))
    }

    /// A container's log before its last restart.
    pub fn previous_log(&self, namespace: &str, pod: &str, container: &str) -> PathBuf {
        self.pod_dir(namespace, pod)
            .join(format!("{container}.previous.log"))
    }

    /// A container's pid file.
    pub fn pid(&self, namespace: &str, pod: &str, container: &str) -> PathBuf {
        self.pod_dir(namespace, pod)
            .join(format!("{container}.pid"))
    }

    /// The launch script of a container (mounts, identity, exec).
    pub fn script(&self, namespace: &str, pod: &str, container: &str) -> PathBuf {
        self.pod_dir(namespace, pod).join(format!("{container}.sh"))
    }

    /// A pod volume's directory.
    pub fn volume(&self, namespace: &str, pod: &str, volume: &str) -> PathBuf {
        self.pod_dir(namespace, pod).join("volumes").join(volume)
    }

    /// The pod's generated /etc/hosts.
    pub fn hosts(&self, namespace: &str, pod: &str) -> PathBuf {
        self.pod_dir(namespace, pod).join("etc-hosts")
    }

    /// A persistentVolumeClaim's data directory.
    pub fn claim(&self, namespace: &str, claim: &str) -> PathBuf {
        self.root
            .join("volumes")
            .join("claims")
            .join(namespace)
            .join(claim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_contract() {
        let l = Layout::new(Path::new("/c"));
        assert_eq!(l.log("ns", "p", "main"), Path::new("/c/pods/ns/p/main.log"));
        assert_eq!(l.pid("ns", "p", "main"), Path::new("/c/pods/ns/p/main.pid"));
        assert_eq!(
            l.volume("ns", "p", "v"),
            Path::new("/c/pods/ns/p/volumes/v")
        );
        assert_eq!(
            l.claim("ns", "data"),
            Path::new("/c/volumes/claims/ns/data")
        );
    }
}
