//! A panic never prints a secret. Logs keep secrets out by type (secret values print
//! as `<redacted>`), but a panic message is plain text, so the hook masks it: every
//! secret value the process holds (Secrets of manifests, password files, secret-looking
//! environment variables) and any password in a URL become `<redacted>`, the same
//! placeholder the logs and `cairn get` print.

use std::panic::PanicHookInfo;

use cairn_core::world::secret::{known, remember, REDACTED};

/// Environment variables whose values are secrets whatever their name says.
const SECRET_VARIABLES: &[&str] = &["MYSQL_PWD", "RESTIC_PASSWORD"];

/// Name parts that make an environment variable's value a secret (`PWD` alone is the
/// working directory, hence `MYSQL_PWD` by name above).
const SECRET_NAME_PARTS: &[&str] = &["PASSWORD", "SECRET", "TOKEN", "CREDENTIAL"];

/// Installs the hook (once, at start): remembers the secrets of the environment, then
/// prints panics masked, with a backtrace when `RUST_BACKTRACE` asks for one.
pub fn install() {
    for (name, value) in std::env::vars() {
        if is_secret_variable(&name) {
            remember(&value);
        }
    }
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let text = render(thread.name().unwrap_or("<unnamed>"), info, &known());
        eprintln!("{text}");
        let backtrace = std::backtrace::Backtrace::capture();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            // Frames name functions and files, never data.
            eprintln!("stack backtrace:\n{backtrace}");
        }
    }));
}

/// Whether environment variable `name` holds a secret.
fn is_secret_variable(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    // `*_FILE` variables name where a secret is, not the secret.
    SECRET_VARIABLES.contains(&upper.as_str())
        || (SECRET_NAME_PARTS.iter().any(|p| upper.contains(p)) || upper.ends_with("_KEY"))
            && !upper.ends_with("_FILE")
}

/// `thread 'T' panicked at FILE:LINE:COL: MESSAGE`, masked.
fn render(thread: &str, info: &PanicHookInfo<'_>, secrets: &[String]) -> String {
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".to_owned());
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_else(|| "<unknown>".to_owned());
    format_panic(thread, &location, &message, secrets)
}

/// The panic line for `message` at `location`, with secrets masked.
pub fn format_panic(thread: &str, location: &str, message: &str, secrets: &[String]) -> String {
    redact(
        &format!("thread '{thread}' panicked at {location}:\n{message}"),
        secrets,
    )
}

/// `text` with every value of `secrets` (longest first, so a secret containing another
/// is masked whole) and every URL password replaced by `<redacted>`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut sorted: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_owned();
    for secret in sorted {
        out = out.replace(secret.as_str(), REDACTED);
    }
    redact_url_passwords(&out)
}

/// Masks `pass` in every `scheme://user:pass@host` of `text`.
fn redact_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '\''))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@').and_then(|a| {
            let colon = authority[..a].find(':')?;
            Some((colon, a))
        }) {
            Some((colon, a)) => {
                out.push_str(&authority[..=colon]);
                out.push_str(REDACTED);
                out.push_str(&authority[a..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_message_holding_a_secret_never_prints_it() {
        let secrets = vec!["hunter2-db".to_owned(), "repo-pw-9".to_owned()];
        let text = format_panic(
            "main",
            "src/x.rs:1:2",
            "login failed for root with hunter2-db (repository key repo-pw-9)",
            &secrets,
        );
        assert!(
            !text.contains("hunter2-db") && !text.contains("repo-pw-9"),
            "{text}"
        );
        assert_eq!(
            text,
            "thread 'main' panicked at src/x.rs:1:2:\nlogin failed for root with <redacted> (repository key <redacted>)"
        );
    }

    #[test]
    fn url_passwords_are_masked_even_when_unknown() {
        let text = redact(
            "cannot reach mysql://root:s3cr%40t@db:3306/x and s3://k:v@h/b, nor http://host/p",
            &[],
        );
        assert_eq!(
            text,
            "cannot reach mysql://root:<redacted>@db:3306/x and s3://k:<redacted>@h/b, nor http://host/p"
        );
    }

    #[test]
    fn a_secret_inside_a_longer_one_does_not_leave_a_piece_behind() {
        let secrets = vec!["abc".to_owned(), "xxabcxx".to_owned()];
        assert_eq!(redact("v=xxabcxx", &secrets), "v=<redacted>");
    }

    #[test]
    fn secret_looking_variables_are_recognised() {
        for name in [
            "MYSQL_PWD",
            "RESTIC_PASSWORD",
            "AWS_SECRET_ACCESS_KEY",
            "AZURE_STORAGE_ACCOUNT_KEY",
            "GOOGLE_OAUTH_TOKEN",
        ] {
            assert!(is_secret_variable(name), "{name}");
        }
        for name in [
            "PATH",
            "PWD",
            "OLDPWD",
            "RESTIC_PASSWORD_FILE",
            "AWS_REGION",
            "RUST_LOG",
        ] {
            assert!(!is_secret_variable(name), "{name}");
        }
        assert!(!is_secret_variable("AWS_SHARED_CREDENTIALS_KEY_FILE"));
    }
}
