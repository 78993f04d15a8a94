//! A throw-away PKI for TLS tests, made with the `openssl` CLI: a CA, server certificates with
//! chosen subject alternative names, and client certificates, all PEM (keys PKCS#8, EC P-256).

use crate::process::{self, run_ok};
use crate::random_hex;
use anyhow::{anyhow, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const OPENSSL_TIMEOUT: Duration = Duration::from_secs(60);

/// A certificate and its private key, as PEM files.
#[derive(Debug, Clone)]
pub struct CertPair {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// The private key (PEM, PKCS#8, mode 0600).
    pub key: PathBuf,
}

impl CertPair {
    /// The certificate's PEM text.
    pub fn cert_pem(&self) -> Result<Vec<u8>> {
        std::fs::read(&self.cert).with_context(|| format!("cannot read {}", self.cert.display()))
    }

    /// The key's PEM text.
    pub fn key_pem(&self) -> Result<Vec<u8>> {
        std::fs::read(&self.key).with_context(|| format!("cannot read {}", self.key.display()))
    }
}

/// A certificate authority in a temp dir (removed on drop) that issues test certificates.
pub struct TestCa {
    dir: tempfile::TempDir,
    ca: CertPair,
    openssl: PathBuf,
}

impl TestCa {
    /// Creates a new self-signed CA named `name` (installs `openssl` with apt if missing).
    pub fn new(name: &str) -> Result<TestCa> {
        let openssl = match process::which(&["openssl"]) {
            Some(p) => p,
            None => {
                process::apt_install(&["openssl"])?;
                process::which(&["openssl"])
                    .ok_or_else(|| anyhow!("openssl installed but still not found"))?
            }
        };
        let dir = tempfile::Builder::new()
            .prefix("cairn-pki-")
            .tempdir()
            .context("cannot create a temp dir for the test PKI")?;
        let ca = CertPair {
            cert: dir.path().join("ca.crt"),
            key: dir.path().join("ca.key"),
        };
        let cnf = dir.path().join("ca.cnf");
        std::fs::write(
            &cnf,
            format!(
                "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = {name}\n\
                 [v3_ca]\nbasicConstraints = critical,CA:TRUE\n\
                 keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n"
            ),
        )?;
        let mut cmd = Command::new(&openssl);
        cmd.args(["req", "-x509", "-config"])
            .arg(&cnf)
            .args(["-extensions", "v3_ca", "-days", "3650", "-nodes", "-sha256"])
            .args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
            .arg("-keyout")
            .arg(&ca.key)
            .arg("-out")
            .arg(&ca.cert);
        run_ok(&mut cmd, None, OPENSSL_TIMEOUT).context("openssl could not create the test CA")?;
        restrict(&ca.key)?;
        Ok(TestCa { dir, ca, openssl })
    }

    /// The CA certificate (PEM file): what clients trust.
    pub fn cert(&self) -> &Path {
        &self.ca.cert
    }

    /// The CA certificate's PEM text.
    pub fn cert_pem(&self) -> Result<Vec<u8>> {
        self.ca.cert_pem()
    }

    /// A server certificate for `sans` (`DNS:name` or `IP:addr` entries), usable for both
    /// server and client authentication.
    pub fn issue_server(&self, name: &str, sans: &[&str]) -> Result<CertPair> {
        self.issue(name, Some(sans), "serverAuth,clientAuth")
    }

    /// A client certificate with common name `cn` (the identity `REQUIRE SUBJECT` checks).
    pub fn issue_client(&self, cn: &str) -> Result<CertPair> {
        self.issue(cn, None, "clientAuth")
    }

    fn issue(&self, cn: &str, sans: Option<&[&str]>, eku: &str) -> Result<CertPair> {
        let stem = format!("{}-{}", sanitize(cn), random_hex(4));
        let d = self.dir.path();
        let pair = CertPair {
            cert: d.join(format!("{stem}.crt")),
            key: d.join(format!("{stem}.key")),
        };
        let (csr, cnf) = (d.join(format!("{stem}.csr")), d.join(format!("{stem}.cnf")));
        let mut ext = format!(
            "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = {cn}\n[leaf]\n\
             basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature,keyAgreement\n\
             extendedKeyUsage = {eku}\nauthorityKeyIdentifier = keyid\n"
        );
        if let Some(sans) = sans {
            ext.push_str(&format!("subjectAltName = {}\n", sans.join(",")));
        }
        std::fs::write(&cnf, ext)?;
        let mut req = Command::new(&self.openssl);
        req.args(["req", "-new", "-config"])
            .arg(&cnf)
            .args([
                "-nodes",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .arg("-keyout")
            .arg(&pair.key)
            .arg("-out")
            .arg(&csr);
        run_ok(&mut req, None, OPENSSL_TIMEOUT)
            .with_context(|| format!("openssl could not create a key and CSR for {cn}"))?;
        restrict(&pair.key)?;
        let mut sign = Command::new(&self.openssl);
        sign.args(["x509", "-req", "-sha256", "-days", "365", "-in"])
            .arg(&csr)
            .arg("-CA")
            .arg(&self.ca.cert)
            .arg("-CAkey")
            .arg(&self.ca.key)
            .args(["-set_serial", &format!("0x{}", random_hex(8))])
            .arg("-extfile")
            .arg(&cnf)
            .args(["-extensions", "leaf", "-out"])
            .arg(&pair.cert);
        run_ok(&mut sign, None, OPENSSL_TIMEOUT)
            .with_context(|| format!("openssl could not sign the certificate for {cn}"))?;
        Ok(pair)
    }
}

/// Copies `pair` into `dir` as `stem.crt` / `stem.key` (servers keep their own copies, so the
/// CA may be dropped first).
pub(crate) fn copy_pair(pair: &CertPair, dir: &Path, stem: &str) -> Result<CertPair> {
    let out = CertPair {
        cert: dir.join(format!("{stem}.crt")),
        key: dir.join(format!("{stem}.key")),
    };
    std::fs::copy(&pair.cert, &out.cert)
        .with_context(|| format!("cannot copy {}", pair.cert.display()))?;
    std::fs::copy(&pair.key, &out.key)
        .with_context(|| format!("cannot copy {}", pair.key.display()))?;
    restrict(&out.key)?;
    Ok(out)
}

fn restrict(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot chmod 600 {}", path.display()))
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}
