//! Resolving `--db` and its password.

use crate::cli::DbArgs;
use crate::password::read_password_file;
use anyhow::{Context, Result};
use cairn_db::conn::DbTarget;

/// Parses `--db` and takes the password from `--db-password-file` or `MYSQL_PWD`.
pub fn resolve(args: &DbArgs) -> Result<DbTarget> {
    let mut target = DbTarget::parse_url(&args.db)
        .with_context(|| format!("invalid database address {:?} (expected mysql://USER@HOST:PORT)", args.db))?;
    if let Some(path) = &args.db_password_file {
        target = target.with_password(read_password_file(path, "database")?);
    } else if let Ok(pw) = std::env::var("MYSQL_PWD") {
        target = target.with_password(pw);
    }
    Ok(target)
}
