//! Where each piece of the world lives in the state directory.
//!
//! ```text
//! <state>/objects/<plural>/<namespace>/<name>.yaml   namespaced objects and Secrets (0600)
//! <state>/objects/<plural>/<name>.yaml               cluster-scoped objects, Namespaces
//! <state>/facts/jobs/<backup|restore>/<ns>/<session>.yaml   executor jobs
//! <state>/facts/backends/<ns>/<storage>.yaml          backend files per BackupStorage
//! <state>/facts/hooks.yaml, facts/triggers.yaml       hook runs, session triggers
//! <state>/events.yaml                                 recent events, oldest first
//! ```

use std::path::{Component, Path, PathBuf};

use cairn_core::job::{JobKey, JobKind};
use cairn_core::world::ObjectKey;

use crate::manifest_kind::ManifestKind;

/// Directory of objects.
pub const OBJECTS: &str = "objects";
/// Directory of facts.
pub const FACTS: &str = "facts";
/// File of recent events.
pub const EVENTS: &str = "events.yaml";
/// File of hook runs.
pub const HOOKS: &str = "facts/hooks.yaml";
/// File of session triggers.
pub const TRIGGERS: &str = "facts/triggers.yaml";

/// One file of the state directory, by what it holds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StatePath {
    /// An object, Secret or Namespace.
    Object(ManifestKind, ObjectKey),
    /// An executor job.
    Job(JobKey),
    /// Backend facts of a BackupStorage.
    Backend(ObjectKey),
    /// Hook runs.
    Hooks,
    /// Session triggers.
    Triggers,
    /// Recent events.
    Events,
}

impl StatePath {
    /// The path relative to the state directory.
    pub fn relative(&self) -> PathBuf {
        match self {
            StatePath::Object(kind, key) => {
                let mut p = PathBuf::from(OBJECTS).join(kind.plural());
                if !key.namespace.is_empty() {
                    p.push(&key.namespace);
                }
                p.join(format!("{}.yaml", key.name))
            }
            StatePath::Job(job) => PathBuf::from(FACTS)
                .join("jobs")
                .join(job_dir(job.kind))
                .join(&job.namespace)
                .join(format!("{}.yaml", job.session)),
            StatePath::Backend(key) => PathBuf::from(FACTS)
                .join("backends")
                .join(&key.namespace)
                .join(format!("{}.yaml", key.name)),
            StatePath::Hooks => PathBuf::from(HOOKS),
            StatePath::Triggers => PathBuf::from(TRIGGERS),
            StatePath::Events => PathBuf::from(EVENTS),
        }
    }

    /// What a relative path holds, if it is a state file.
    pub fn parse(relative: &Path) -> Option<StatePath> {
        let parts: Vec<&str> = relative
            .components()
            .map(|c| match c {
                Component::Normal(s) => s.to_str(),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let stem = |s: &str| s.strip_suffix(".yaml").map(str::to_owned);
        match parts.as_slice() {
            [EVENTS] => Some(StatePath::Events),
            [FACTS, "hooks.yaml"] => Some(StatePath::Hooks),
            [FACTS, "triggers.yaml"] => Some(StatePath::Triggers),
            [FACTS, "jobs", kind, ns, file] => {
                let kind = match *kind {
                    "backup" => JobKind::Backup,
                    "restore" => JobKind::Restore,
                    _ => return None,
                };
                Some(StatePath::Job(JobKey::new(kind, *ns, stem(file)?)))
            }
            [FACTS, "backends", ns, file] => {
                Some(StatePath::Backend(ObjectKey::new(*ns, stem(file)?)))
            }
            [OBJECTS, plural, rest @ ..] => {
                let kind = ManifestKind::all()
                    .into_iter()
                    .find(|k| k.plural() == *plural)?;
                let key = match (kind.namespaced(), rest) {
                    (true, [ns, file]) => ObjectKey::new(*ns, stem(file)?),
                    (false, [file]) => ObjectKey::new("", stem(file)?),
                    _ => return None,
                };
                Some(StatePath::Object(kind, key))
            }
            _ => None,
        }
    }

    /// Whether the file holds secret values (written 0600).
    pub fn is_private(&self) -> bool {
        matches!(self, StatePath::Object(ManifestKind::Secret, _))
    }
}

fn job_dir(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Backup => "backup",
        JobKind::Restore => "restore",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::api::Kind;

    #[test]
    fn paths_round_trip() {
        let all = [
            StatePath::Object(
                ManifestKind::Api(Kind::BackupConfiguration),
                ObjectKey::new("demo", "bc"),
            ),
            StatePath::Object(ManifestKind::Api(Kind::Addon), ObjectKey::new("", "a")),
            StatePath::Object(ManifestKind::Secret, ObjectKey::new("demo", "s")),
            StatePath::Object(ManifestKind::Namespace, ObjectKey::new("", "demo")),
            StatePath::Job(JobKey::new(JobKind::Restore, "demo", "r")),
            StatePath::Backend(ObjectKey::new("demo", "gcs")),
            StatePath::Hooks,
            StatePath::Triggers,
            StatePath::Events,
        ];
        for p in all {
            assert_eq!(StatePath::parse(&p.relative()), Some(p.clone()), "{p:?}");
        }
        assert_eq!(StatePath::parse(Path::new("objects/nope/x.yaml")), None);
    }
}
