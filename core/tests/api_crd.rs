//! CRD generation: every kind's CRD (insta), and the checked-in deploy file is current.

use cairn_core::api::Kind;
use cairn_core::crd::{all_crds, crd_for, crds_yaml};

const CRDS_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../deploy/crds/cairn-crds.yaml"
);

#[test]
fn crds_file_is_current() {
    let want = crds_yaml();
    if std::env::var_os("CAIRN_UPDATE_CRDS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(CRDS_FILE).parent().unwrap()).unwrap();
        std::fs::write(CRDS_FILE, &want).unwrap();
    }
    let have = std::fs::read_to_string(CRDS_FILE).unwrap_or_default();
    assert!(
        have == want,
        "deploy/crds/cairn-crds.yaml is stale; regenerate with \
         `cargo run -- crds > deploy/crds/cairn-crds.yaml` \
         (or `CAIRN_UPDATE_CRDS=1 cargo test -p cairn-core --test api_crd`)"
    );
}

#[test]
fn crds_yaml_is_deterministic() {
    assert_eq!(crds_yaml(), crds_yaml());
}

#[test]
fn crd_snapshots() {
    for kind in Kind::ALL {
        let crd = crd_for(kind);
        insta::assert_yaml_snapshot!(format!("crd_{}", kind.plural()), crd);
    }
}

#[test]
fn crd_names_scopes_and_categories() {
    let crds = all_crds();
    assert_eq!(crds.len(), Kind::ALL.len());
    for (kind, crd) in Kind::ALL.into_iter().zip(&crds) {
        let names = &crd.spec.names;
        assert_eq!(
            crd.metadata.name.as_deref(),
            Some(format!("{}.{}", kind.plural(), kind.group()).as_str())
        );
        assert_eq!(names.kind, kind.name());
        assert_eq!(names.plural, kind.plural());
        assert_eq!(
            names.singular.as_deref(),
            Some(kind.name().to_lowercase().as_str())
        );
        let scope = if kind.namespaced() {
            "Namespaced"
        } else {
            "Cluster"
        };
        assert_eq!(crd.spec.scope, scope, "{kind:?}");
        let categories = names.categories.clone().unwrap_or_default();
        let want: &[&str] = match kind {
            Kind::Snapshot | Kind::RetentionPolicy => &["kubestash", "appscode"],
            Kind::AppBinding => &["catalog", "appscode", "all"],
            _ => &["kubestash", "appscode", "all"],
        };
        assert_eq!(categories, want, "{kind:?}");
        let short: &[&str] = match kind {
            Kind::Repository => &["repo"],
            Kind::BackupConfiguration => &["bc"],
            Kind::RestoreSession => &["restore"],
            Kind::Function => &["fn"],
            _ => &[],
        };
        assert_eq!(
            names.short_names.clone().unwrap_or_default(),
            short,
            "{kind:?}"
        );
        let version = &crd.spec.versions[0];
        assert_eq!(version.name, "v1alpha1");
        let has_status = !matches!(
            kind,
            Kind::RetentionPolicy
                | Kind::HookTemplate
                | Kind::Addon
                | Kind::Function
                | Kind::AppBinding
        );
        assert_eq!(
            version
                .subresources
                .as_ref()
                .is_some_and(|s| s.status.is_some()),
            has_status,
            "{kind:?}"
        );
        let columns = version
            .additional_printer_columns
            .clone()
            .unwrap_or_default();
        assert_eq!(
            columns.last().map(|c| c.name.as_str()),
            Some("Age"),
            "{kind:?}"
        );
    }
}

#[test]
fn kind_from_type_meta() {
    for kind in Kind::ALL {
        assert_eq!(
            Kind::from_type_meta(&kind.api_version(), kind.name()),
            Some(kind)
        );
    }
    assert_eq!(
        Kind::from_type_meta("storage.kubestash.com/v1", "Snapshot"),
        None
    );
}
