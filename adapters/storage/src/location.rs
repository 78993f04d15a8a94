//! restic repository addresses: `PATH`, `local:PATH`, `s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX]`,
//! `gs:BUCKET:/PREFIX`, `azure:CONTAINER:/PREFIX`.
//!
//! Parsing normalises (trailing and doubled `/` dropped, `s3:` without a scheme means https), so
//! `parse(&loc.to_string()) == loc` for every parsed `loc`.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Schemes restic knows but Cairn does not support; named so the error is helpful.
const UNSUPPORTED: [&str; 5] = ["b2:", "rclone:", "rest:", "sftp:", "swift:"];
/// Prefixes that would make a local path parse as something else.
const RESERVED: [&str; 9] = [
    "local:", "s3:", "gs:", "azure:", "b2:", "rclone:", "rest:", "sftp:", "swift:",
];

/// Where a restic repository (or a KubeStash backend root) lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// A directory on the local filesystem.
    Local {
        /// The directory, without a trailing `/` (except the root itself).
        path: String,
    },
    /// An S3-compatible bucket.
    S3 {
        /// `false` for `http://` endpoints (allowed only for them).
        tls: bool,
        /// `HOST[:PORT]`.
        host: String,
        /// The bucket.
        bucket: String,
        /// Key prefix inside the bucket, no leading or trailing `/`; may be empty.
        prefix: String,
    },
    /// A Google Cloud Storage bucket.
    Gcs {
        /// The bucket.
        bucket: String,
        /// Key prefix, no leading or trailing `/`; may be empty.
        prefix: String,
    },
    /// An Azure Blob Storage container.
    Azure {
        /// The container.
        container: String,
        /// Key prefix, no leading or trailing `/`; may be empty.
        prefix: String,
    },
}

impl Location {
    /// Parses a restic repository address.
    pub fn parse(input: &str) -> Result<Self> {
        let loc = Self::parse_trimmed(input)?;
        // Addresses are trimmed when read, so one whose first or last path segment has
        // whitespace outside it (`/data/x /`, `local: x`) would print as `/data/x ` and
        // read back as `/data/x`: another directory. Refused rather than silently moved.
        let printed = loc.to_string();
        if printed.trim() != printed {
            return Err(Error::InvalidLocation {
                input: input.to_owned(),
                reason: "a path segment at the start or end of the address begins or ends \
                         with whitespace; remove it"
                    .to_owned(),
            });
        }
        Ok(loc)
    }

    fn parse_trimmed(input: &str) -> Result<Self> {
        let s = input.trim();
        let bad = |reason: &str| Error::InvalidLocation {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        if s.is_empty() {
            return Err(bad("the address is empty; expected a path, s3:https://HOST/BUCKET/PREFIX, gs:BUCKET:/PREFIX or azure:CONTAINER:/PREFIX"));
        }
        if let Some(scheme) = UNSUPPORTED.iter().find(|p| s.starts_with(**p)) {
            return Err(bad(&format!(
                "backend {} is not supported; use local, s3, gs or azure",
                scheme.trim_end_matches(':')
            )));
        }
        if let Some(rest) = s.strip_prefix("s3:") {
            return parse_s3(rest).map_err(|r| bad(&r));
        }
        if let Some(rest) = s.strip_prefix("gs:") {
            let (bucket, prefix) =
                parse_bucket_colon(rest, "gs:BUCKET:/PREFIX").map_err(|r| bad(&r))?;
            return Ok(Location::Gcs { bucket, prefix });
        }
        if let Some(rest) = s.strip_prefix("azure:") {
            let (container, prefix) =
                parse_bucket_colon(rest, "azure:CONTAINER:/PREFIX").map_err(|r| bad(&r))?;
            return Ok(Location::Azure { container, prefix });
        }
        let path = s.strip_prefix("local:").unwrap_or(s);
        if path.is_empty() {
            return Err(bad("the local path is empty"));
        }
        Ok(Location::Local {
            path: normalise_local(path),
        })
    }

    /// The location of a sub-path, e.g. `repository/v1/<session>/dump` under a backend root.
    pub fn join(&self, sub: &str) -> Location {
        let sub = normalise_prefix(sub);
        if sub.is_empty() {
            return self.clone();
        }
        let cat = |prefix: &str| {
            if prefix.is_empty() {
                sub.clone()
            } else {
                format!("{prefix}/{sub}")
            }
        };
        match self {
            Location::Local { path } => Location::Local {
                path: if path == "/" {
                    format!("/{sub}")
                } else {
                    format!("{path}/{sub}")
                },
            },
            Location::S3 {
                tls,
                host,
                bucket,
                prefix,
            } => Location::S3 {
                tls: *tls,
                host: host.clone(),
                bucket: bucket.clone(),
                prefix: cat(prefix),
            },
            Location::Gcs { bucket, prefix } => Location::Gcs {
                bucket: bucket.clone(),
                prefix: cat(prefix),
            },
            Location::Azure { container, prefix } => Location::Azure {
                container: container.clone(),
                prefix: cat(prefix),
            },
        }
    }

    /// The bucket or container (the local directory for `Local`), for messages.
    pub fn bucket(&self) -> &str {
        match self {
            Location::Local { path } => path,
            Location::S3 { bucket, .. } | Location::Gcs { bucket, .. } => bucket,
            Location::Azure { container, .. } => container,
        }
    }

    /// The key prefix inside the bucket (empty for `Local`).
    pub fn prefix(&self) -> &str {
        match self {
            Location::Local { .. } => "",
            Location::S3 { prefix, .. }
            | Location::Gcs { prefix, .. }
            | Location::Azure { prefix, .. } => prefix,
        }
    }

    /// The endpoint URL (`http[s]://HOST[:PORT]`) for S3, the provider name otherwise.
    pub fn endpoint(&self) -> String {
        match self {
            Location::Local { .. } => "local filesystem".to_owned(),
            Location::S3 { tls, host, .. } => {
                format!("{}://{host}", if *tls { "https" } else { "http" })
            }
            Location::Gcs { .. } => "Google Cloud Storage".to_owned(),
            Location::Azure { .. } => "Azure Blob Storage".to_owned(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with_prefix = |f: &mut fmt::Formatter<'_>, prefix: &str| {
            if prefix.is_empty() {
                Ok(())
            } else {
                write!(f, "/{prefix}")
            }
        };
        match self {
            Location::Local { path } => {
                if RESERVED.iter().any(|p| path.starts_with(p)) {
                    write!(f, "local:{path}")
                } else {
                    f.write_str(path)
                }
            }
            Location::S3 {
                tls,
                host,
                bucket,
                prefix,
            } => {
                let scheme = if *tls { "https" } else { "http" };
                write!(f, "s3:{scheme}://{host}/{bucket}")?;
                with_prefix(f, prefix)
            }
            Location::Gcs { bucket, prefix } => {
                write!(f, "gs:{bucket}:/{prefix}")
            }
            Location::Azure { container, prefix } => {
                write!(f, "azure:{container}:/{prefix}")
            }
        }
    }
}

impl FromStr for Location {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Location::parse(s)
    }
}

fn parse_s3(rest: &str) -> std::result::Result<Location, String> {
    let (tls, rest) = if let Some(r) = rest.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix("http://") {
        (false, r)
    } else if rest.contains("://") {
        return Err("the S3 endpoint scheme must be http:// or https://".to_owned());
    } else {
        (true, rest)
    };
    let mut parts = rest.split('/').filter(|p| !p.is_empty());
    let host = parts
        .next()
        .ok_or("missing endpoint host; expected s3:https://HOST[:PORT]/BUCKET[/PREFIX]")?;
    check_name(host, "endpoint host")?;
    let bucket = parts
        .next()
        .ok_or("missing bucket; expected s3:https://HOST[:PORT]/BUCKET[/PREFIX]")?;
    check_name(bucket, "bucket")?;
    let prefix = parts.collect::<Vec<_>>().join("/");
    check_prefix(&prefix)?;
    Ok(Location::S3 {
        tls,
        host: host.to_owned(),
        bucket: bucket.to_owned(),
        prefix,
    })
}

/// Parses `BUCKET:/PREFIX` (also `BUCKET:PREFIX`, `BUCKET:` and `BUCKET`).
fn parse_bucket_colon(rest: &str, form: &str) -> std::result::Result<(String, String), String> {
    let (bucket, prefix) = rest.split_once(':').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!("missing bucket; expected {form}"));
    }
    check_name(bucket, "bucket")?;
    let prefix = normalise_prefix(prefix);
    check_prefix(&prefix)?;
    Ok((bucket.to_owned(), prefix))
}

fn check_name(name: &str, what: &str) -> std::result::Result<(), String> {
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) || name.contains(['/', '\\']) {
        return Err(format!("{what} {name:?} contains whitespace or slashes"));
    }
    if what == "bucket" && name.contains(':') {
        return Err(format!("{what} {name:?} contains ':'"));
    }
    Ok(())
}

fn check_prefix(prefix: &str) -> std::result::Result<(), String> {
    if prefix.chars().any(char::is_control) {
        return Err(format!("prefix {prefix:?} contains control characters"));
    }
    if prefix.split('/').any(|seg| seg == "." || seg == "..") {
        return Err(format!("prefix {prefix:?} contains '.' or '..' segments"));
    }
    Ok(())
}

/// Drops empty segments (leading, trailing and doubled `/`).
fn normalise_prefix(prefix: &str) -> String {
    prefix
        .split('/')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

fn normalise_local(path: &str) -> String {
    let absolute = path.starts_with('/');
    let joined = normalise_prefix(path);
    match (absolute, joined.is_empty()) {
        (true, true) => "/".to_owned(),
        (true, false) => format!("/{joined}"),
        (false, _) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s3(tls: bool, host: &str, bucket: &str, prefix: &str) -> Location {
        Location::S3 {
            tls,
            host: host.into(),
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }

    #[test]
    fn parses_every_form() {
        let cases = [
            (
                "/var/backups/",
                Location::Local {
                    path: "/var/backups".into(),
                },
            ),
            (
                "local:/var//b",
                Location::Local {
                    path: "/var/b".into(),
                },
            ),
            (
                "rel/dir",
                Location::Local {
                    path: "rel/dir".into(),
                },
            ),
            ("/", Location::Local { path: "/".into() }),
            (
                "s3:http://127.0.0.1:9000/b/p/q/",
                s3(false, "127.0.0.1:9000", "b", "p/q"),
            ),
            (
                "s3:https://s3.amazonaws.com/b",
                s3(true, "s3.amazonaws.com", "b", ""),
            ),
            (
                "s3:s3.amazonaws.com/b/x",
                s3(true, "s3.amazonaws.com", "b", "x"),
            ),
            (
                "gs:bkt:/demo/sdb/",
                Location::Gcs {
                    bucket: "bkt".into(),
                    prefix: "demo/sdb".into(),
                },
            ),
            (
                "gs:bkt:/",
                Location::Gcs {
                    bucket: "bkt".into(),
                    prefix: String::new(),
                },
            ),
            (
                "azure:c:/p",
                Location::Azure {
                    container: "c".into(),
                    prefix: "p".into(),
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(Location::parse(input).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn displays_restic_syntax() {
        assert_eq!(s3(false, "h:1", "b", "p").to_string(), "s3:http://h:1/b/p");
        assert_eq!(s3(true, "h", "b", "").to_string(), "s3:https://h/b");
        assert_eq!(
            Location::Gcs {
                bucket: "b".into(),
                prefix: "p".into()
            }
            .to_string(),
            "gs:b:/p"
        );
        assert_eq!(
            Location::Local {
                path: "s3:odd".into()
            }
            .to_string(),
            "local:s3:odd"
        );
    }

    #[test]
    fn rejects_malformed_input_with_a_reason() {
        for (input, needle) in [
            ("", "empty"),
            ("s3:", "missing endpoint host"),
            ("s3:http://host", "missing bucket"),
            ("s3:ftp://host/b", "http:// or https://"),
            ("gs::/p", "missing bucket"),
            ("sftp:host:/x", "not supported"),
            ("s3:http://h/b/../x", "'..'"),
            ("local:", "empty"),
        ] {
            let err = Location::parse(input).unwrap_err().to_string();
            assert!(err.contains(needle), "{input:?}: {err}");
        }
    }

    #[test]
    fn join_builds_kubestash_component_paths() {
        let root = Location::parse("s3:http://h:9/b/demo/").unwrap();
        let repo = root
            .join("/singlestore/")
            .join("repository/v1/frequent-backup/dump");
        assert_eq!(
            repo.to_string(),
            "s3:http://h:9/b/demo/singlestore/repository/v1/frequent-backup/dump"
        );
        assert_eq!(Location::parse("/").unwrap().join("x").to_string(), "/x");
        assert_eq!(root.join(""), root);
    }

    fn segment() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_.-]{1,8}".prop_filter("no dot segments", |s| s != "." && s != "..")
    }

    fn prefix() -> impl Strategy<Value = String> {
        prop::collection::vec(segment(), 0..4).prop_map(|v| v.join("/"))
    }

    fn location() -> impl Strategy<Value = Location> {
        prop_oneof![
            (any::<bool>(), prop::collection::vec(segment(), 1..4)).prop_map(|(abs, segs)| {
                let p = segs.join("/");
                Location::Local {
                    path: if abs { format!("/{p}") } else { p },
                }
            }),
            (
                any::<bool>(),
                "[a-z0-9.-]{1,12}(:[0-9]{1,5})?",
                segment(),
                prefix()
            )
                .prop_map(|(tls, host, bucket, prefix)| Location::S3 {
                    tls,
                    host,
                    bucket,
                    prefix
                }),
            (segment(), prefix()).prop_map(|(bucket, prefix)| Location::Gcs { bucket, prefix }),
            (segment(), prefix())
                .prop_map(|(container, prefix)| Location::Azure { container, prefix }),
        ]
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(loc in location()) {
            prop_assert_eq!(Location::parse(&loc.to_string()).unwrap(), loc);
        }

        #[test]
        fn parse_is_total_and_idempotent(s in "\\PC{0,40}") {
            if let Ok(loc) = Location::parse(&s) {
                prop_assert_eq!(Location::parse(&loc.to_string()).unwrap(), loc);
            }
        }

        #[test]
        fn trailing_slashes_do_not_matter(loc in location(), n in 1usize..3) {
            let s = format!("{loc}{}", "/".repeat(n));
            prop_assert_eq!(Location::parse(&s).unwrap(), loc);
        }
    }
}
