//! Opening an `object_store` rooted at a repository [`Location`], with credentials taken from
//! restic's environment variables or from a map (a Kubernetes Secret's data).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::limit::LimitStore;
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;
use object_store::{BackoffConfig, Certificate, ClientOptions, ObjectStore, RetryConfig};

use crate::error::{Error, Result};
use crate::location::Location;
use crate::secret::Secret;

/// The environment variables restic (and KubeStash's storage Secrets) use for credentials.
pub const CREDENTIAL_VARS: [&str; 8] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_SERVICE_ACCOUNT_JSON_KEY",
    "AZURE_ACCOUNT_NAME",
    "AZURE_ACCOUNT_KEY",
    "CA_CERT_DATA",
];

/// How to reach a backend: credentials, region, TLS and connection limits.
#[derive(Debug, Clone)]
pub struct BackendOptions {
    /// Credentials keyed by restic's variable names (`AWS_ACCESS_KEY_ID`, ...); values redacted.
    pub credentials: BTreeMap<String, Secret>,
    /// S3 region (`AWS_DEFAULT_REGION`); `us-east-1` when unset.
    pub region: Option<String>,
    /// Accept invalid TLS certificates (KubeStash `insecureTLS`).
    pub insecure_tls: bool,
    /// Extra CA certificate(s), PEM (KubeStash `CA_CERT_DATA`).
    pub ca_cert: Option<Vec<u8>>,
    /// At most this many concurrent requests (KubeStash `maxConnections`).
    pub max_connections: Option<usize>,
    /// Retries of a failed request before giving up.
    pub max_retries: usize,
    /// Give up retrying a request after this long.
    pub retry_timeout: Duration,
}

impl Default for BackendOptions {
    fn default() -> Self {
        Self {
            credentials: BTreeMap::new(),
            region: None,
            insecure_tls: false,
            ca_cert: None,
            max_connections: None,
            max_retries: 5,
            retry_timeout: Duration::from_secs(120),
        }
    }
}

impl BackendOptions {
    /// Reads restic's credential variables (and `AWS_DEFAULT_REGION`) from the environment.
    pub fn from_env() -> Self {
        Self::from_map(
            CREDENTIAL_VARS
                .iter()
                .chain(["AWS_DEFAULT_REGION"].iter())
                .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v))),
        )
    }

    /// Builds options from `KEY -> value` pairs such as a Kubernetes Secret's data.
    pub fn from_map(map: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut opts = Self::default();
        for (k, v) in map {
            match k.as_str() {
                "AWS_DEFAULT_REGION" | "AWS_REGION" => opts.region = Some(v),
                "CA_CERT_DATA" => opts.ca_cert = Some(v.into_bytes()),
                _ => {
                    opts.credentials.insert(k, Secret::new(v));
                }
            }
        }
        opts
    }

    fn credential(&self, key: &str) -> Option<&str> {
        self.credentials
            .get(key)
            .map(Secret::expose)
            .filter(|v| !v.is_empty())
    }

    fn client_options(&self, allow_http: bool, location: &Location) -> Result<ClientOptions> {
        let mut client = ClientOptions::new()
            .with_allow_http(allow_http)
            .with_allow_invalid_certificates(self.insecure_tls)
            .with_connect_timeout(Duration::from_secs(10));
        if let Some(pem) = &self.ca_cert {
            let bad_ca = |reason: String| Error::BackendConfig {
                location: location.to_string(),
                reason: format!(
                    "the CA certificate (CA_CERT_DATA, --ca-file or RESTIC_CACERT) {reason}; \
                     give the PEM file of the CA that signed the server certificate"
                ),
            };
            let certs = Certificate::from_pem_bundle(pem)
                .map_err(|e| bad_ca(format!("is not valid PEM: {e}")))?;
            if certs.is_empty() {
                return Err(bad_ca("holds no PEM CERTIFICATE block".into()));
            }
            for cert in certs {
                client = client.with_root_certificate(cert);
            }
        }
        Ok(client)
    }

    fn retry(&self) -> RetryConfig {
        RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: self.max_retries,
            retry_timeout: self.retry_timeout,
        }
    }
}

/// Opens the store rooted at `location` (no network call; missing buckets show up at first use).
pub fn open_store(location: &Location, opts: &BackendOptions) -> Result<Arc<dyn ObjectStore>> {
    let config_err = |reason: String| Error::BackendConfig {
        location: location.to_string(),
        reason,
    };
    let bucket_store: Arc<dyn ObjectStore> = match location {
        Location::Local { path } => {
            // restic creates the repository directory on init; so do we, so `init` works on a fresh path.
            std::fs::create_dir_all(path)
                .map_err(|e| config_err(format!("cannot create directory {path}: {e}")))?;
            let fs = LocalFileSystem::new_with_prefix(path)
                .map_err(|e| config_err(format!("cannot open directory {path}: {e}")))?;
            return Ok(limit(Arc::new(fs), opts));
        }
        Location::S3 { tls, bucket, .. } => {
            let access = opts.credential("AWS_ACCESS_KEY_ID");
            let secret = opts.credential("AWS_SECRET_ACCESS_KEY");
            let mut b = match (access, secret) {
                (Some(a), Some(s)) => AmazonS3Builder::new()
                    .with_access_key_id(a)
                    .with_secret_access_key(s),
                (None, None) => AmazonS3Builder::from_env(), // credential-less: IRSA / instance role
                _ => {
                    return Err(config_err(
                        "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither".into(),
                    ))
                }
            };
            if let Some(token) = opts.credential("AWS_SESSION_TOKEN") {
                b = b.with_token(token);
            }
            b = b
                .with_endpoint(location.endpoint())
                .with_bucket_name(bucket)
                .with_region(opts.region.clone().unwrap_or_else(|| "us-east-1".into()))
                .with_virtual_hosted_style_request(false)
                .with_allow_http(!tls)
                .with_retry(opts.retry())
                .with_client_options(opts.client_options(!tls, location)?);
            Arc::new(b.build().map_err(|e| config_err(e.to_string()))?)
        }
        Location::Gcs { bucket, .. } => {
            let mut b = GoogleCloudStorageBuilder::new()
                .with_bucket_name(bucket)
                .with_retry(opts.retry())
                .with_client_options(opts.client_options(false, location)?);
            if let Some(key) = opts.credential("GOOGLE_SERVICE_ACCOUNT_JSON_KEY") {
                b = b.with_service_account_key(key);
            } else if let Some(path) = opts.credential("GOOGLE_APPLICATION_CREDENTIALS") {
                b = b.with_application_credentials(path);
            }
            Arc::new(b.build().map_err(|e| config_err(e.to_string()))?)
        }
        Location::Azure { container, .. } => {
            let account = opts.credential("AZURE_ACCOUNT_NAME").ok_or_else(|| {
                config_err("AZURE_ACCOUNT_NAME is not set: put it in the storage Secret or the environment".into())
            })?;
            let mut b = MicrosoftAzureBuilder::new()
                .with_account(account)
                .with_container_name(container)
                .with_retry(opts.retry())
                .with_client_options(opts.client_options(false, location)?);
            if let Some(key) = opts.credential("AZURE_ACCOUNT_KEY") {
                b = b.with_access_key(key);
            }
            Arc::new(b.build().map_err(|e| config_err(e.to_string()))?)
        }
    };
    let prefix = location.prefix();
    let rooted: Arc<dyn ObjectStore> = if prefix.is_empty() {
        bucket_store
    } else {
        Arc::new(PrefixStore::new(bucket_store, prefix))
    };
    Ok(limit(rooted, opts))
}

/// What to do when a storage call failed on the server's TLS certificate (else empty): the
/// HTTP client reports it only as text deep in its cause chain.
pub(crate) fn tls_hint(err: &object_store::Error) -> &'static str {
    let mut untrusted = false;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        untrusted |= text.contains("invalid peer certificate") || text.contains("UnknownIssuer");
        cur = e.source();
    }
    if untrusted {
        "; the storage server's TLS certificate is not trusted: pass the CA that signed it with \
         --ca-file (or CA_CERT_DATA in the storage Secret), or skip verification with \
         --insecure-tls (the BackupStorage's insecureTLS)"
    } else {
        ""
    }
}

fn limit(store: Arc<dyn ObjectStore>, opts: &BackendOptions) -> Arc<dyn ObjectStore> {
    match opts.max_connections {
        Some(n) if n > 0 => Arc::new(LimitStore::new(store, n)),
        _ => store,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_map_routes_region_and_ca_and_redacts_secrets() {
        let opts = BackendOptions::from_map([
            ("AWS_ACCESS_KEY_ID".to_owned(), "AKIA".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "topsecret".to_owned()),
            ("AWS_DEFAULT_REGION".to_owned(), "eu-west-1".to_owned()),
        ]);
        assert_eq!(opts.region.as_deref(), Some("eu-west-1"));
        assert_eq!(opts.credential("AWS_SECRET_ACCESS_KEY"), Some("topsecret"));
        assert!(!format!("{opts:?}").contains("topsecret"));
    }

    #[test]
    fn opens_local_and_s3_stores_without_network() {
        let dir = tempfile::tempdir().unwrap();
        let loc = Location::parse(&format!("{}/repo", dir.path().display())).unwrap();
        open_store(&loc, &BackendOptions::default()).unwrap();
        assert!(dir.path().join("repo").is_dir());

        let opts = BackendOptions::from_map([
            ("AWS_ACCESS_KEY_ID".to_owned(), "a".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "b".to_owned()),
        ]);
        let s3 = Location::parse("s3:http://127.0.0.1:1/bucket/pre/fix").unwrap();
        open_store(
            &s3,
            &BackendOptions {
                max_connections: Some(4),
                ..opts
            },
        )
        .unwrap();
    }

    #[test]
    fn ca_cert_must_hold_a_pem_certificate() {
        let s3 = Location::parse("s3:https://127.0.0.1:1/bucket").unwrap();
        for bad in [&b"not pem"[..], b"-----BEGIN CERTIFICATE-----\nZZZ"] {
            let opts = BackendOptions {
                ca_cert: Some(bad.to_vec()),
                ..BackendOptions::default()
            };
            let err = open_store(&s3, &opts).unwrap_err().to_string();
            assert!(
                err.contains("--ca-file") && err.contains("CA_CERT_DATA"),
                "{err}"
            );
        }
    }

    #[test]
    fn half_given_s3_credentials_are_rejected() {
        let opts = BackendOptions::from_map([("AWS_ACCESS_KEY_ID".to_owned(), "a".to_owned())]);
        let s3 = Location::parse("s3:http://127.0.0.1:1/bucket").unwrap();
        let err = open_store(&s3, &opts).unwrap_err().to_string();
        assert!(err.contains("AWS_SECRET_ACCESS_KEY"), "{err}");
    }
}
