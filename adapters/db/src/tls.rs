//! TLS to the database: server verification against a CA bundle, client certificates, server
//! name override and the explicit opt-out of verification.
//!
//! [`TlsOptions`] holds PEM bytes, not paths, so that every source maps onto it the same way:
//!
//! | source                                   | field                                   |
//! |------------------------------------------|-----------------------------------------|
//! | `--db-ca-file`                           | [`TlsOptions::ca_pem`]                  |
//! | `--db-cert-file` / `--db-key-file`       | `client_cert_pem` / `client_key_pem`    |
//! | `--db-server-name`                       | [`TlsOptions::server_name`]             |
//! | `--db-insecure-skip-verify`              | [`TlsOptions::insecure_skip_verify`]    |
//! | AppBinding `clientConfig.caBundle`       | base64-decode, then [`TlsOptions::add_ca_pem`] |
//! | AppBinding `clientConfig.serverName`     | [`TlsOptions::server_name`] (empty = none) |
//! | AppBinding `clientConfig.insecureSkipTLSVerify` | [`TlsOptions::insecure_skip_verify`] |
//! | AppBinding `tlsSecret` data (`ca.crt`, `tls.crt`, `tls.key`) | [`TlsOptions::from_tls_secret`] |
//!
//! Then `DbTarget::with_tls(Some(options))` when any of these is set; a target with `tls: None`
//! connects in plain TCP (an AppBinding with none of them, as KubeStash's addon does).
//! [`DbTarget::connect`](crate::conn::DbTarget::connect) checks the PEM material first
//! ([`TlsOptions::validate`]) and turns handshake failures into `Error::Tls` with what to fix.
//! With a CA given, only that CA is trusted (as `mysql --ssl-ca` does); without one the public
//! web PKI roots are. The client key is secret: `Debug` never prints it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Once;

use mysql_async::{ClientIdentity, SslOpts};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::conn::{Error, Result};

/// Key of the CA certificate in a `kubernetes.io/tls` Secret (an AppBinding's `tlsSecret`).
pub const TLS_SECRET_CA_KEY: &str = "ca.crt";
/// Key of the client certificate in a `kubernetes.io/tls` Secret.
pub const TLS_SECRET_CERT_KEY: &str = "tls.crt";
/// Key of the client private key in a `kubernetes.io/tls` Secret.
pub const TLS_SECRET_KEY_KEY: &str = "tls.key";

/// How to secure the connection to the database (see the module docs for the mapping).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM CA certificate(s) that sign the server certificate; `None` trusts the public roots.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate chain, for accounts created `REQUIRE X509` (needs the key too).
    pub client_cert_pem: Option<Vec<u8>>,
    /// PEM private key of the client certificate (PKCS#8, PKCS#1 or SEC1). Secret.
    pub client_key_pem: Option<Vec<u8>>,
    /// Name to verify the server certificate against, instead of the host connected to
    /// (e.g. the Service DNS name in the certificate when connecting to an IP address).
    pub server_name: Option<String>,
    /// Accept any server certificate (encrypts but does not authenticate the server).
    pub insecure_skip_verify: bool,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = |b: &Option<Vec<u8>>| b.as_ref().map(|b| format!("{} bytes", b.len()));
        f.debug_struct("TlsOptions")
            .field("ca_pem", &bytes(&self.ca_pem))
            .field("client_cert_pem", &bytes(&self.client_cert_pem))
            .field(
                "client_key_pem",
                &self.client_key_pem.as_ref().map(|_| "***"),
            )
            .field("server_name", &self.server_name)
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .finish()
    }
}

impl TlsOptions {
    /// Reads the PEM files given on the command line (`--db-ca-file`, `--db-cert-file`,
    /// `--db-key-file`); `None` skips that part.
    pub fn from_files(ca: Option<&Path>, cert: Option<&Path>, key: Option<&Path>) -> Result<Self> {
        let read = |path: Option<&Path>, what: &'static str, flag: &'static str| {
            path.map(|p| {
                std::fs::read(p).map_err(|source| Error::TlsFile {
                    what,
                    flag,
                    path: p.to_path_buf(),
                    source,
                })
            })
            .transpose()
        };
        Ok(TlsOptions {
            ca_pem: read(ca, "CA certificate file", "--db-ca-file")?,
            client_cert_pem: read(cert, "client certificate file", "--db-cert-file")?,
            client_key_pem: read(key, "client key file", "--db-key-file")?,
            ..TlsOptions::default()
        })
    }

    /// Takes `ca.crt`, `tls.crt` and `tls.key` from the data of a `kubernetes.io/tls` Secret
    /// (an AppBinding's `tlsSecret`, values already base64-decoded); missing keys stay `None`.
    pub fn from_tls_secret(data: &BTreeMap<String, Vec<u8>>) -> Self {
        let get = |k: &str| data.get(k).filter(|v| !v.is_empty()).cloned();
        TlsOptions {
            ca_pem: get(TLS_SECRET_CA_KEY),
            client_cert_pem: get(TLS_SECRET_CERT_KEY),
            client_key_pem: get(TLS_SECRET_KEY_KEY),
            ..TlsOptions::default()
        }
    }

    /// Adds CA certificate(s) to those trusted (the AppBinding's `caBundle` next to the
    /// `tlsSecret`'s `ca.crt`); empty input is ignored.
    pub fn add_ca_pem(&mut self, pem: &[u8]) {
        if pem.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let ca = self.ca_pem.get_or_insert_with(Vec::new);
        if !ca.is_empty() && !ca.ends_with(b"\n") {
            ca.push(b'\n');
        }
        ca.extend_from_slice(pem);
    }

    /// Sets the name the server certificate must hold; an empty name means none.
    pub fn with_server_name(mut self, name: Option<String>) -> Self {
        self.server_name = name.filter(|n| !n.trim().is_empty());
        self
    }

    /// Turns server certificate verification off (`true`) or on.
    pub fn with_insecure_skip_verify(mut self, skip: bool) -> Self {
        self.insecure_skip_verify = skip;
        self
    }

    /// Checks the PEM material before any connection, so a wrong file is reported as such
    /// rather than as a failed handshake.
    pub fn validate(&self) -> Result<()> {
        let invalid = |what: &'static str, reason: String| Error::TlsConfig { what, reason };
        if let Some(ca) = &self.ca_pem {
            let certs = parse_certs(ca).map_err(|e| invalid(CA_WHAT, e))?;
            if certs == 0 {
                return Err(invalid(CA_WHAT, "no PEM CERTIFICATE block found".into()));
            }
        }
        match (&self.client_cert_pem, &self.client_key_pem) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(invalid(
                    CERT_WHAT,
                    "a client certificate needs its private key: pass --db-key-file or add \
                     tls.key to the tlsSecret"
                        .into(),
                ))
            }
            (None, Some(_)) => {
                return Err(invalid(
                    KEY_WHAT,
                    "a client key needs its certificate: pass --db-cert-file or add tls.crt \
                     to the tlsSecret"
                        .into(),
                ))
            }
            (Some(cert), Some(key)) => {
                let certs = parse_certs(cert).map_err(|e| invalid(CERT_WHAT, e))?;
                if certs == 0 {
                    return Err(invalid(CERT_WHAT, "no PEM CERTIFICATE block found".into()));
                }
                // The parse error of a key could quote key material: never show it.
                if PrivateKeyDer::from_pem_slice(key).is_err() {
                    return Err(invalid(
                        KEY_WHAT,
                        "no PEM private key (PKCS#8, PKCS#1 or SEC1) found".into(),
                    ));
                }
            }
        }
        if let Some(name) = &self.server_name {
            if rustls::pki_types::ServerName::try_from(name.as_str()).is_err() {
                return Err(invalid(
                    "server name (--db-server-name / AppBinding clientConfig.serverName)",
                    format!("`{name}` is neither a DNS name nor an IP address"),
                ));
            }
        }
        Ok(())
    }

    /// The driver's TLS options (call [`TlsOptions::validate`] first for clear errors).
    pub fn ssl_opts(&self) -> SslOpts {
        install_crypto_provider();
        let mut ssl = SslOpts::default()
            .with_danger_accept_invalid_certs(self.insecure_skip_verify)
            .with_danger_skip_domain_validation(self.insecure_skip_verify)
            .with_danger_tls_hostname_override(self.server_name.clone());
        if let Some(ca) = &self.ca_pem {
            // A private CA replaces the public roots, as `mysql --ssl-ca` does.
            ssl = ssl
                .with_root_certs(vec![ca.clone().into()])
                .with_disable_built_in_roots(true);
        }
        if let (Some(cert), Some(key)) = (&self.client_cert_pem, &self.client_key_pem) {
            ssl = ssl.with_client_identity(Some(ClientIdentity::new(
                cert.clone().into(),
                key.clone().into(),
            )));
        }
        ssl
    }

    /// True when a client certificate is configured.
    pub fn has_client_cert(&self) -> bool {
        self.client_cert_pem.is_some() && self.client_key_pem.is_some()
    }
}

const CA_WHAT: &str =
    "CA certificate (--db-ca-file / AppBinding clientConfig.caBundle or tlsSecret ca.crt)";
const CERT_WHAT: &str = "client certificate (--db-cert-file / AppBinding tlsSecret tls.crt)";
const KEY_WHAT: &str = "client key (--db-key-file / AppBinding tlsSecret tls.key)";

/// Number of PEM certificates in `pem`, or why it is not PEM.
fn parse_certs(pem: &[u8]) -> std::result::Result<usize, String> {
    let mut n = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        cert.map_err(|e| format!("not valid PEM: {e}"))?;
        n += 1;
    }
    Ok(n)
}

/// Makes aws-lc-rs the process's rustls provider unless one is set already: the driver builds
/// its TLS config with the process default, which is ambiguous when several providers are
/// compiled in.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Err means another thread installed one meanwhile: fine.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        }
    });
}

/// Explains a TLS failure of a connection attempt and what to do about it, or `None` when
/// `err` is not about TLS.
pub fn explain_tls_error(
    err: &mysql_async::Error,
    host: &str,
    tls: Option<&TlsOptions>,
) -> Option<String> {
    if let mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer) = err {
        return Some(
            "the server does not offer TLS; enable TLS on the server (ssl_cert, ssl_key) or \
             connect without the TLS settings"
                .into(),
        );
    }
    let rustls_err = find_rustls_error(err)?;
    Some(explain_rustls(rustls_err, host, tls))
}

fn explain_rustls(e: &rustls::Error, host: &str, tls: Option<&TlsOptions>) -> String {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    let name = tls.and_then(|t| t.server_name.as_deref()).unwrap_or(host);
    match e {
        E::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
            if tls.is_some_and(|t| t.ca_pem.is_some()) {
                "certificate signed by unknown authority (not by the CA given); pass the CA \
                 that signed the server certificate with --db-ca-file or the AppBinding's \
                 clientConfig.caBundle"
                    .into()
            } else {
                "certificate signed by unknown authority; pass --db-ca-file or set the \
                 AppBinding's clientConfig.caBundle"
                    .into()
            }
        }
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => format!(
            "the server certificate is not valid for `{name}`; pass --db-server-name \
             (AppBinding clientConfig.serverName) with a name the certificate holds"
        ),
        E::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "the server certificate has expired; renew it on the server".into()
        }
        E::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => {
            "the server certificate is not valid yet; check the clocks of client and server".into()
        }
        E::AlertReceived(
            A::CertificateRequired | A::BadCertificate | A::UnknownCA | A::CertificateUnknown,
        )
        | E::AlertReceived(A::HandshakeFailure) => format!(
            "the server rejected the client certificate ({e}); pass a client certificate the \
             server's CA signed with --db-cert-file and --db-key-file (AppBinding tlsSecret \
             tls.crt, tls.key)"
        ),
        other => format!(
            "{other}; check the server's TLS setup and --db-ca-file, --db-cert-file, \
             --db-key-file, --db-server-name"
        ),
    }
}

/// The rustls error somewhere in the cause chain of `err` (also inside `io::Error`s).
fn find_rustls_error(err: &mysql_async::Error) -> Option<&rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return Some(r);
            }
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_client_key() {
        let t = TlsOptions {
            client_key_pem: Some(b"-----BEGIN PRIVATE KEY-----\nsecretkeybytes".to_vec()),
            ..TlsOptions::default()
        };
        let s = format!("{t:?}");
        assert!(!s.contains("secretkeybytes"), "{s}");
        assert!(s.contains("***"), "{s}");
    }

    #[test]
    fn tls_secret_keys_map_onto_options() {
        let data: BTreeMap<String, Vec<u8>> = [
            ("ca.crt", "CA"),
            ("tls.crt", "CERT"),
            ("tls.key", "KEY"),
            ("other", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect();
        let mut t = TlsOptions::from_tls_secret(&data)
            .with_server_name(Some(String::new()))
            .with_insecure_skip_verify(true);
        assert_eq!(t.ca_pem.as_deref(), Some(&b"CA"[..]));
        assert_eq!(t.client_cert_pem.as_deref(), Some(&b"CERT"[..]));
        assert_eq!(t.client_key_pem.as_deref(), Some(&b"KEY"[..]));
        assert_eq!(t.server_name, None);
        assert!(t.insecure_skip_verify);
        t.add_ca_pem(b"BUNDLE");
        t.add_ca_pem(b"  \n");
        assert_eq!(t.ca_pem.as_deref(), Some(&b"CA\nBUNDLE"[..]));
    }

    #[test]
    fn validate_names_the_bad_part() {
        let err = |t: TlsOptions| t.validate().unwrap_err().to_string();
        let bad_ca = TlsOptions {
            ca_pem: Some(b"not a certificate".to_vec()),
            ..TlsOptions::default()
        };
        assert!(err(bad_ca).contains("--db-ca-file"));
        let cert_only = TlsOptions {
            client_cert_pem: Some(b"x".to_vec()),
            ..TlsOptions::default()
        };
        assert!(err(cert_only).contains("--db-key-file"));
        let key_only = TlsOptions {
            client_key_pem: Some(b"x".to_vec()),
            ..TlsOptions::default()
        };
        assert!(err(key_only).contains("--db-cert-file"));
        let bad_name = TlsOptions::default().with_server_name(Some("a b".into()));
        assert!(err(bad_name).contains("--db-server-name"));
        TlsOptions::default().validate().unwrap();
    }

    #[test]
    fn missing_file_names_flag_and_path() {
        let err = TlsOptions::from_files(Some(Path::new("/nonexistent/ca.pem")), None, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/nonexistent/ca.pem") && err.contains("--db-ca-file"),
            "{err}"
        );
    }

    #[test]
    fn explains_unknown_issuer_and_name_mismatch() {
        let unknown = explain_rustls(
            &rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
            "h",
            None,
        );
        assert!(unknown.contains("unknown authority") && unknown.contains("--db-ca-file"));
        let name = explain_rustls(
            &rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName),
            "10.0.0.7",
            None,
        );
        assert!(
            name.contains("--db-server-name") && name.contains("`10.0.0.7`"),
            "{name}"
        );
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired),
        );
        let err = mysql_async::Error::Io(mysql_async::IoError::Io(io));
        let why = explain_tls_error(&err, "h", None).unwrap();
        assert!(why.contains("--db-cert-file"), "{why}");
    }
}
