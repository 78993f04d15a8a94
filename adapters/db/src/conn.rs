//! Connection target, credentials and session setup shared by dump and restore.
//!
//! Every session is pinned so that values travel as the server stores them:
//! results are not converted (`character_set_results = binary`), timestamps are
//! rendered in UTC and `sql_mode` allows zero dates.

use std::fmt;
use std::path::{Path, PathBuf};

use mysql_async::prelude::Queryable;
use mysql_async::{OptsBuilder, PoolConstraints, PoolOpts};

pub use crate::tls::TlsOptions;

/// The connection type used throughout the crate.
pub type Conn = mysql_async::Conn;

/// Result alias for this crate's database operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Default MySQL-wire port.
pub const DEFAULT_PORT: u16 = 3306;

/// Environment variable read for the password, as the `mysql` client does.
pub const PASSWORD_ENV: &str = "MYSQL_PWD";

/// `sql_mode` of every session: no zero-date checks, keep explicit zeros in AUTO_INCREMENT.
pub const SESSION_SQL_MODE: &str = "NO_AUTO_VALUE_ON_ZERO,STRICT_ALL_TABLES";

/// Errors of the database adapter: each says what failed, on which object, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server refused the credentials.
    #[error("access denied for user `{user}` at {host}:{port}: {message}; check the password in MYSQL_PWD or --db-password-file and the user's grants")]
    AccessDenied {
        /// User name.
        user: String,
        /// Server host.
        host: String,
        /// Server port.
        port: u16,
        /// Server message.
        message: String,
    },
    /// No connection could be opened.
    #[error("cannot connect to {host}:{port} as `{user}`: {source}; is the server running and reachable at {host}:{port}?")]
    Unreachable {
        /// User name.
        user: String,
        /// Server host.
        host: String,
        /// Server port.
        port: u16,
        /// Underlying error.
        #[source]
        source: mysql_async::Error,
    },
    /// A statement failed.
    #[error("{what} failed: {source}")]
    Query {
        /// What was being done, naming the object (e.g. "SHOW CREATE TABLE `db`.`t`").
        what: String,
        /// Underlying error.
        #[source]
        source: mysql_async::Error,
    },
    /// The connection URL could not be understood.
    #[error("invalid database URL `{url}`: {reason}; expected mysql://USER@HOST:PORT or tcp(HOST:PORT)/")]
    InvalidUrl {
        /// The URL as given (never carries a password: it is stripped before).
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The password file could not be read.
    #[error("cannot read the password file {path}: {source}; check --db-password-file")]
    PasswordFile {
        /// File path.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The server answered something we cannot use.
    #[error("unexpected answer from the server while {what}: {detail}")]
    Unexpected {
        /// What was being done.
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// A dump could not be completed; the backup must be discarded.
    #[error("dump incomplete: {detail}; the backup was discarded, fix the cause and run it again")]
    DumpIncomplete {
        /// Which entries failed and why.
        detail: String,
    },
    /// The requested consistency could not be achieved.
    #[error("cannot take a consistent point: {detail}")]
    Consistency {
        /// Why.
        detail: String,
    },
    /// The TLS handshake with the server failed (or the server offers no TLS).
    #[error("TLS handshake with {host}:{port} failed: {reason}")]
    Tls {
        /// Server host.
        host: String,
        /// Server port.
        port: u16,
        /// What went wrong and what to do.
        reason: String,
    },
    /// A TLS setting is unusable (checked before connecting).
    #[error("invalid TLS setting, {what}: {reason}")]
    TlsConfig {
        /// Which setting, with the flag and AppBinding field it comes from.
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A TLS file (CA, client certificate or key) could not be read.
    #[error("cannot read the {what} {path}: {source}; check {flag}")]
    TlsFile {
        /// Which file.
        what: &'static str,
        /// The command-line flag that named it.
        flag: &'static str,
        /// File path.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Short, stable label for metrics and Kubernetes event reasons.
    pub fn category(&self) -> &'static str {
        match self {
            Error::AccessDenied { .. } => "AccessDenied",
            Error::Unreachable { .. } => "Unreachable",
            Error::Query { .. } => "QueryFailed",
            Error::InvalidUrl { .. } => "InvalidUrl",
            Error::PasswordFile { .. } => "PasswordFile",
            Error::Unexpected { .. } => "Unexpected",
            Error::DumpIncomplete { .. } => "DumpIncomplete",
            Error::Consistency { .. } => "Consistency",
            Error::Tls { .. } => "TlsHandshake",
            Error::TlsConfig { .. } | Error::TlsFile { .. } => "TlsConfig",
        }
    }

    /// Wraps a driver error with a description of the statement and object.
    pub fn query(what: impl Into<String>, source: mysql_async::Error) -> Self {
        Error::Query {
            what: what.into(),
            source,
        }
    }
}

/// A secret string whose `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value; only for handing to the driver.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where and as whom to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbTarget {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User name.
    pub user: String,
    /// Password, if any.
    pub password: Option<Secret>,
    /// TLS settings; `None` means plain TCP (see [`crate::tls`]).
    pub tls: Option<TlsOptions>,
}

impl DbTarget {
    /// A target with no password and no TLS.
    pub fn new(host: impl Into<String>, port: u16, user: impl Into<String>) -> Self {
        DbTarget {
            host: host.into(),
            port,
            user: user.into(),
            password: None,
            tls: None,
        }
    }

    /// Sets the password.
    pub fn with_password(mut self, password: Option<Secret>) -> Self {
        self.password = password;
        self
    }

    /// Sets the TLS settings; `None` connects in plain TCP. Checked by [`DbTarget::connect`].
    pub fn with_tls(mut self, tls: Option<TlsOptions>) -> Self {
        self.tls = tls;
        self
    }

    /// Parses `mysql://USER[:PASS]@HOST[:PORT][/]`, KubeDB's `tcp(HOST:PORT)/` (user `root`)
    /// or a bare `HOST[:PORT]`.
    pub fn parse_url(url: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: redact_url(url),
            reason: reason.to_string(),
        };
        let trimmed = url.trim();
        if let Some(rest) = trimmed.strip_prefix("tcp(") {
            let (addr, tail) = rest
                .split_once(')')
                .ok_or_else(|| invalid("missing `)` after tcp(HOST:PORT"))?;
            if !(tail.is_empty() || tail.starts_with('/')) {
                return Err(invalid("unexpected text after tcp(HOST:PORT)"));
            }
            let (host, port) = split_host_port(addr).map_err(|r| invalid(&r))?;
            return Ok(DbTarget::new(host, port, "root"));
        }
        if !trimmed.contains("://") {
            let (host, port) = split_host_port(trimmed).map_err(|r| invalid(&r))?;
            return Ok(DbTarget::new(host, port, "root"));
        }
        let parsed = url::Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(
            parsed.scheme(),
            "mysql" | "mariadb" | "singlestore" | "memsql"
        ) {
            return Err(invalid("scheme must be mysql://"));
        }
        let host = parsed
            .host_str()
            .ok_or_else(|| invalid("missing host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let user = match parsed.username() {
            "" => "root".to_string(),
            u => percent_decode(u).map_err(|r| invalid(&r))?,
        };
        let password = match parsed.password() {
            Some(p) => Some(Secret::new(percent_decode(p).map_err(|r| invalid(&r))?)),
            None => None,
        };
        Ok(DbTarget {
            host,
            port: parsed.port().unwrap_or(DEFAULT_PORT),
            user,
            password,
            tls: None,
        })
    }

    /// Driver options: address, credentials, session pinning and pool bounds.
    pub fn opts(&self) -> OptsBuilder {
        let constraints = PoolConstraints::new(0, 64).unwrap_or_default();
        // mysql_async runs `init` statements last-to-first; order matters (SET NAMES resets
        // character_set_results), so hand them over reversed.
        let mut init = session_init_sql();
        init.reverse();
        OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(self.password.as_ref().map(|p| p.expose().to_string()))
            .prefer_socket(false)
            .tcp_nodelay(true)
            .stmt_cache_size(16)
            .init(init)
            .pool_opts(PoolOpts::default().with_constraints(constraints))
            .ssl_opts(self.tls.as_ref().map(TlsOptions::ssl_opts))
    }

    /// Opens one pinned session, classifying failures into actionable errors.
    pub async fn connect(&self) -> Result<Conn> {
        if let Some(tls) = &self.tls {
            tls.validate()?;
        }
        let conn = Conn::new(self.opts())
            .await
            .map_err(|e| self.classify_connect_error(e))?;
        tracing::debug!(
            host = %self.host,
            port = self.port,
            user = %self.user,
            tls = self.tls.is_some(),
            "connected"
        );
        Ok(conn)
    }

    /// Turns a connect failure into [`Error::AccessDenied`], [`Error::Tls`] or
    /// [`Error::Unreachable`].
    pub fn classify_connect_error(&self, e: mysql_async::Error) -> Error {
        if let Some(reason) = crate::tls::explain_tls_error(&e, &self.host, self.tls.as_ref()) {
            return Error::Tls {
                host: self.host.clone(),
                port: self.port,
                reason,
            };
        }
        match &e {
            mysql_async::Error::Server(se) if matches!(se.code, 1045 | 1044 | 1698) => {
                Error::AccessDenied {
                    user: self.user.clone(),
                    host: self.host.clone(),
                    port: self.port,
                    message: format!("{}{}", se.message, self.tls_hint()),
                }
            }
            _ => Error::Unreachable {
                user: self.user.clone(),
                host: self.host.clone(),
                port: self.port,
                source: e,
            },
        }
    }
}

impl DbTarget {
    /// What to try when an account that may `REQUIRE` TLS refuses us.
    fn tls_hint(&self) -> &'static str {
        match &self.tls {
            None => {
                " (if the account REQUIREs SSL or X509, connect with TLS: --db-ca-file, \
                     --db-cert-file, --db-key-file or the AppBinding's clientConfig.caBundle and \
                     tlsSecret)"
            }
            Some(t) if !t.has_client_cert() => {
                " (if the account REQUIREs X509, pass a client \
                     certificate: --db-cert-file and --db-key-file or the AppBinding's tlsSecret)"
            }
            Some(_) => "",
        }
    }
}

/// Statements run on every new session (see the module docs for why).
pub fn session_init_sql() -> Vec<String> {
    vec![
        "SET NAMES utf8mb4".to_string(),
        "SET character_set_results = binary".to_string(),
        "SET time_zone = '+00:00'".to_string(),
        format!("SET sql_mode = '{SESSION_SQL_MODE}'"),
        // A dump stream may stall while the repository writer is busy.
        "SET net_write_timeout = 3600".to_string(),
        "SET net_read_timeout = 3600".to_string(),
    ]
}

/// Password from the `MYSQL_PWD` environment variable, if set and non-empty.
pub fn password_from_env() -> Option<Secret> {
    std::env::var(PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret::new)
}

/// Password from a file (a Kubernetes Secret mount); one trailing newline is removed.
pub fn password_from_file(path: &Path) -> Result<Secret> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::PasswordFile {
        path: path.to_path_buf(),
        source,
    })?;
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    Ok(Secret::new(text))
}

/// Runs a statement that returns no rows, naming it in the error.
pub async fn exec_drop(conn: &mut Conn, sql: &str) -> Result<()> {
    conn.query_drop(sql)
        .await
        .map_err(|e| Error::query(sql.to_string(), e))
}

/// Splits `HOST[:PORT]` (IPv6 in brackets).
fn split_host_port(addr: &str) -> std::result::Result<(String, u16), String> {
    let addr = addr.trim();
    if addr.is_empty() {
        return Err("missing host".to_string());
    }
    let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
        let (h, tail) = rest.split_once(']').ok_or("missing `]` in IPv6 host")?;
        (h, tail.strip_prefix(':'))
    } else {
        match addr.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (addr, None),
        }
    };
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| format!("bad port `{p}`"))?,
        None => DEFAULT_PORT,
    };
    if host.is_empty() {
        return Err("missing host".to_string());
    }
    Ok((host.to_string(), port))
}

fn percent_decode(s: &str) -> std::result::Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .ok_or("truncated %-escape in user name")?;
            let b = u8::from_str_radix(hex, 16).map_err(|_| "bad %-escape".to_string())?;
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "user name is not UTF-8".to_string())
}

/// The URL with any password replaced, for error messages (also when it does not parse).
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => redact_userinfo(url),
    }
}

/// Replaces the password of `scheme://user:password@host...` textually.
fn redact_userinfo(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) => format!("{}{}:***{}", &url[..start], &rest[..colon], &rest[at..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mysql_url() {
        let t = DbTarget::parse_url("mysql://backup@db.example:3307").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_str()),
            ("db.example", 3307, "backup")
        );
        assert!(t.password.is_none());
    }

    #[test]
    fn parses_url_with_password_and_default_port() {
        let t = DbTarget::parse_url("mysql://u:p%40ss@h/").unwrap();
        assert_eq!(t.port, DEFAULT_PORT);
        assert_eq!(t.password.unwrap().expose(), "p@ss");
    }

    #[test]
    fn parses_kubedb_tcp_form() {
        let t = DbTarget::parse_url("tcp(sdb.demo.svc:3306)/").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_str()),
            ("sdb.demo.svc", 3306, "root")
        );
        let t = DbTarget::parse_url("tcp([::1]:3310)/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 3310));
    }

    #[test]
    fn rejects_bad_urls_without_leaking_password() {
        let err = DbTarget::parse_url("http://u:hunter2@h:1").unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
        let err = DbTarget::parse_url("mysql://u:hunter2@h:notaport").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(DbTarget::parse_url("tcp(h:notaport)/").is_err());
        assert!(DbTarget::parse_url("tcp(h:1").is_err());
    }

    #[test]
    fn secret_is_redacted_in_debug() {
        let t = DbTarget::new("h", 1, "u").with_password(Some(Secret::new("hunter2")));
        assert!(!format!("{t:?}").contains("hunter2"));
        assert_eq!(Secret::new("x").to_string(), "***");
    }

    #[test]
    fn password_file_strips_one_newline() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "s3cret\n").unwrap();
        assert_eq!(password_from_file(&p).unwrap().expose(), "s3cret");
        let err = password_from_file(&dir.path().join("missing")).unwrap_err();
        assert!(err.to_string().contains("--db-password-file"));
    }
}
