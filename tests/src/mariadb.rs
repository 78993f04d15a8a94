//! A private MariaDB server on a free loopback port, standing in for SingleStore.

use crate::process::{self, run_bounded, run_ok, tail, terminate, wait_for, which};
use crate::tls::{copy_pair, CertPair, TestCa};
use crate::{free_port, random_hex};
use anyhow::{anyhow, bail, Context, Result};
use nix::sys::signal::Signal;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Time allowed for the server to accept connections after spawning it.
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// Time allowed for a clean shutdown before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// Upper bound for one client invocation (tests load at most a few MB per statement batch).
const SQL_TIMEOUT: Duration = Duration::from_secs(300);

/// Paths of the MariaDB programs this harness runs.
#[derive(Debug, Clone)]
struct Tools {
    server: PathBuf,
    install_db: PathBuf,
    client: PathBuf,
    dump: PathBuf,
}

impl Tools {
    fn find() -> Option<Tools> {
        Some(Tools {
            server: which(&["mariadbd", "mysqld"])?,
            install_db: which(&["mariadb-install-db", "mysql_install_db"])?,
            client: which(&["mariadb", "mysql"])?,
            dump: which(&["mariadb-dump", "mysqldump"])?,
        })
    }

    /// Finds the programs, installing `mariadb-server` with apt when they are missing.
    fn find_or_install() -> Result<Tools> {
        if let Some(t) = Tools::find() {
            return Ok(t);
        }
        process::apt_install(&["mariadb-server", "mariadb-client"])?;
        Tools::find()
            .ok_or_else(|| anyhow!("mariadb-server installed but mariadbd still not found"))
    }
}

/// A running private MariaDB server; stopped (and its data removed) on drop.
pub struct MariaDb {
    tools: Tools,
    dir: tempfile::TempDir,
    port: u16,
    password: String,
    child: Option<Child>,
    /// Server-side TLS files (`--ssl-ca`, `--ssl-cert`, `--ssl-key`), copied into `dir`.
    tls: Option<(PathBuf, CertPair)>,
}

impl MariaDb {
    /// Initialises a fresh datadir in a temp dir and starts a server on a free 127.0.0.1 port.
    pub fn start() -> Result<MariaDb> {
        Self::start_inner(None)
    }

    /// Like [`MariaDb::start`], with TLS on: the server presents `server` and verifies client
    /// certificates against `ca` (for `REQUIRE X509` accounts). Plain TCP stays allowed for
    /// accounts that do not `REQUIRE SSL`.
    pub fn start_with_tls(ca: &TestCa, server: &CertPair) -> Result<MariaDb> {
        Self::start_inner(Some((ca, server)))
    }

    fn start_inner(tls: Option<(&TestCa, &CertPair)>) -> Result<MariaDb> {
        let tools = Tools::find_or_install()?;
        let dir = tempfile::Builder::new()
            .prefix("cairn-mariadb-")
            .tempdir()
            .context("cannot create a temp dir for MariaDB")?;
        let mut db = MariaDb {
            tools,
            dir,
            port: 0,
            password: random_hex(12),
            child: None,
            tls: None,
        };
        if let Some((ca, server)) = tls {
            let ca_copy = db.dir.path().join("tls-ca.crt");
            std::fs::copy(ca.cert(), &ca_copy).context("cannot copy the test CA")?;
            db.tls = Some((ca_copy, copy_pair(server, db.dir.path(), "tls-server")?));
        }
        db.install_db()?;
        // A port picked by free_port() can be taken by a parallel test before we bind it: retry.
        let mut last = None;
        for _ in 0..4 {
            db.port = free_port()?;
            match db.spawn_and_wait(true) {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(e) if db.error_log().contains("Address already in use") => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        if let Some(e) = last {
            return Err(e);
        }
        db.secure()?;
        Ok(db)
    }

    fn datadir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn error_log_path(&self) -> PathBuf {
        self.dir.path().join("error.log")
    }

    /// The server's error log so far (empty if none was written).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.error_log_path()).unwrap_or_default()
    }

    fn install_db(&self) -> Result<()> {
        let mut cmd = Command::new(&self.tools.install_db);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", self.datadir().display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .args([
                "--innodb-log-file-size=16M",
                "--innodb-buffer-pool-size=64M",
            ])
            // A private tmpdir: parallel bootstraps sharing /tmp crash on each other's temp tables.
            .arg(format!("--tmpdir={}", self.dir.path().display()));
        if process::is_root() {
            cmd.arg("--user=root");
        }
        run_ok(&mut cmd, None, Duration::from_secs(120))
            .context("mariadb-install-db failed to initialise a private datadir")?;
        Ok(())
    }

    fn spawn_and_wait(&mut self, fresh_log: bool) -> Result<()> {
        if fresh_log {
            let _ = std::fs::remove_file(self.error_log_path());
        }
        let mut cmd = Command::new(&self.tools.server);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", self.datadir().display()))
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!(
                "--pid-file={}",
                self.dir.path().join("mariadbd.pid").display()
            ))
            .arg(format!("--log-error={}", self.error_log_path().display()))
            .arg(format!("--tmpdir={}", self.dir.path().display()))
            .arg(format!("--port={}", self.port))
            .args([
                "--bind-address=127.0.0.1",
                "--local-infile=1",
                "--skip-log-bin",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=16M",
                "--innodb-flush-log-at-trx-commit=2",
                "--innodb-doublewrite=0",
                "--max-allowed-packet=64M",
                "--max-connections=200",
                "--performance-schema=OFF",
                // MariaDB 10.x defaults to latin1; SingleStore and Debian's packaged config use utf8mb4.
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
            ]);
        if let Some((ca, pair)) = &self.tls {
            cmd.arg(format!("--ssl-ca={}", ca.display()))
                .arg(format!("--ssl-cert={}", pair.cert.display()))
                .arg(format!("--ssl-key={}", pair.key.display()));
        }
        if process::is_root() {
            cmd.arg("--user=root");
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", self.tools.server.display()))?;
        self.child = Some(child);
        let ready = wait_for("MariaDB", START_TIMEOUT, || {
            if let Some(st) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!("mariadbd exited during startup ({st})");
            }
            Ok(self.socket().exists() && self.ping())
        });
        if let Err(e) = ready {
            self.kill_child(Signal::SIGKILL);
            bail!("{e:#}; server error log:{}", tail(&self.error_log(), 4000));
        }
        Ok(())
    }

    /// True when the server answers on the socket: `SELECT 1` works, or it refuses our password
    /// (before [`MariaDb::secure`] root has none yet, which still proves the server is up).
    fn ping(&self) -> bool {
        let mut cmd = self.client_cmd();
        cmd.args(["-e", "SELECT 1"]);
        match run_bounded(&mut cmd, None, Duration::from_secs(10)) {
            Ok(o) => {
                o.status.success() || String::from_utf8_lossy(&o.stderr).contains("Access denied")
            }
            Err(_) => false,
        }
    }

    /// Sets the random root password and lets root connect over TCP from 127.0.0.1.
    fn secure(&mut self) -> Result<()> {
        let pw = self.password.replace('\'', "''");
        let sql = format!(
            "ALTER USER root@localhost IDENTIFIED BY '{pw}';\n\
             CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY '{pw}';\n\
             ALTER USER root@'127.0.0.1' IDENTIFIED BY '{pw}';\n\
             GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;\n\
             FLUSH PRIVILEGES;\n"
        );
        // Before this statement root has no password; MYSQL_PWD must be empty for this one call.
        let mut cmd = self.client_cmd();
        cmd.env_remove("MYSQL_PWD");
        run_ok(&mut cmd, Some(sql.as_bytes()), SQL_TIMEOUT)
            .context("cannot set the MariaDB root password")?;
        Ok(())
    }

    /// A `mariadb` client command on the socket as root; the password goes in MYSQL_PWD, never argv.
    fn client_cmd(&self) -> Command {
        let mut cmd = Command::new(&self.tools.client);
        cmd.arg("--no-defaults")
            .arg(format!("--socket={}", self.socket().display()))
            .args([
                "-uroot",
                "-N",
                "-B",
                "--local-infile=1",
                "--default-character-set=utf8mb4",
            ])
            .env("MYSQL_PWD", &self.password);
        cmd
    }

    /// The URL Cairn takes for this server: `mysql://root@127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mysql://{}@127.0.0.1:{}", self.user(), self.port)
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL Cairn takes for `user` on this server: `mysql://USER@127.0.0.1:PORT`.
    pub fn url_for(&self, user: &str) -> String {
        format!("mysql://{user}@127.0.0.1:{}", self.port)
    }

    /// Creates `user`@127.0.0.1 with `password`, all privileges and `require` (`NONE`, `SSL`,
    /// `X509` or `SUBJECT '...'`).
    pub fn create_user(&self, user: &str, password: &str, require: &str) -> Result<()> {
        let (u, pw) = (user.replace('\'', "''"), password.replace('\'', "''"));
        let sql = format!(
            "CREATE USER '{u}'@'127.0.0.1' IDENTIFIED BY '{pw}' REQUIRE {require};\n\
             GRANT ALL PRIVILEGES ON *.* TO '{u}'@'127.0.0.1';\nFLUSH PRIVILEGES;"
        );
        // Not `sql()`: its error would quote the statement, password included.
        self.sql_bytes(sql.as_bytes(), None)
            .map(|_| ())
            .with_context(|| format!("cannot create user {user} REQUIRE {require}"))
    }

    /// A global status counter (`SHOW GLOBAL STATUS LIKE name`), e.g. `Ssl_accepts`.
    pub fn global_status(&self, name: &str) -> Result<u64> {
        let out = self.sql(&format!(
            "SHOW GLOBAL STATUS LIKE '{}'",
            name.replace('\'', "''")
        ))?;
        let value = out.rsplit('\t').next().unwrap_or_default();
        value
            .trim()
            .parse()
            .with_context(|| format!("status {name} is not a number: {out:?}"))
    }

    /// The user for TCP connections (`root`).
    pub fn user(&self) -> &str {
        "root"
    }

    /// The user's password (random per instance; pass it to Cairn as MYSQL_PWD, never in argv).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The server's Unix socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("mysqld.sock")
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Runs `sql` (any number of statements) and returns the output (`-N -B`: tab-separated, no header).
    pub fn sql(&self, sql: &str) -> Result<String> {
        self.sql_bytes(sql.as_bytes(), None)
            .with_context(|| format!("SQL failed: {}", shorten(sql)))
    }

    /// Runs `sql` with `db` as the default database.
    pub fn sql_in(&self, db: &str, sql: &str) -> Result<String> {
        self.sql_bytes(sql.as_bytes(), Some(db))
            .with_context(|| format!("SQL in `{db}` failed: {}", shorten(sql)))
    }

    /// Runs the statements of the file at `path`.
    pub fn sql_file(&self, path: &Path) -> Result<String> {
        let text =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        self.sql_bytes(&text, None)
            .with_context(|| format!("SQL file {} failed", path.display()))
    }

    fn sql_bytes(&self, sql: &[u8], db: Option<&str>) -> Result<String> {
        let mut cmd = self.client_cmd();
        if let Some(db) = db {
            cmd.arg(format!("--database={db}"));
        }
        let out = run_ok(&mut cmd, Some(sql), SQL_TIMEOUT)?;
        let mut s = String::from_utf8(out.stdout).context("client output is not UTF-8")?;
        if s.ends_with('\n') {
            s.pop();
        }
        Ok(s)
    }

    /// The `CHECKSUM TABLE` value of `db`.`table` (compare source against restored copies).
    pub fn checksum_table(&self, db: &str, table: &str) -> Result<String> {
        let out = self.sql(&format!("CHECKSUM TABLE {}.{}", ident(db), ident(table)))?;
        let value = out.rsplit('\t').next().unwrap_or_default().to_string();
        if value.is_empty() || value == "NULL" {
            bail!("CHECKSUM TABLE {db}.{table} returned no value (does the table exist?): {out}");
        }
        Ok(value)
    }

    /// Base tables of `db`, sorted.
    pub fn tables(&self, db: &str) -> Result<Vec<String>> {
        let out = self.sql(&format!(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = '{}' \
             AND table_type = 'BASE TABLE' ORDER BY table_name",
            db.replace('\'', "''")
        ))?;
        Ok(out.lines().map(str::to_string).collect())
    }

    /// `mariadb-dump` of `db` without dates, comments or the database name: equal text means
    /// equal schema and data, so a restored (even renamed) database can be diffed against its source.
    pub fn dump_text(&self, db: &str) -> Result<String> {
        let mut cmd = Command::new(&self.tools.dump);
        cmd.arg("--no-defaults")
            .arg(format!("--socket={}", self.socket().display()))
            .args([
                "-uroot",
                "--skip-dump-date",
                "--skip-comments",
                "--single-transaction",
                "--order-by-primary",
                "--skip-extended-insert",
                "--hex-blob",
                "--routines",
                "--triggers",
                "--events",
                "--default-character-set=utf8mb4",
                db,
            ])
            .env("MYSQL_PWD", &self.password);
        let out = run_ok(&mut cmd, None, SQL_TIMEOUT)
            .with_context(|| format!("mariadb-dump {db} failed"))?;
        String::from_utf8(out.stdout).context("mariadb-dump output is not UTF-8")
    }

    /// Stops the server (SIGTERM, then SIGKILL after a grace period); data stays until drop.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            terminate(&mut c, STOP_GRACE);
        }
    }

    /// Kills the server with SIGKILL (a crash, for fault tests); [`MariaDb::restart`] recovers it.
    pub fn crash(&mut self) {
        self.kill_child(Signal::SIGKILL);
    }

    fn kill_child(&mut self, sig: Signal) {
        if let Some(mut c) = self.child.take() {
            process::send_signal(&c, sig);
            let _ = process::wait_bounded(&mut c, STOP_GRACE);
        }
    }

    /// Stops the server if running and starts it again on the same datadir, port and password.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        // The old socket file may linger after a crash; the server removes stale ones, but not
        // before we could mistake it for readiness.
        let _ = std::fs::remove_file(self.socket());
        self.spawn_and_wait(false).context("MariaDB restart failed")
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Quotes an identifier with backticks.
fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The start of `sql` for error messages (statements can be megabytes long).
fn shorten(sql: &str) -> String {
    let mut end = sql.len().min(300);
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    if end < sql.len() {
        format!("{}...", &sql[..end])
    } else {
        sql.to_string()
    }
}
