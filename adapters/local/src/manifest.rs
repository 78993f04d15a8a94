//! Loading KubeStash manifests from files: multi-document YAML files and directories
//! of them, every KubeStash kind (with KubeStash's API groups) plus v1 Secret and v1
//! Namespace, so existing KubeStash and KubeDB manifests load unchanged.
//!
//! Every error names the file and line ([`ManifestError`]). Fields the schema does not
//! declare are errors, not silently dropped. Namespaced objects without a namespace get
//! `default`; cluster-scoped ones lose any namespace they carry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cairn_core::api::{unknown_fields, Kind};
use cairn_core::world::{Object, ObjectKey, Secret};
use serde_json::Value;

use crate::manifest_document::{split_documents, Document};
use crate::manifest_kind::{object_from_yaml, with_object, ManifestKind};
use crate::manifest_locate::locate;
use crate::manifest_secret::{
    namespace_labels, secret_from_value, unknown_namespace_fields, unknown_secret_fields,
};

pub use crate::manifest_error::{ManifestError, Result, Source};

/// Namespace given to namespaced objects that name none.
pub const DEFAULT_NAMESPACE: &str = "default";

/// What one manifest document holds.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // manifests are few and short-lived
pub enum Manifest {
    /// A KubeStash (or AppBinding) object.
    Object(Object),
    /// A v1 Secret (values redacted in `Debug`).
    Secret(Secret),
    /// A v1 Namespace's labels.
    Namespace {
        /// Namespace name.
        name: String,
        /// Its labels.
        labels: BTreeMap<String, String>,
    },
}

impl Manifest {
    /// The manifest's kind.
    pub fn kind(&self) -> ManifestKind {
        match self {
            Manifest::Object(o) => ManifestKind::Api(o.kind()),
            Manifest::Secret(_) => ManifestKind::Secret,
            Manifest::Namespace { .. } => ManifestKind::Namespace,
        }
    }

    /// Namespace and name (empty namespace for cluster-scoped kinds).
    pub fn key(&self) -> ObjectKey {
        match self {
            Manifest::Object(o) => ObjectKey::of(o.meta()),
            Manifest::Secret(s) => ObjectKey::new(s.namespace.clone(), s.name.clone()),
            Manifest::Namespace { name, .. } => ObjectKey::new("", name.clone()),
        }
    }
}

/// A parsed manifest document and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The parsed content.
    pub manifest: Manifest,
    /// File and first line of the document.
    pub source: Source,
}

/// Loads every manifest in `paths`: files, and directories searched recursively for
/// `*.yaml`, `*.yml` and `*.json` (sorted, hidden entries skipped). Fails on the first
/// error, and when the same object is defined twice.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Loaded>> {
    let mut files = Vec::new();
    for path in paths {
        collect_files(path, &mut files)?;
    }
    let mut loaded = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| ManifestError::Read {
            path: file.clone(),
            source,
        })?;
        loaded.extend(load_str(&text, &file)?);
    }
    check_duplicates(&loaded)?;
    Ok(loaded)
}

/// Loads the manifests of one YAML stream; `file` is only used in errors and sources.
pub fn load_str(text: &str, file: &Path) -> Result<Vec<Loaded>> {
    split_documents(text)
        .into_iter()
        .map(|doc| load_document(&doc, file))
        .collect()
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let read_err = |source| ManifestError::Read {
        path: path.to_owned(),
        source,
    };
    if !path.is_dir() {
        // Reading a missing file reports the error with its path.
        std::fs::metadata(path).map_err(read_err)?;
        out.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(read_err)?;
    entries.sort();
    for entry in entries {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if entry.is_dir() {
            collect_files(&entry, out)?;
        } else if [".yaml", ".yml", ".json"].iter().any(|e| name.ends_with(e)) {
            out.push(entry);
        }
    }
    Ok(())
}

fn check_duplicates(loaded: &[Loaded]) -> Result<()> {
    let mut seen: BTreeMap<(ManifestKind, ObjectKey), &Source> = BTreeMap::new();
    for l in loaded {
        let id = (l.manifest.kind(), l.manifest.key());
        if let Some(first) = seen.get(&id) {
            return Err(ManifestError::Duplicate {
                at: l.source.clone(),
                kind: id.0.name(),
                object: id.1.to_string(),
                first: (*first).clone(),
            });
        }
        seen.insert(id, &l.source);
    }
    Ok(())
}

/// A document being loaded: its text, file and first line.
struct Doc<'a> {
    doc: &'a Document<'a>,
    file: &'a Path,
}

impl Doc<'_> {
    /// The source of the field at `pointer`.
    fn at(&self, pointer: &str) -> Source {
        Source {
            file: self.file.to_owned(),
            line: self.doc.first_line + locate(self.doc.text, pointer),
        }
    }

    /// The source of a 1-based line of the document.
    fn line(&self, line: usize) -> Source {
        Source {
            file: self.file.to_owned(),
            line: self.doc.first_line + line.saturating_sub(1),
        }
    }
}

fn load_document(doc: &Document<'_>, file: &Path) -> Result<Loaded> {
    let d = Doc { doc, file };
    let value: Value = serde_yaml::from_str(doc.text).map_err(|e| yaml_error(&d, &e))?;
    if !value.is_object() {
        return Err(ManifestError::Incomplete {
            at: d.line(1),
            problem: "the document is not a mapping".to_owned(),
        });
    }
    let kind = resolve_kind(&d, &value)?;
    let key = object_key(&d, kind, &value)?;
    let mut unknown = match kind {
        ManifestKind::Api(k) => unknown_fields(k, &value),
        ManifestKind::Secret => unknown_secret_fields(&value),
        ManifestKind::Namespace => unknown_namespace_fields(&value),
    };
    // Report in file order (the schema walk visits keys alphabetically).
    unknown.sort_by_key(|p| locate(doc.text, p));
    if let Some(first) = unknown.first() {
        return Err(ManifestError::UnknownField {
            at: d.at(first),
            field: dotted(first, &value),
            kind: kind.name(),
            object: key.to_string(),
            more: more(&unknown[1..], &value),
        });
    }
    let manifest = match kind {
        ManifestKind::Api(k) => Manifest::Object(typed(&d, k, &key)?),
        ManifestKind::Secret => Manifest::Secret(
            secret_from_value(&key.namespace, &key.name, &value).map_err(|source| {
                ManifestError::SecretValue {
                    at: d.line(1),
                    object: key.to_string(),
                    source,
                }
            })?,
        ),
        ManifestKind::Namespace => Manifest::Namespace {
            name: key.name.clone(),
            labels: namespace_labels(&value),
        },
    };
    Ok(Loaded {
        manifest,
        source: d.line(1),
    })
}

fn yaml_error(d: &Doc<'_>, e: &serde_yaml::Error) -> ManifestError {
    let (line, column) = e.location().map_or((1, 0), |l| (l.line(), l.column()));
    ManifestError::Yaml {
        at: d.line(line),
        column,
        message: strip_location(&e.to_string()),
    }
}

/// serde_yaml appends " at line L column C"; the error already says where.
fn strip_location(message: &str) -> String {
    message
        .find(" at line ")
        .map_or(message, |i| &message[..i])
        .to_owned()
}

fn resolve_kind(d: &Doc<'_>, value: &Value) -> Result<ManifestKind> {
    let field = |name: &str| value.get(name).and_then(Value::as_str).unwrap_or_default();
    let (api_version, kind) = (field("apiVersion"), field("kind"));
    for (name, v) in [("apiVersion", api_version), ("kind", kind)] {
        if v.is_empty() {
            return Err(ManifestError::Incomplete {
                at: d.line(1),
                problem: format!("the document has no {name}"),
            });
        }
    }
    if let Some(k) = ManifestKind::from_type_meta(api_version, kind) {
        return Ok(k);
    }
    if let Some(k) = ManifestKind::all().into_iter().find(|k| k.name() == kind) {
        return Err(ManifestError::WrongApiVersion {
            at: d.at("/apiVersion"),
            kind: k.name(),
            expected: k.api_version(),
            found: api_version.to_owned(),
        });
    }
    Err(ManifestError::UnknownKind {
        at: d.at("/kind"),
        kind: kind.to_owned(),
        api_version: api_version.to_owned(),
        known: ManifestKind::known_list(),
    })
}

fn object_key(d: &Doc<'_>, kind: ManifestKind, value: &Value) -> Result<ObjectKey> {
    let meta = |f: &str| {
        value
            .pointer(&format!("/metadata/{f}"))
            .and_then(Value::as_str)
    };
    let Some(name) = meta("name").filter(|n| !n.is_empty()) else {
        return Err(ManifestError::Incomplete {
            at: d.at("/metadata"),
            problem: format!("the {} has no metadata.name", kind.name()),
        });
    };
    check_name(d, kind, "metadata.name", name)?;
    if !kind.namespaced() {
        return Ok(ObjectKey::new("", name));
    }
    let namespace = meta("namespace")
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_NAMESPACE);
    check_name(d, kind, "metadata.namespace", namespace)?;
    Ok(ObjectKey::new(namespace, name))
}

/// Kubernetes' DNS-subdomain rule; also keeps names safe as file names.
fn check_name(d: &Doc<'_>, kind: ManifestKind, field: &'static str, value: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let valid = value.len() <= 253
        && value.chars().all(ok_char)
        && alnum(value.chars().next())
        && alnum(value.chars().last());
    if valid {
        return Ok(());
    }
    Err(ManifestError::InvalidName {
        at: d.at(&format!("/{}", field.replace('.', "/"))),
        field,
        value: value.to_owned(),
        kind: kind.name(),
    })
}

fn typed(d: &Doc<'_>, kind: Kind, key: &ObjectKey) -> Result<Object> {
    let mut object = object_from_yaml(kind, d.doc.text).map_err(|e| {
        let (line, column) = e.location().map_or((1, 0), |l| (l.line(), l.column()));
        ManifestError::Invalid {
            at: d.line(line),
            column,
            kind: kind.name(),
            object: key.to_string(),
            message: strip_location(&e.to_string()),
        }
    })?;
    let namespace = (!key.namespace.is_empty()).then(|| key.namespace.clone());
    with_object!(&mut object, o => o.metadata.namespace = namespace);
    Ok(object)
}

/// `/spec/sessions/0/schedular` → `spec.sessions[0].schedular`, using `value` to tell
/// array indices from keys that look like numbers.
pub fn dotted(pointer: &str, value: &Value) -> String {
    let mut out = String::new();
    let mut node = Some(value);
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        match node {
            Some(Value::Array(items)) => {
                out.push_str(&format!("[{segment}]"));
                node = segment.parse::<usize>().ok().and_then(|i| items.get(i));
            }
            _ => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&segment);
                node = node.and_then(|n| n.get(&segment));
            }
        }
    }
    out
}

fn more(rest: &[String], value: &Value) -> String {
    if rest.is_empty() {
        return String::new();
    }
    let names: Vec<String> = rest.iter().map(|p| dotted(p, value)).collect();
    format!(" (and {} more: {})", rest.len(), names.join(", "))
}
