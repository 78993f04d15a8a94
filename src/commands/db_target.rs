//! Resolving `--db` and its password.

use crate::cli::DbArgs;
use crate::password::read_password_file;
use anyhow::{Context, Result};
use cairn_db::conn::{password_from_env, DbTarget, Secret};

/// Parses `--db` and takes the password from `--db-password-file` or `MYSQL_PWD`.
pub fn resolve(args: &DbArgs) -> Result<DbTarget> {
    let mut target = DbTarget::parse_url(&args.db).with_context(|| {
        format!(
            "invalid database address {:?} (expected mysql://USER@HOST:PORT)",
            args.db
        )
    })?;
    if let Some(path) = &args.db_password_file {
        target = target.with_password(Some(Secret::new(read_password_file(path, "database")?)));
    } else if let Some(pw) = password_from_env() {
        target = target.with_password(Some(pw));
    }
    Ok(target)
}

/// `user@host:port`, for messages (never the password).
pub fn describe(target: &DbTarget) -> String {
    format!("{}@{}:{}", target.user, target.host, target.port)
}
