//! Resolving `--db` and its password.

use crate::cli::DbArgs;
use crate::password::read_password_file;
use anyhow::bail;
use anyhow::{Context, Result};
use cairn_db::conn::{password_from_env, DbTarget, Secret, TlsOptions};

/// Parses `--db` and takes the password from `--db-password-file` or `MYSQL_PWD`, and the TLS
/// settings from `--db-ca-file`, `--db-cert-file`, `--db-key-file`, `--db-server-name` and
/// `--db-insecure-skip-verify`.
pub fn resolve(args: &DbArgs) -> Result<DbTarget> {
    // The driver's error quotes the address with any password masked; never quote it here.
    let mut target = DbTarget::parse_url(&args.db).context("invalid --db address")?;
    if target.password.is_some() {
        // Command lines are world-readable (ps, /proc): a password there has already leaked.
        bail!(
            "the database address passed with --db holds a password, which every local user can \
             read in the process list; remove it from --db and set MYSQL_PWD or \
             --db-password-file instead (and change the password if this host is shared)"
        );
    }
    target = target.with_tls(tls_options(args)?);
    if let Some(path) = &args.db_password_file {
        target = target.with_password(Some(Secret::new(read_password_file(path, "database")?)));
    } else if let Some(pw) = password_from_env() {
        target = target.with_password(Some(pw));
    }
    Ok(target)
}

/// The TLS settings of the TLS flags; `None` (plain TCP) when none is given.
fn tls_options(args: &DbArgs) -> Result<Option<TlsOptions>> {
    let any = args.db_ca_file.is_some()
        || args.db_cert_file.is_some()
        || args.db_key_file.is_some()
        || args.db_server_name.is_some()
        || args.db_insecure_skip_verify;
    if !any {
        return Ok(None);
    }
    let tls = TlsOptions::from_files(
        args.db_ca_file.as_deref(),
        args.db_cert_file.as_deref(),
        args.db_key_file.as_deref(),
    )?
    .with_server_name(args.db_server_name.clone())
    .with_insecure_skip_verify(args.db_insecure_skip_verify);
    tls.validate()?;
    Ok(Some(tls))
}

/// `user@host:port`, for messages (never the password).
pub fn describe(target: &DbTarget) -> String {
    format!("{}@{}:{}", target.user, target.host, target.port)
}
