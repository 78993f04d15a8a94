//! Kinds as users name them: the KubeStash kinds plus the core/v1 kinds the local
//! control plane reads (Secret, Namespace), typed parsing per kind, and resolution of
//! the names `cairn get` accepts (kind, plural, singular or short name).

use cairn_core::api::{
    Addon, AppBinding, BackupConfiguration, BackupSession, BackupStorage, Function, HookTemplate,
    Kind, Repository, RestoreSession, RetentionPolicy, Snapshot,
};
use cairn_core::world::Object;
use serde::de::DeserializeOwned;

/// `apiVersion` of Secret and Namespace.
pub const CORE_V1: &str = "v1";

/// A kind a manifest may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ManifestKind {
    /// One of the KubeStash (and AppBinding) kinds.
    Api(Kind),
    /// A core/v1 Secret.
    Secret,
    /// A core/v1 Namespace (its labels feed usage policies with selectors).
    Namespace,
}

impl ManifestKind {
    /// Every kind, API kinds first.
    pub fn all() -> Vec<ManifestKind> {
        let mut all: Vec<_> = Kind::ALL.into_iter().map(ManifestKind::Api).collect();
        all.extend([ManifestKind::Secret, ManifestKind::Namespace]);
        all
    }

    /// The `kind` string.
    pub fn name(self) -> &'static str {
        match self {
            ManifestKind::Api(k) => k.name(),
            ManifestKind::Secret => "Secret",
            ManifestKind::Namespace => "Namespace",
        }
    }

    /// The `apiVersion` string.
    pub fn api_version(self) -> String {
        match self {
            ManifestKind::Api(k) => k.api_version(),
            ManifestKind::Secret | ManifestKind::Namespace => CORE_V1.to_owned(),
        }
    }

    /// Lowercase plural resource name.
    pub fn plural(self) -> &'static str {
        match self {
            ManifestKind::Api(k) => k.plural(),
            ManifestKind::Secret => "secrets",
            ManifestKind::Namespace => "namespaces",
        }
    }

    /// Short names (`kubectl get bc`).
    pub fn short_names(self) -> Vec<String> {
        match self {
            ManifestKind::Api(k) => short_names(k),
            ManifestKind::Secret => Vec::new(),
            ManifestKind::Namespace => vec!["ns".to_owned()],
        }
    }

    /// Whether objects of the kind live in a namespace.
    pub fn namespaced(self) -> bool {
        match self {
            ManifestKind::Api(k) => k.namespaced(),
            ManifestKind::Secret => true,
            ManifestKind::Namespace => false,
        }
    }

    /// The kind named by `api_version` and `kind` exactly as a manifest spells them.
    pub fn from_type_meta(api_version: &str, kind: &str) -> Option<ManifestKind> {
        Self::all()
            .into_iter()
            .find(|k| k.name() == kind && k.api_version() == api_version)
    }

    /// The kind a user names on the command line: kind, plural, singular or short
    /// name, case-insensitive, optionally qualified with its group (`bc.core.kubestash.com`).
    pub fn from_user(name: &str) -> Option<ManifestKind> {
        let lower = name.to_ascii_lowercase();
        Self::all().into_iter().find(|k| {
            let group = match k {
                ManifestKind::Api(kind) => kind.group(),
                _ => "",
            };
            let mut names = vec![k.name().to_ascii_lowercase(), k.plural().to_owned()];
            names.extend(k.short_names());
            names
                .iter()
                .any(|n| *n == lower || (!group.is_empty() && lower == format!("{n}.{group}")))
        })
    }

    /// `Kind, plural, short` list of every kind, for error messages.
    pub fn known_list() -> String {
        Self::all()
            .into_iter()
            .map(|k| format!("{} ({})", k.name(), k.api_version()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Short names of an API kind, from its CRD.
fn short_names(kind: Kind) -> Vec<String> {
    cairn_core::crd::crd_for(kind)
        .spec
        .names
        .short_names
        .unwrap_or_default()
}

/// Runs `$body` with `$o` bound to the typed object inside an [`Object`] (any kind),
/// e.g. `with_object!(&mut object, o => o.metadata.generation = Some(1))`.
macro_rules! with_object {
    ($object:expr, $o:ident => $body:expr) => {
        match $object {
            cairn_core::world::Object::BackupStorage($o) => $body,
            cairn_core::world::Object::Repository($o) => $body,
            cairn_core::world::Object::Snapshot($o) => $body,
            cairn_core::world::Object::RetentionPolicy($o) => $body,
            cairn_core::world::Object::BackupConfiguration($o) => $body,
            cairn_core::world::Object::BackupSession($o) => $body,
            cairn_core::world::Object::RestoreSession($o) => $body,
            cairn_core::world::Object::HookTemplate($o) => $body,
            cairn_core::world::Object::Addon($o) => $body,
            cairn_core::world::Object::Function($o) => $body,
            cairn_core::world::Object::AppBinding($o) => $body,
        }
    };
}
pub(crate) use with_object;

/// Parses a typed object of `kind` from YAML text (errors carry line and column).
pub fn object_from_yaml(kind: Kind, text: &str) -> Result<Object, serde_yaml::Error> {
    fn parse<T: DeserializeOwned>(text: &str) -> Result<T, serde_yaml::Error> {
        serde_yaml::from_str(text)
    }
    Ok(match kind {
        Kind::BackupStorage => Object::BackupStorage(parse::<BackupStorage>(text)?),
        Kind::Repository => Object::Repository(parse::<Repository>(text)?),
        Kind::Snapshot => Object::Snapshot(parse::<Snapshot>(text)?),
        Kind::RetentionPolicy => Object::RetentionPolicy(parse::<RetentionPolicy>(text)?),
        Kind::BackupConfiguration => {
            Object::BackupConfiguration(parse::<BackupConfiguration>(text)?)
        }
        Kind::BackupSession => Object::BackupSession(parse::<BackupSession>(text)?),
        Kind::RestoreSession => Object::RestoreSession(parse::<RestoreSession>(text)?),
        Kind::HookTemplate => Object::HookTemplate(parse::<HookTemplate>(text)?),
        Kind::Addon => Object::Addon(parse::<Addon>(text)?),
        Kind::Function => Object::Function(parse::<Function>(text)?),
        Kind::AppBinding => Object::AppBinding(parse::<AppBinding>(text)?),
    })
}

/// Parses a typed object of `kind` from a JSON value.
pub fn object_from_value(kind: Kind, value: serde_json::Value) -> serde_json::Result<Object> {
    use serde_json::from_value as parse;
    Ok(match kind {
        Kind::BackupStorage => Object::BackupStorage(parse(value)?),
        Kind::Repository => Object::Repository(parse(value)?),
        Kind::Snapshot => Object::Snapshot(parse(value)?),
        Kind::RetentionPolicy => Object::RetentionPolicy(parse(value)?),
        Kind::BackupConfiguration => Object::BackupConfiguration(parse(value)?),
        Kind::BackupSession => Object::BackupSession(parse(value)?),
        Kind::RestoreSession => Object::RestoreSession(parse(value)?),
        Kind::HookTemplate => Object::HookTemplate(parse(value)?),
        Kind::Addon => Object::Addon(parse(value)?),
        Kind::Function => Object::Function(parse(value)?),
        Kind::AppBinding => Object::AppBinding(parse(value)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_user_names() {
        let bc = Some(ManifestKind::Api(Kind::BackupConfiguration));
        for n in [
            "bc",
            "BC",
            "BackupConfiguration",
            "backupconfigurations",
            "backupconfiguration",
        ] {
            assert_eq!(ManifestKind::from_user(n), bc, "{n}");
        }
        assert_eq!(ManifestKind::from_user("bc.core.kubestash.com"), bc);
        assert_eq!(
            ManifestKind::from_user("repo"),
            Some(ManifestKind::Api(Kind::Repository))
        );
        assert_eq!(
            ManifestKind::from_user("secret"),
            Some(ManifestKind::Secret)
        );
        assert_eq!(ManifestKind::from_user("nope"), None);
    }
}
