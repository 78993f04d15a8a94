//! Container processes: a private mount (and UTS) namespace per container, the volumes
//! bind-mounted at their mount paths, /etc/hosts replaced, privileges dropped, then the
//! program exec'd, all through a generated shell script run by `unshare` (no unsafe code).
//! `unshare` without `--fork` execs in place, so the spawned pid is the container's pid
//! and the leader of its process group.

pub mod groups;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::security::Identity;

/// A volume directory bind-mounted at a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindMount {
    /// Directory (or file) on the host.
    pub source: PathBuf,
    /// Path the container sees.
    pub target: PathBuf,
    /// Mounted read-only.
    pub read_only: bool,
}

/// Everything needed to start one container instance.
#[derive(Clone, Debug)]
pub struct Launch {
    /// Program to exec.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its full environment.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub working_dir: String,
    /// Volumes.
    pub mounts: Vec<BindMount>,
    /// The pod's hosts file, bound onto /etc/hosts.
    pub hosts: PathBuf,
    /// Hostname (UTS namespace).
    pub hostname: String,
    /// Who runs it.
    pub identity: Identity,
    /// `readOnlyRootFilesystem`: / read-only in the container's mount namespace.
    pub read_only_root: bool,
}

/// The script line creating the mount point of `m` (a directory, or a file for a file).
fn mount_point(m: &BindMount) -> String {
    let dst = quote(&m.target.to_string_lossy());
    if m.source.is_dir() {
        format!("mkdir -p {dst}\n")
    } else {
        let parent = m.target.parent().unwrap_or(Path::new("/"));
        format!(
            "mkdir -p {}; [ -e {dst} ] || : > {dst}\n",
            quote(&parent.to_string_lossy())
        )
    }
}

/// Single-quotes `s` for sh.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Launch {
    /// The launch script (run in the new namespaces, as root, until its final `exec`).
    pub fn script(&self) -> String {
        let mut s = String::from("set -e\n");
        let _ = writeln!(s, "hostname {}", quote(&self.hostname));
        let mut mounts = self.mounts.clone();
        mounts.push(BindMount {
            source: self.hosts.clone(),
            target: "/etc/hosts".into(),
            read_only: true,
        });
        let nested = |t: &Path| {
            mounts
                .iter()
                .any(|o| o.target != t && t.starts_with(&o.target))
        };
        // Mount points inside a volume are made once their parent is mounted.
        for m in mounts.iter().filter(|m| !nested(&m.target)) {
            s.push_str(&mount_point(m));
        }
        let workdir = quote(&self.working_dir);
        if !nested(Path::new(&self.working_dir)) {
            let _ = writeln!(s, "mkdir -p {workdir}");
        }
        for m in &mounts {
            if nested(&m.target) {
                s.push_str(&mount_point(m));
            }
            let (src, dst) = (
                quote(&m.source.to_string_lossy()),
                quote(&m.target.to_string_lossy()),
            );
            let _ = writeln!(s, "mount --bind {src} {dst}");
            if m.read_only {
                let _ = writeln!(s, "mount -o remount,bind,ro {dst}");
            }
        }
        if self.read_only_root {
            // Last, so the binds above (whose sources are on /) stay writable; the flag is
            // that of this namespace's copy of /: the host's / stays writable.
            s.push_str("mount -o remount,bind,ro /\n");
        }
        let _ = writeln!(
            s,
            "mkdir -p {workdir} 2>/dev/null || true; cd {workdir}; unset OLDPWD"
        );
        let mut exec = String::from("exec");
        let id = &self.identity;
        if id.uid != 0 || id.gid != 0 || !id.groups.is_empty() {
            let groups = if id.groups.is_empty() {
                "--clear-groups".to_owned()
            } else {
                format!(
                    "--groups={}",
                    id.groups
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                )
            };
            let _ = write!(
                exec,
                " setpriv --reuid={} --regid={} {groups} --",
                id.uid, id.gid
            );
        }
        let _ = write!(exec, " {}", quote(&self.program.to_string_lossy()));
        for a in &self.args {
            let _ = write!(exec, " {}", quote(a));
        }
        s.push_str(&exec);
        s.push('\n');
        s
    }

    /// The command starting the instance (script written at `script_path`, output to `log`).
    pub fn command(
        &self,
        script_path: &Path,
        log: &Path,
    ) -> std::io::Result<tokio::process::Command> {
        std::fs::write(script_path, self.script())?;
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let err = out.try_clone()?;
        let mut cmd = tokio::process::Command::new("unshare");
        cmd.args([
            "--mount",
            "--uts",
            "--propagation",
            "private",
            "--",
            "/bin/sh",
        ])
        .arg(script_path)
        .current_dir("/")
        .env_clear()
        .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
        Ok(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(identity: Identity) -> Launch {
        Launch {
            program: "/bin/cairn".into(),
            args: vec!["it's".into()],
            env: vec![],
            working_dir: "/".into(),
            mounts: vec![BindMount {
                source: "/nonexistent-src".into(),
                target: "/etc/x.conf".into(),
                read_only: true,
            }],
            hosts: "/c/hosts".into(),
            hostname: "pod-1".into(),
            identity,
            read_only_root: true,
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn scripts_mount_then_drop_privileges() {
        let s = launch(Identity {
            uid: 65532,
            gid: 65532,
            groups: vec![],
        })
        .script();
        assert!(s.contains("hostname 'pod-1'\n"));
        assert!(s.contains("mount --bind '/nonexistent-src' '/etc/x.conf'\nmount -o remount,bind,ro '/etc/x.conf'\n"));
        assert!(s.contains("mount --bind '/c/hosts' '/etc/hosts'\n"));
        let ro = s
            .find("mount -o remount,bind,ro /\n")
            .expect("read-only root");
        assert!(s.find("mkdir -p '/etc'").expect("mount point") < ro, "{s}");
        assert!(s.rfind("mount --bind").expect("binds") < ro, "{s}");
        assert!(s.ends_with("exec setpriv --reuid=65532 --regid=65532 --clear-groups -- '/bin/cairn' 'it'\\''s'\n"), "{s}");
        let root = launch(Identity {
            uid: 0,
            gid: 0,
            groups: vec![],
        })
        .script();
        assert!(root.ends_with("exec '/bin/cairn' 'it'\\''s'\n"));
        let grouped = launch(Identity {
            uid: 1,
            gid: 2,
            groups: vec![3, 4],
        })
        .script();
        assert!(grouped.contains("--groups=3,4 --"));
    }
}
