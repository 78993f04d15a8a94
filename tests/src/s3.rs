//! A real S3 server (moto) on a free loopback port, from a venv the harness creates.

use crate::process::{self, run_bounded, run_ok, tail, terminate, wait_for, FileLock};
use crate::tls::{copy_pair, CertPair, TestCa};
use crate::{free_port, workspace_root};
use anyhow::{anyhow, bail, Context, Result};
use nix::sys::signal::Signal;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Access key moto accepts (it does not check signatures by default).
pub const ACCESS_KEY: &str = "testing";
/// Secret key paired with [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "testing";
/// Region used for every bucket.
pub const REGION: &str = "us-east-1";

const START_TIMEOUT: Duration = Duration::from_secs(90);
const STOP_GRACE: Duration = Duration::from_secs(10);
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The venv holding moto: `$CAIRN_VENV` or `<workspace>/.cache/venv`.
pub fn venv_dir() -> PathBuf {
    std::env::var_os("CAIRN_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".cache").join("venv"))
}

/// Path of `moto_server`, creating the venv and installing `moto[server]` once (under a lock).
pub fn moto_server_bin() -> Result<PathBuf> {
    let venv = venv_dir();
    let bin = venv.join("bin").join("moto_server");
    if bin.is_file() {
        return Ok(bin);
    }
    let _lock = FileLock::acquire(&venv.with_extension("lock"))?;
    if bin.is_file() {
        return Ok(bin); // another process built it while we waited
    }
    let python = process::which(&["python3"])
        .ok_or_else(|| anyhow!("python3 not found: install python3"))?;
    let mut mk = Command::new(&python);
    mk.args(["-m", "venv", "--clear"]).arg(&venv);
    if run_ok(&mut mk, None, Duration::from_secs(300)).is_err() {
        // Debian's python3 lacks ensurepip until python3-venv is installed.
        process::apt_install(&["python3-venv"])?;
        run_ok(&mut mk, None, Duration::from_secs(300))
            .with_context(|| format!("cannot create a venv at {}", venv.display()))?;
    }
    let mut pip = Command::new(venv.join("bin").join("pip"));
    pip.args([
        "install",
        "-q",
        "--disable-pip-version-check",
        "moto[server]",
    ]);
    run_ok(&mut pip, None, Duration::from_secs(900))
        .with_context(|| format!("pip install 'moto[server]' into {} failed", venv.display()))?;
    if !bin.is_file() {
        bail!("moto installed but {} is missing", bin.display());
    }
    Ok(bin)
}

/// A running moto S3 server on 127.0.0.1; stopped on drop.
pub struct S3Server {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    /// HTTPS: the CA that signed the server certificate, and the certificate (copies in `dir`).
    tls: Option<(PathBuf, CertPair)>,
}

impl S3Server {
    /// Starts `moto_server` on a free port and waits until it answers HTTP.
    pub fn start() -> Result<S3Server> {
        Self::start_inner(None)
    }

    /// Starts `moto_server` serving HTTPS with `server` (which must name `IP:127.0.0.1`),
    /// signed by `ca`; [`S3Server::endpoint`] is then `https://127.0.0.1:PORT`.
    pub fn start_with_tls(ca: &TestCa, server: &CertPair) -> Result<S3Server> {
        Self::start_inner(Some((ca, server)))
    }

    fn start_inner(tls: Option<(&TestCa, &CertPair)>) -> Result<S3Server> {
        let bin = moto_server_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("cairn-s3-")
            .tempdir()
            .context("cannot create a temp dir")?;
        let mut s3 = S3Server {
            dir,
            port: 0,
            child: None,
            tls: None,
        };
        if let Some((ca, server)) = tls {
            let ca_copy = s3.dir.path().join("tls-ca.crt");
            std::fs::copy(ca.cert(), &ca_copy).context("cannot copy the test CA")?;
            s3.tls = Some((ca_copy, copy_pair(server, s3.dir.path(), "tls-server")?));
        }
        let mut last = None;
        // A free port can be grabbed by a parallel test before moto binds it: retry a few times.
        for _ in 0..4 {
            s3.port = free_port()?;
            match s3.spawn_and_wait(&bin) {
                Ok(()) => return Ok(s3),
                Err(e) => last = Some(e),
            }
            if !s3.log().contains("Address already in use") {
                break;
            }
        }
        Err(last.unwrap_or_else(|| anyhow!("moto_server did not start")))
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("moto.log")
    }

    /// The server's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn spawn_and_wait(&mut self, bin: &std::path::Path) -> Result<()> {
        let log = std::fs::File::create(self.log_path())?;
        let mut cmd = Command::new(bin);
        cmd.args(["-H", "127.0.0.1", "-p", &self.port.to_string()]);
        if let Some((_, pair)) = &self.tls {
            cmd.arg("-c").arg(&pair.cert).arg("-k").arg(&pair.key);
        }
        let child = cmd
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_DEFAULT_REGION", REGION)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        self.child = Some(child);
        let ready = wait_for("moto S3 server", START_TIMEOUT, || {
            if let Some(st) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!("moto_server exited during startup ({st})");
            }
            Ok(matches!(self.http("GET", "/", b""), Ok((200, _))))
        });
        if let Err(e) = ready {
            if let Some(mut c) = self.child.take() {
                terminate(&mut c, STOP_GRACE);
            }
            bail!("{e:#}; moto log:{}", tail(&self.log(), 3000));
        }
        Ok(())
    }

    /// The endpoint URL, `http://127.0.0.1:PORT` (`https://` when started with TLS).
    pub fn endpoint(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The CA certificate (PEM file) clients must trust, when serving HTTPS.
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.tls.as_ref().map(|(ca, _)| ca.as_path())
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Environment for AWS clients (Cairn, restic): credentials, region, endpoint, plain HTTP allowed.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
            ("AWS_DEFAULT_REGION", REGION.to_string()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ENDPOINT", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The restic repository string for `bucket`/`prefix` on this server (`s3:http://…/bucket/prefix`).
    pub fn restic_repo(&self, bucket: &str, prefix: &str) -> String {
        format!(
            "s3:{}/{}/{}",
            self.endpoint(),
            bucket,
            prefix.trim_matches('/')
        )
    }

    /// Creates `bucket` (path-style PUT).
    pub fn create_bucket(&self, bucket: &str) -> Result<()> {
        let (status, body) = self.http("PUT", &format!("/{bucket}"), b"")?;
        if status != 200 {
            bail!(
                "creating bucket {bucket} failed: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(())
    }

    /// Every object key in `bucket` (optionally under `prefix`), sorted.
    pub fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut path = format!("/{bucket}?list-type=2&prefix={}", encode(prefix));
            if let Some(t) = &token {
                path.push_str(&format!("&continuation-token={}", encode(t)));
            }
            let (status, body) = self.http("GET", &path, b"")?;
            let body = String::from_utf8_lossy(&body).into_owned();
            if status != 200 {
                bail!("listing bucket {bucket} failed: HTTP {status}: {body}");
            }
            keys.extend(xml_values(&body, "Key"));
            token = xml_values(&body, "NextContinuationToken")
                .into_iter()
                .next();
            if token.is_none() {
                break;
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// Reads object `key` of `bucket`; `None` if it does not exist.
    pub fn get_object(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let (status, body) = self.http("GET", &format!("/{bucket}/{}", encode_path(key)), b"")?;
        match status {
            200 => Ok(Some(body)),
            404 => Ok(None),
            _ => bail!(
                "GET {bucket}/{key} failed: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ),
        }
    }

    /// Writes object `key` of `bucket` (for planting corrupt or foreign data in fault tests).
    pub fn put_object(&self, bucket: &str, key: &str, data: &[u8]) -> Result<()> {
        let (status, body) = self.http("PUT", &format!("/{bucket}/{}", encode_path(key)), data)?;
        if status != 200 {
            bail!(
                "PUT {bucket}/{key} failed: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(())
    }

    /// One unsigned HTTP/1.0 request (no chunked replies); returns status and body.
    fn http(&self, method: &str, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>)> {
        let head = format!(
            // moto checks no signature, but treats requests without credentials as anonymous
            // (403 on object reads): present the test key with a dummy signature.
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20240101/{REGION}/s3/aws4_request, \
             SignedHeaders=host, Signature=00\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\n\r\n",
            self.port,
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        let resp = match &self.tls {
            None => self.exchange_plain(&request)?,
            Some((ca, _)) => self.exchange_tls(ca, &request)?,
        };
        let split = resp
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| anyhow!("malformed HTTP reply from moto"))?;
        let status_line = String::from_utf8_lossy(&resp[..split]);
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| anyhow!("malformed HTTP status line: {status_line}"))?;
        Ok((status, resp[split + 4..].to_vec()))
    }

    fn exchange_plain(&self, request: &[u8]) -> Result<Vec<u8>> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))
            .with_context(|| format!("cannot connect to {}", self.endpoint()))?;
        s.set_read_timeout(Some(HTTP_TIMEOUT))?;
        s.set_write_timeout(Some(HTTP_TIMEOUT))?;
        s.write_all(request)?;
        let mut resp = Vec::new();
        s.read_to_end(&mut resp)?;
        Ok(resp)
    }

    /// The same exchange over TLS through `openssl s_client`, verifying the server against `ca`.
    fn exchange_tls(&self, ca: &std::path::Path, request: &[u8]) -> Result<Vec<u8>> {
        let openssl = process::which(&["openssl"]).ok_or_else(|| anyhow!("openssl not found"))?;
        let mut cmd = Command::new(openssl);
        cmd.args(["s_client", "-quiet", "-verify_return_error", "-connect"])
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("-CAfile")
            .arg(ca);
        let out = run_bounded(&mut cmd, Some(request), HTTP_TIMEOUT)?;
        if out.stdout.is_empty() {
            bail!(
                "no HTTPS answer from {}: {}",
                self.endpoint(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(out.stdout)
    }

    /// Freezes the server (SIGSTOP): requests hang until [`S3Server::resume`].
    pub fn pause(&self) {
        if let Some(c) = &self.child {
            process::send_signal(c, Signal::SIGSTOP);
        }
    }

    /// Unfreezes the server (SIGCONT).
    pub fn resume(&self) {
        if let Some(c) = &self.child {
            process::send_signal(c, Signal::SIGCONT);
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL); its data is lost (moto keeps it in memory).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // A paused process cannot act on SIGTERM.
            process::send_signal(&c, Signal::SIGCONT);
            terminate(&mut c, STOP_GRACE);
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Text of every `<tag>…</tag>` in `xml`, unescaped.
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        rest = &rest[i + open.len()..];
        let Some(j) = rest.find(&close) else { break };
        out.push(
            rest[..j]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &rest[j + close.len()..];
    }
    out
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Percent-encodes an object key, keeping `/`.
fn encode_path(key: &str) -> String {
    key.split('/').map(encode).collect::<Vec<_>>().join("/")
}
