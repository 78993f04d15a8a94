//! Writing volume contents (Secret/ConfigMap keys, projections) with their modes.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Component, Path};

use k8s_openapi::api::core::v1::KeyToPath;

/// Files of a volume: relative path -> (content, mode).
pub type Files = BTreeMap<String, (Vec<u8>, u32)>;

/// The files of `data` (a Secret's or ConfigMap's) selected by `items` (all keys when
/// `items` is empty), with `default_mode` unless an item says otherwise; a missing key
/// is an error unless `optional`.
pub fn select(
    data: &BTreeMap<String, Vec<u8>>,
    items: Option<&[KeyToPath]>,
    default_mode: u32,
    what: &str,
    optional: bool,
) -> Result<Files, String> {
    let mut files = Files::new();
    match items {
        Some(items) if !items.is_empty() => {
            for item in items {
                match data.get(&item.key) {
                    Some(v) => {
                        let mode = item.mode.map_or(default_mode, |m| m as u32);
                        files.insert(item.path.clone(), (v.clone(), mode));
                    }
                    None if optional => {}
                    None => {
                        return Err(format!(
                            "configmap or secret {what} has no key {}",
                            item.key
                        ));
                    }
                }
            }
        }
        _ => {
            for (k, v) in data {
                files.insert(k.clone(), (v.clone(), default_mode));
            }
        }
    }
    Ok(files)
}

/// Writes `files` under `dir` (replacing what was there).
pub fn write(dir: &Path, files: &Files) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (rel, (content, mode)) in files {
        let rel = Path::new(rel);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(std::io::Error::other(format!(
                "invalid path {}",
                rel.display()
            )));
        }
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, content)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode & 0o7777))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([
            ("a".to_owned(), b"1".to_vec()),
            ("b".to_owned(), b"2".to_vec()),
        ])
    }

    #[test]
    fn all_keys_or_selected_items() {
        let all = select(&data(), None, 0o644, "s", false).unwrap();
        assert_eq!(all.len(), 2);
        let items = [KeyToPath {
            key: "b".into(),
            path: "dir/b.txt".into(),
            mode: Some(0o400),
            ..KeyToPath::default()
        }];
        let some = select(&data(), Some(&items), 0o644, "s", false).unwrap();
        assert_eq!(some.get("dir/b.txt"), Some(&(b"2".to_vec(), 0o400)));
        let missing = [KeyToPath {
            key: "z".into(),
            path: "z".into(),
            mode: None,
            ..KeyToPath::default()
        }];
        assert!(select(&data(), Some(&missing), 0o644, "s", false).is_err());
        assert!(select(&data(), Some(&missing), 0o644, "s", true)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn writes_with_modes_and_refuses_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::from([("x/y".to_owned(), (b"hi".to_vec(), 0o600))]);
        write(dir.path(), &files).unwrap();
        let meta = std::fs::metadata(dir.path().join("x/y")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let bad = Files::from([("../z".to_owned(), (vec![], 0o644))]);
        assert!(write(dir.path(), &bad).is_err());
    }
}
