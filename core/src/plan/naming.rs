//! KubeStash's object naming rules and backend path layout.
//!
//! Names are byte-length limited like kmodules' `meta.ValidNameWithPrefixNSuffix`: a name
//! longer than the limit keeps its head and its tail (where the unique timestamp lives)
//! and drops the middle.

/// Maximum length of a DNS-1123 label, the limit for most Kubernetes object names.
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;

/// Maximum CronJob name length: Kubernetes appends an 11-character suffix to Job names.
pub const CRONJOB_NAME_MAX_LENGTH: usize = 52;

/// Prefix of the per-session CronJob that creates BackupSessions (`PrefixTrigger`).
pub const TRIGGER_PREFIX: &str = "trigger";

/// Directory holding the restic repositories inside a Repository path (`DirRepository`).
pub const DIR_REPOSITORY: &str = "repository";

/// Directory holding Snapshot YAML backups inside a Repository path (`DirSnapshots`).
pub const DIR_SNAPSHOTS: &str = "snapshots";

/// Data layout version written to `Snapshot.spec.version` (`SnapshotVersionV1`).
pub const SNAPSHOT_VERSION_V1: &str = "v1";

/// `<prefix>-<name>-<suffix>` limited to 63 bytes and trimmed of `-` at both ends.
pub fn valid_name_with_prefix_n_suffix(prefix: &str, name: &str, suffix: &str) -> String {
    valid_name_with_prefix_n_suffix_max(prefix, name, suffix, DNS1123_LABEL_MAX_LENGTH)
}

/// `<prefix>-<name>-<suffix>` limited to `max_len` bytes and trimmed of `-` at both ends.
pub fn valid_name_with_prefix_n_suffix_max(
    prefix: &str,
    name: &str,
    suffix: &str,
    max_len: usize,
) -> String {
    middle_truncate(&format!("{prefix}-{name}-{suffix}"), max_len)
}

/// Keeps the first `⌈max/2⌉` and last `⌊max/2⌋` bytes of an over-long name, then trims `-`.
///
/// For 63 that is the first 32 and last 31 bytes, exactly as kmodules does. Cut points
/// move inwards to UTF-8 character boundaries, so the result never exceeds `max_len`.
pub fn middle_truncate(out: &str, max_len: usize) -> String {
    let n = out.len();
    if n <= max_len {
        return out.trim_matches('-').to_owned();
    }
    let mut head_end = max_len.div_ceil(2);
    while !out.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let mut tail_start = n - max_len / 2;
    while !out.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    format!("{}{}", &out[..head_end], &out[tail_start..])
        .trim_matches('-')
        .to_owned()
}

/// BackupSession name `<invoker>-<session>-<unixSeconds>` (`GenerateBackupSessionName`).
pub fn backup_session_name(invoker: &str, session: &str, unix_seconds: i64) -> String {
    valid_name_with_prefix_n_suffix(invoker, session, &unix_seconds.to_string())
}

/// Splits a BackupSession name into its base and numeric suffix (regex `(.*)-([0-9]+)$`).
///
/// A hand-made session name without a numeric suffix returns `(name, None)`.
pub fn split_backup_session_name(backup_session: &str) -> (&str, Option<&str>) {
    let digits = backup_session
        .bytes()
        .rev()
        .take_while(u8::is_ascii_digit)
        .count();
    let cut = backup_session.len() - digits;
    // The regex's greedy `(.*)` takes everything up to the last `-` before the digit run.
    if digits > 0 && cut > 0 && backup_session.as_bytes()[cut - 1] == b'-' {
        (&backup_session[..cut - 1], Some(&backup_session[cut..]))
    } else {
        (backup_session, None)
    }
}

/// Snapshot name for a repository and a BackupSession (`GenerateSnapshotName`).
///
/// `<repo>-<sessionPrefix>-<digits>` when the session ends in `-<digits>`, else
/// `<repo>-<backupSession>`; both limited to 63 bytes by middle truncation, so the
/// distinguishing tail survives.
pub fn snapshot_name(repo: &str, backup_session: &str) -> String {
    match split_backup_session_name(backup_session) {
        (base, Some(digits)) => valid_name_with_prefix_n_suffix(repo, base, digits),
        (whole, None) => middle_truncate(&format!("{repo}-{whole}"), DNS1123_LABEL_MAX_LENGTH),
    }
}

/// Name of the CronJob that triggers a session: `trigger-<backupConfiguration>-<session>`.
///
/// Limited to 52 bytes (kmodules' `ValidCronJobNameWithPrefixNSuffix`), since a longer
/// CronJob name is rejected by the API server.
pub fn trigger_cronjob_name(backup_configuration: &str, session: &str) -> String {
    valid_name_with_prefix_n_suffix_max(
        TRIGGER_PREFIX,
        backup_configuration,
        session,
        CRONJOB_NAME_MAX_LENGTH,
    )
}

/// Component path relative to the Repository path: `repository/v1/<session>/<component>`.
pub fn component_path(session: &str, component: &str) -> String {
    format!("{DIR_REPOSITORY}/{SNAPSHOT_VERSION_V1}/{session}/{component}")
}

/// Path of a Snapshot YAML backup relative to the backend root:
/// `<repoPath>/snapshots/<snapshot>.yaml`.
pub fn snapshot_metadata_path(repository_path: &str, snapshot: &str) -> String {
    join_path(&[repository_path, DIR_SNAPSHOTS, &format!("{snapshot}.yaml")])
}

/// Restic repository directory of a component: `join(repository.spec.path, component.path)`.
pub fn restic_repo_dir(repository_path: &str, component_path: &str) -> String {
    join_path(&[repository_path, component_path])
}

/// Joins path segments with `/`, dropping empty segments and duplicate or edge slashes.
///
/// Backend keys are relative (`/singlestore` and `singlestore` are the same directory),
/// which is what `filepath.Join` followed by the backend's prefix handling yields.
pub fn join_path(segments: &[&str]) -> String {
    segments
        .iter()
        .flat_map(|s| s.split('/'))
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn backup_session_name_short() {
        assert_eq!(
            backup_session_name("sample-sdb-backup", "frequent-backup", 1724065200),
            "sample-sdb-backup-frequent-backup-1724065200"
        );
    }

    #[test]
    fn snapshot_name_matches_kubedb_docs() {
        assert_eq!(
            snapshot_name(
                "gcs-sdb-repo",
                "sample-sdb-backup-frequent-backup-1724065200"
            ),
            "gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065200"
        );
    }

    #[test]
    fn snapshot_name_without_numeric_suffix() {
        assert_eq!(snapshot_name("repo", "manual-r2b"), "repo-manual-r2b");
        assert_eq!(snapshot_name("repo", "plain"), "repo-plain");
        assert_eq!(snapshot_name("repo", "123"), "repo-123");
        assert_eq!(snapshot_name("repo", "a-1"), "repo-a-1");
    }

    #[test]
    fn split_table() {
        for (input, base, suffix) in [
            (
                "vmguest-backup-daily-1787641252",
                "vmguest-backup-daily",
                Some("1787641252"),
            ),
            ("guest-r2b", "guest-r2b", None),
            ("guest-r1", "guest-r1", None),
            ("plain", "plain", None),
            ("", "", None),
            ("-5", "", Some("5")),
            ("a--7", "a-", Some("7")),
        ] {
            assert_eq!(split_backup_session_name(input), (base, suffix), "{input}");
        }
    }

    #[test]
    fn truncation_keeps_32_head_and_31_tail() {
        let name = valid_name_with_prefix_n_suffix(&"a".repeat(40), &"b".repeat(40), "1");
        assert_eq!(name.len(), 63);
        assert_eq!(&name[..32], "a".repeat(32));
        assert_eq!(&name[32..], format!("{}-1", "b".repeat(29)));
    }

    #[test]
    fn truncation_trims_dashes_at_the_cut() {
        // Byte 32 of the joined name is '-', so the head ends in '-' — only edges are trimmed.
        let name = valid_name_with_prefix_n_suffix(&"a".repeat(31), &"b".repeat(40), "-");
        assert!(!name.starts_with('-') && !name.ends_with('-'));
        assert!(name.len() <= 63);
    }

    #[test]
    fn trigger_and_paths() {
        assert_eq!(
            trigger_cronjob_name("sample-sdb-backup", "frequent-backup"),
            "trigger-sample-sdb-backup-frequent-backup"
        );
        assert!(trigger_cronjob_name(&"x".repeat(60), "s").len() <= 52);
        assert_eq!(
            component_path("frequent-backup", "dump"),
            "repository/v1/frequent-backup/dump"
        );
        assert_eq!(
            restic_repo_dir("/singlestore", "repository/v1/frequent-backup/dump"),
            "singlestore/repository/v1/frequent-backup/dump"
        );
        assert_eq!(
            snapshot_metadata_path("/singlestore/", "snap-1"),
            "singlestore/snapshots/snap-1.yaml"
        );
        assert_eq!(join_path(&["a//b/", "./c", ""]), "a/b/c");
    }

    proptest! {
        #[test]
        fn names_fit_and_are_deterministic(
            invoker in "[a-z0-9-]{0,80}",
            session in "[a-z0-9-]{0,80}",
            secs in 0i64..4_000_000_000,
            repo in "[a-z0-9-]{0,80}",
        ) {
            let bs = backup_session_name(&invoker, &session, secs);
            prop_assert!(bs.len() <= 63);
            prop_assert_eq!(&bs, &backup_session_name(&invoker, &session, secs));
            prop_assert!(!bs.starts_with('-') && !bs.ends_with('-'));
            let snap = snapshot_name(&repo, &bs);
            prop_assert!(snap.len() <= 63);
            prop_assert!(!snap.starts_with('-') && !snap.ends_with('-'));
            prop_assert_eq!(&snap, &snapshot_name(&repo, &bs));
            // The timestamp survives truncation whenever it fits in the tail.
            prop_assert!(bs.ends_with(&secs.to_string()));
            let cj = trigger_cronjob_name(&invoker, &session);
            prop_assert!(cj.len() <= 52);
        }

        #[test]
        fn short_names_are_untouched(a in "[a-z0-9]{1,10}", b in "[a-z0-9]{1,10}", c in "[0-9]{1,10}") {
            prop_assert_eq!(valid_name_with_prefix_n_suffix(&a, &b, &c), format!("{a}-{b}-{c}"));
        }

        #[test]
        fn unicode_never_panics(s in "\\PC{0,70}", max in 1usize..70) {
            prop_assert!(middle_truncate(&s, max).len() <= max);
        }
    }
}
