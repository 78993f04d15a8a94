//! Recognising and renaming databases inside SQL text (`--rename-database OLD:NEW`).
//!
//! A small lexer (strings, quoted identifiers, comments; executable comments are read as
//! text) finds:
//! - `USE db`, `CREATE DATABASE|SCHEMA [IF NOT EXISTS] db`, `DROP DATABASE|SCHEMA [IF EXISTS] db`;
//! - database qualifiers: an identifier directly followed by `.` (`` `db`.`t` ``, `db.t`).
//!
//! Limits (documented for users): a qualifier is recognised only when the identifier is
//! immediately followed by `.`; a table alias spelled like the old database and used as
//! `alias.column` is renamed too; names built dynamically (prepared statements, `CONCAT`)
//! are not touched.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::row_format::quote_ident;

/// What kind of database statement was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbStatementKind {
    /// `USE db`.
    Use,
    /// `CREATE DATABASE db`.
    Create,
    /// `DROP DATABASE db`.
    Drop,
}

/// A recognised database statement: its kind, the database and where the name is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbStatement {
    /// Kind.
    pub kind: DbStatementKind,
    /// Database name, unquoted.
    pub name: String,
    /// Byte range of the name token (with its quotes) in the statement.
    pub span: Range<usize>,
    /// Whether `IF NOT EXISTS` / `IF EXISTS` is present.
    pub if_exists_clause: bool,
}

/// A lexical token with its byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    kind: TokenKind,
    span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TokenKind {
    /// Unquoted word (keyword, identifier or number).
    Word,
    /// Backtick-quoted identifier; the unquoted name.
    Quoted(String),
    /// String literal.
    Str,
    /// Any other single byte.
    Punct(u8),
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Splits a statement into tokens, skipping whitespace and comments.
fn tokens(sql: &[u8]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < sql.len() {
        let b = sql[i];
        let rest = &sql[i..];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if rest.starts_with(b"/*!") || rest.starts_with(b"/*+") || rest.starts_with(b"/*M!")
        {
            // Executable comment: skip the marker and version, read the body as text.
            i += if rest.starts_with(b"/*M!") { 4 } else { 3 };
            while i < sql.len() && sql[i].is_ascii_digit() {
                i += 1;
            }
        } else if rest.starts_with(b"*/") {
            i += 2;
        } else if rest.starts_with(b"/*") {
            i = find(sql, i + 2, b"*/").map_or(sql.len(), |e| e + 2);
        } else if b == b'#' || (rest.starts_with(b"--") && rest.get(2).is_none_or(|c| *c <= b' ')) {
            i = find(sql, i, b"\n").map_or(sql.len(), |e| e + 1);
        } else if b == b'`' {
            let (end, name) = quoted_ident(sql, i);
            out.push(Token {
                kind: TokenKind::Quoted(name),
                span: i..end,
            });
            i = end;
        } else if b == b'\'' || b == b'"' {
            let end = string_end(sql, i);
            out.push(Token {
                kind: TokenKind::Str,
                span: i..end,
            });
            i = end;
        } else if is_word_byte(b) {
            let start = i;
            while i < sql.len() && is_word_byte(sql[i]) {
                i += 1;
            }
            out.push(Token {
                kind: TokenKind::Word,
                span: start..i,
            });
        } else {
            out.push(Token {
                kind: TokenKind::Punct(b),
                span: i..i + 1,
            });
            i += 1;
        }
    }
    out
}

fn find(sql: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    sql.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// End (exclusive) and unquoted name of the backtick identifier starting at `start`.
fn quoted_ident(sql: &[u8], start: usize) -> (usize, String) {
    let mut name = Vec::new();
    let mut i = start + 1;
    while i < sql.len() {
        if sql[i] == b'`' {
            if sql.get(i + 1) == Some(&b'`') {
                name.push(b'`');
                i += 2;
                continue;
            }
            return (i + 1, String::from_utf8_lossy(&name).into_owned());
        }
        name.push(sql[i]);
        i += 1;
    }
    (sql.len(), String::from_utf8_lossy(&name).into_owned())
}

/// End (exclusive) of the string literal starting at `start` (backslash escapes, doubled quotes).
fn string_end(sql: &[u8], start: usize) -> usize {
    let q = sql[start];
    let mut i = start + 1;
    while i < sql.len() {
        match sql[i] {
            b'\\' => i += 2,
            c if c == q => {
                if sql.get(i + 1) == Some(&q) {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    sql.len()
}

impl Token {
    fn is_word(&self, sql: &[u8], word: &str) -> bool {
        self.kind == TokenKind::Word && sql[self.span.clone()].eq_ignore_ascii_case(word.as_bytes())
    }

    /// The identifier this token names, if it is one.
    fn ident(&self, sql: &[u8]) -> Option<String> {
        match &self.kind {
            TokenKind::Quoted(name) => Some(name.clone()),
            TokenKind::Word => Some(String::from_utf8_lossy(&sql[self.span.clone()]).into_owned()),
            _ => None,
        }
    }
}

/// Recognises `USE`, `CREATE DATABASE` and `DROP DATABASE` statements.
pub fn database_statement(sql: &[u8]) -> Option<DbStatement> {
    let toks = tokens(sql);
    let word = |i: usize, w: &str| toks.get(i).is_some_and(|t| t.is_word(sql, w));
    let (kind, mut at) = if word(0, "use") {
        (DbStatementKind::Use, 1)
    } else if (word(0, "create") || word(0, "drop")) && (word(1, "database") || word(1, "schema")) {
        let kind = if word(0, "create") {
            DbStatementKind::Create
        } else {
            DbStatementKind::Drop
        };
        (kind, 2)
    } else {
        return None;
    };
    let mut if_exists_clause = false;
    if word(at, "if") {
        if_exists_clause = true;
        at += if word(at + 1, "not") { 3 } else { 2 };
    }
    let tok = toks.get(at)?;
    let name = tok.ident(sql)?;
    Some(DbStatement {
        kind,
        name,
        span: tok.span.clone(),
        if_exists_clause,
    })
}

/// Replaces the bytes in `span` with the quoted identifier `name`.
pub fn replace_name(sql: &[u8], span: Range<usize>, name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(sql.len() + name.len());
    out.extend_from_slice(&sql[..span.start]);
    out.extend_from_slice(quote_ident(name).as_bytes());
    out.extend_from_slice(&sql[span.end..]);
    out
}

/// Makes a `CREATE DATABASE` statement idempotent and renamed: `CREATE DATABASE IF NOT EXISTS `new` ...`.
pub fn create_database_if_not_exists(sql: &[u8], target: &str) -> Option<Vec<u8>> {
    let st = database_statement(sql)?;
    if st.kind != DbStatementKind::Create {
        return None;
    }
    let mut out = b"CREATE DATABASE IF NOT EXISTS ".to_vec();
    out.extend_from_slice(quote_ident(target).as_bytes());
    out.extend_from_slice(&sql[st.span.end..]);
    Some(out)
}

/// Whether the statement's first keyword (executable-comment markers skipped) is `word`.
pub fn starts_with_keyword(sql: &[u8], word: &str) -> bool {
    tokens(sql).first().is_some_and(|t| t.is_word(sql, word))
}

/// Whether `word` appears as a keyword or unquoted identifier (not in strings or comments).
pub fn has_keyword(sql: &[u8], word: &str) -> bool {
    tokens(sql).iter().any(|t| t.is_word(sql, word))
}

/// Rewrites database qualifiers (`old.` → `` `new`. ``) outside strings and comments.
pub fn rename_qualifiers(sql: &[u8], renames: &BTreeMap<String, String>) -> Vec<u8> {
    if renames.is_empty() {
        return sql.to_vec();
    }
    let toks = tokens(sql);
    let mut out = Vec::with_capacity(sql.len());
    let mut copied = 0;
    for (i, t) in toks.iter().enumerate() {
        let dotted = toks
            .get(i + 1)
            .is_some_and(|n| n.kind == TokenKind::Punct(b'.') && n.span.start == t.span.end);
        // A dot after a qualifier must not be the second dot of `a.b.c`.
        let after_dot = i > 0
            && toks[i - 1].kind == TokenKind::Punct(b'.')
            && toks[i - 1].span.end == t.span.start;
        if !dotted || after_dot {
            continue;
        }
        let Some(name) = t.ident(sql) else { continue };
        if t.kind == TokenKind::Word && name.bytes().all(|b| b.is_ascii_digit()) {
            continue; // a number such as 1.5
        }
        if let Some(new) = renames.get(&name) {
            out.extend_from_slice(&sql[copied..t.span.start]);
            out.extend_from_slice(quote_ident(new).as_bytes());
            copied = t.span.end;
        }
    }
    out.extend_from_slice(&sql[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn renames(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn recognises_mysqldump_database_statements() {
        let sql = b"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */";
        let st = database_statement(sql).unwrap();
        assert_eq!(st.kind, DbStatementKind::Create);
        assert_eq!(st.name, "shop");
        assert!(st.if_exists_clause);
        assert_eq!(&sql[st.span.clone()], b"`shop`");
        let st = database_statement(b"USE `we``ird`").unwrap();
        assert_eq!(
            (st.kind, st.name.as_str()),
            (DbStatementKind::Use, "we`ird")
        );
        let st = database_statement(b"use plain").unwrap();
        assert_eq!(st.name, "plain");
        let st = database_statement(b"DROP SCHEMA IF EXISTS `x`").unwrap();
        assert_eq!((st.kind, st.name.as_str()), (DbStatementKind::Drop, "x"));
        assert!(database_statement(b"CREATE TABLE `t` (a int)").is_none());
        assert!(database_statement(b"SELECT 'USE x'").is_none());
    }

    #[test]
    fn renames_use_and_create_database() {
        let sql = b"USE `old`";
        let st = database_statement(sql).unwrap();
        assert_eq!(replace_name(sql, st.span, "new"), b"USE `new`");
        let sql = b"CREATE DATABASE `old` /*!40100 DEFAULT CHARACTER SET latin1 */";
        assert_eq!(
            create_database_if_not_exists(sql, "new").unwrap(),
            b"CREATE DATABASE IF NOT EXISTS `new` /*!40100 DEFAULT CHARACTER SET latin1 */"
        );
    }

    #[test]
    fn renames_qualifiers_but_not_strings_or_columns() {
        let sql = b"CREATE VIEW `v` AS select `old`.`t`.`a` AS `a`, 'old.x', old.t.b, t.old, 1.5 from `old`.`t` join other.old";
        let got = rename_qualifiers(sql, &renames(&[("old", "new")]));
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "CREATE VIEW `v` AS select `new`.`t`.`a` AS `a`, 'old.x', `new`.t.b, t.old, 1.5 from `new`.`t` join other.old"
        );
    }

    #[test]
    fn executable_comment_bodies_are_renamed() {
        let sql = b"/*!50001 VIEW `v` AS select `old`.`t`.`a` from `old`.`t` */";
        let got = rename_qualifiers(sql, &renames(&[("old", "n")]));
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "/*!50001 VIEW `v` AS select `n`.`t`.`a` from `n`.`t` */"
        );
    }

    #[test]
    fn finds_keywords_outside_strings() {
        assert!(has_keyword(
            b"CREATE TABLE t (id int NOT NULL AUTO_INCREMENT)",
            "auto_increment"
        ));
        assert!(!has_keyword(
            b"CREATE TABLE t (c int COMMENT 'AUTO_INCREMENT')",
            "auto_increment"
        ));
        assert!(starts_with_keyword(b"/*!40101 SET NAMES utf8 */", "set"));
        assert!(starts_with_keyword(
            b"-- c\ninsert INTO t VALUES (1)",
            "INSERT"
        ));
        assert!(!starts_with_keyword(b"SELECT 'set'", "set"));
    }

    proptest! {
        #[test]
        fn renaming_nothing_is_identity(sql in ".{0,80}") {
            prop_assert_eq!(rename_qualifiers(sql.as_bytes(), &renames(&[("zz_absent", "y")])), sql.as_bytes().to_vec());
        }

        #[test]
        fn use_round_trips_any_name(name in "[^\\x00]{1,20}") {
            let sql = format!("USE {}", quote_ident(&name));
            let st = database_statement(sql.as_bytes()).unwrap();
            prop_assert_eq!(st.name, name);
        }
    }
}
