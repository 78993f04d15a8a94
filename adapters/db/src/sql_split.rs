//! Streaming splitter of mysqldump-style SQL text into statements, as the `mysql` client does.
//!
//! Memory is bounded by one statement (plus a 64 KiB read buffer), whatever the input size.
//! Rules, matching the `mysql` command-line client:
//! - statements end at the current delimiter (`;` initially) outside quotes and comments;
//! - a `DELIMITER xx` line at the start of a statement changes the delimiter (`;;`, `//` ...);
//! - `-- ` and `#` line comments and plain `/* */` comments are dropped;
//! - executable comments (`/*!40101 ... */`, `/*M!100100 ... */`) and optimizer hints
//!   (`/*+ ... */`) are kept and sent to the server; their content is parsed like normal text;
//! - `'...'` and `"..."` strings honour backslash escapes and doubled quotes, `` `...` ``
//!   identifiers only doubled backticks;
//! - text left after the last delimiter at end of input is a final statement.

use std::io::Read;

/// Size of each read from the underlying source.
const READ_SIZE: usize = 64 * 1024;

/// Largest statement accepted by default (the server's `max_allowed_packet` ceiling is 1 GiB).
pub const DEFAULT_MAX_STATEMENT_BYTES: usize = 1 << 30;

/// One complete SQL statement, without its delimiter and without plain comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Statement text, trimmed; may hold non-UTF-8 bytes (binary string literals).
    pub sql: Vec<u8>,
    /// 1-based input line on which the statement starts.
    pub line: u64,
}

impl Statement {
    /// The statement as text, with invalid UTF-8 replaced (for messages and matching only).
    pub fn text_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.sql)
    }
}

/// Errors while splitting SQL text.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    /// The source could not be read.
    #[error("cannot read the SQL input near line {line}: {source}; check the snapshot or file")]
    Io {
        /// Line being read.
        line: u64,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Input ended inside a quoted string or identifier.
    #[error("the SQL input ends inside a {what} opened on line {line}; the dump is truncated or damaged")]
    Unterminated {
        /// "string" or "quoted identifier" or "comment".
        what: &'static str,
        /// Line where it was opened.
        line: u64,
    },
    /// One statement exceeded the size limit.
    #[error("the statement starting on line {line} is larger than {limit} bytes; the dump is damaged or the limit too small")]
    TooLarge {
        /// Line where the statement starts.
        line: u64,
        /// Limit in bytes.
        limit: usize,
    },
    /// A `DELIMITER` command without a delimiter.
    #[error("empty DELIMITER command on line {line}; the dump is damaged")]
    EmptyDelimiter {
        /// Line of the command.
        line: u64,
    },
}

/// Lexical state between bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    Normal,
    /// Inside a quoted string or identifier closed by this byte.
    Quoted(u8),
    LineComment,
    BlockComment,
}

/// Iterator over the statements of a SQL text read from `R`.
pub struct StatementSplitter<R> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    failed: bool,
    delimiter: Vec<u8>,
    line: u64,
    max_statement_bytes: usize,
}

impl<R: Read> StatementSplitter<R> {
    /// A splitter with the default statement size limit.
    pub fn new(src: R) -> Self {
        Self::with_limit(src, DEFAULT_MAX_STATEMENT_BYTES)
    }

    /// A splitter refusing statements larger than `max_statement_bytes`.
    pub fn with_limit(src: R, max_statement_bytes: usize) -> Self {
        StatementSplitter {
            src,
            buf: vec![0; READ_SIZE * 2],
            pos: 0,
            end: 0,
            eof: false,
            failed: false,
            delimiter: b";".to_vec(),
            line: 1,
            max_statement_bytes,
        }
    }

    /// The current delimiter (changed by `DELIMITER` commands).
    pub fn delimiter(&self) -> &[u8] {
        &self.delimiter
    }

    /// Ensures at least `n` unread bytes are buffered, unless the input ends first.
    fn fill(&mut self, n: usize) -> Result<(), SplitError> {
        while self.end - self.pos < n && !self.eof {
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.end, 0);
                self.end -= self.pos;
                self.pos = 0;
            }
            if self.buf.len() < self.end + READ_SIZE {
                self.buf.resize(self.end + READ_SIZE, 0);
            }
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(SplitError::Io {
                        line: self.line,
                        source,
                    })
                }
            }
        }
        Ok(())
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// If a `DELIMITER` command starts here, consumes its line and returns the new delimiter.
    fn try_delimiter_command(&mut self) -> Result<Option<Vec<u8>>, SplitError> {
        const WORD: &[u8] = b"delimiter";
        self.fill(WORD.len() + 1)?;
        let avail = self.available();
        if avail.len() <= WORD.len()
            || !avail[..WORD.len()].eq_ignore_ascii_case(WORD)
            || !matches!(avail[WORD.len()], b' ' | b'\t')
        {
            return Ok(None);
        }
        // Read the rest of the line (bounded: a delimiter line is short).
        let mut line = Vec::new();
        loop {
            self.fill(1)?;
            let Some(&b) = self.available().first() else {
                break;
            };
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
                break;
            }
            if line.len() < 4096 {
                line.push(b);
            }
        }
        let rest = &line[WORD.len()..];
        let token: Vec<u8> = rest
            .iter()
            .copied()
            .skip_while(|b| b.is_ascii_whitespace())
            .take_while(|b| !b.is_ascii_whitespace())
            .collect();
        if token.is_empty() {
            return Err(SplitError::EmptyDelimiter {
                line: self.line.saturating_sub(1),
            });
        }
        Ok(Some(token))
    }

    /// Reads the next statement; `None` at end of input.
    fn next_statement(&mut self) -> Result<Option<Statement>, SplitError> {
        let mut sql: Vec<u8> = Vec::new();
        let mut start_line = self.line;
        let mut lex = Lex::Normal;
        let mut opened_line = self.line;
        let mut at_line_start = true;
        loop {
            if self.end - self.pos < 16 {
                self.fill(16.max(self.delimiter.len()))?;
            }
            if self.pos == self.end {
                return self.finish(sql, start_line, lex, opened_line);
            }
            if sql.len() > self.max_statement_bytes {
                return Err(SplitError::TooLarge {
                    line: start_line,
                    limit: self.max_statement_bytes,
                });
            }
            let b = self.buf[self.pos];
            match lex {
                Lex::Quoted(q) => {
                    self.pos += 1;
                    sql.push(b);
                    if b == b'\n' {
                        self.line += 1;
                    } else if b == b'\\' && q != b'`' {
                        // The escaped byte is literal, even a quote or a newline.
                        self.fill(1)?;
                        if let Some(&e) = self.available().first() {
                            self.pos += 1;
                            sql.push(e);
                            if e == b'\n' {
                                self.line += 1;
                            }
                        }
                    } else if b == q {
                        // A doubled quote reopens at once: same result as an escape.
                        lex = Lex::Normal;
                    }
                }
                Lex::LineComment => {
                    self.pos += 1;
                    if b == b'\n' {
                        self.line += 1;
                        lex = Lex::Normal;
                        at_line_start = true;
                        if !sql.is_empty() {
                            sql.push(b'\n');
                        }
                    }
                }
                Lex::BlockComment => {
                    self.pos += 1;
                    if b == b'\n' {
                        self.line += 1;
                    } else if b == b'*' && self.available().first() == Some(&b'/') {
                        self.pos += 1;
                        lex = Lex::Normal;
                        if !sql.is_empty() {
                            sql.push(b' ');
                        }
                    }
                }
                Lex::Normal => {
                    if sql.is_empty() {
                        if b.is_ascii_whitespace() {
                            self.pos += 1;
                            if b == b'\n' {
                                self.line += 1;
                                at_line_start = true;
                            }
                            continue;
                        }
                        if at_line_start {
                            if let Some(d) = self.try_delimiter_command()? {
                                self.delimiter = d;
                                continue;
                            }
                        }
                        start_line = self.line;
                    }
                    at_line_start = false;
                    let avail = &self.buf[self.pos..self.end];
                    if avail.starts_with(&self.delimiter) {
                        self.pos += self.delimiter.len();
                        if sql.is_empty() {
                            continue; // an empty statement, like the client we skip it
                        }
                        trim_end(&mut sql);
                        return Ok(Some(Statement {
                            sql,
                            line: start_line,
                        }));
                    }
                    match b {
                        b'\'' | b'"' | b'`' => {
                            lex = Lex::Quoted(b);
                            opened_line = self.line;
                            sql.push(b);
                            self.pos += 1;
                        }
                        b'#' => {
                            lex = Lex::LineComment;
                            self.pos += 1;
                        }
                        b'-' if avail.len() >= 2
                            && avail[1] == b'-'
                            && avail.get(2).is_none_or(|c| *c <= b' ') =>
                        {
                            lex = Lex::LineComment;
                            self.pos += 2;
                        }
                        b'/' if avail.get(1) == Some(&b'*') => {
                            let executable = matches!(avail.get(2), Some(b'!') | Some(b'+'))
                                || (avail.get(2) == Some(&b'M') && avail.get(3) == Some(&b'!'));
                            if executable {
                                sql.extend_from_slice(b"/*");
                            } else {
                                lex = Lex::BlockComment;
                                opened_line = self.line;
                            }
                            self.pos += 2;
                        }
                        _ => {
                            if b == b'\n' {
                                self.line += 1;
                            }
                            sql.push(b);
                            self.pos += 1;
                        }
                    }
                }
            }
        }
    }

    /// End of input: the pending text is a last statement, unless a quote is still open.
    fn finish(
        &mut self,
        mut sql: Vec<u8>,
        line: u64,
        lex: Lex,
        opened_line: u64,
    ) -> Result<Option<Statement>, SplitError> {
        match lex {
            Lex::Quoted(q) => Err(SplitError::Unterminated {
                what: if q == b'`' {
                    "quoted identifier"
                } else {
                    "string"
                },
                line: opened_line,
            }),
            Lex::BlockComment => Err(SplitError::Unterminated {
                what: "comment",
                line: opened_line,
            }),
            Lex::Normal | Lex::LineComment => {
                trim_end(&mut sql);
                Ok((!sql.is_empty()).then_some(Statement { sql, line }))
            }
        }
    }
}

fn trim_end(sql: &mut Vec<u8>) {
    while sql.last().is_some_and(|b| b.is_ascii_whitespace()) {
        sql.pop();
    }
}

impl<R: Read> Iterator for StatementSplitter<R> {
    type Item = Result<Statement, SplitError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_statement() {
            Ok(s) => s.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(input: &str) -> Vec<String> {
        StatementSplitter::new(input.as_bytes())
            .map(|s| String::from_utf8(s.unwrap().sql).unwrap())
            .collect()
    }

    /// A reader handing out at most `step` bytes per call, to cross buffer boundaries.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn splits_simple_statements_and_drops_comments() {
        let got = split("-- header\n# hash\nSELECT 1;\n/* plain */ SELECT 2 ; ;\nSELECT 3");
        assert_eq!(got, ["SELECT 1", "SELECT 2", "SELECT 3"]);
    }

    #[test]
    fn keeps_executable_comments_and_hints() {
        let got = split(
            "/*!40101 SET NAMES utf8mb4 */;\n/*M!100100 SET x=1 */;\nSELECT /*+ NO_ICP(t) */ 1;",
        );
        assert_eq!(
            got,
            [
                "/*!40101 SET NAMES utf8mb4 */",
                "/*M!100100 SET x=1 */",
                "SELECT /*+ NO_ICP(t) */ 1"
            ]
        );
    }

    #[test]
    fn delimiters_inside_quotes_and_escapes_are_text() {
        let input = r#"INSERT INTO `a;b` VALUES ('x;\'y', "q\";", 'it''s;', `c``;`);"#;
        assert_eq!(split(input), [&input[..input.len() - 1]]);
    }

    #[test]
    fn comment_markers_inside_strings_are_text() {
        let got = split("SELECT '-- no', '# no', '/* no */';");
        assert_eq!(got, ["SELECT '-- no', '# no', '/* no */'"]);
    }

    #[test]
    fn double_dash_needs_whitespace() {
        assert_eq!(split("SELECT 1--1;"), ["SELECT 1--1"]);
        assert_eq!(split("SELECT 1 --1;"), ["SELECT 1 --1"]);
        assert_eq!(split("SELECT 1 -- c;\n;"), ["SELECT 1"]);
    }

    #[test]
    fn delimiter_command_changes_terminator() {
        let input = "DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 2; END */;;\nDELIMITER ;\nSELECT 1;";
        assert_eq!(
            split(input),
            [
                "/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 2; END */",
                "SELECT 1"
            ]
        );
        let input =
            "delimiter //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\ndelimiter ;\nCALL p();";
        assert_eq!(
            split(input),
            ["CREATE PROCEDURE p() BEGIN SELECT 1; END", "CALL p()"]
        );
    }

    #[test]
    fn delimiter_word_inside_a_statement_is_text() {
        assert_eq!(split("SELECT\ndelimiter ;"), ["SELECT\ndelimiter"]);
    }

    #[test]
    fn reports_start_lines() {
        let lines: Vec<u64> =
            StatementSplitter::new("\n\nSELECT 1;\n-- c\nSELECT\n'a\nb';\nSELECT 3;".as_bytes())
                .map(|s| s.unwrap().line)
                .collect();
        assert_eq!(lines, [3, 5, 8]);
    }

    #[test]
    fn unterminated_string_is_an_error() {
        let mut it = StatementSplitter::new("SELECT 1;\nSELECT 'abc;".as_bytes());
        assert!(it.next().unwrap().is_ok());
        let err = it.next().unwrap().unwrap_err();
        assert!(
            matches!(err, SplitError::Unterminated { line: 2, .. }),
            "{err}"
        );
        assert!(it.next().is_none());
    }

    #[test]
    fn too_large_statement_is_an_error() {
        let mut it =
            StatementSplitter::with_limit("SELECT 'aaaaaaaaaaaaaaaaaaaaaaa';".as_bytes(), 8);
        assert!(matches!(
            it.next().unwrap(),
            Err(SplitError::TooLarge { .. })
        ));
    }

    #[test]
    fn keeps_binary_bytes() {
        let input = b"INSERT INTO t VALUES (_binary '\xff\x00\\'\\'');";
        let got: Vec<Statement> = StatementSplitter::new(&input[..])
            .map(|s| s.unwrap())
            .collect();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].sql, input[..input.len() - 1].to_vec());
    }

    #[test]
    fn huge_multi_row_insert_crosses_buffers() {
        let mut input = String::from("INSERT INTO t VALUES ");
        for i in 0..50_000 {
            input.push_str(&format!("({i},'v;{i}\\'x'),\n"));
        }
        input.push_str("(0,'end');\nSELECT 1;");
        let got = split(&input);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), input.len() - ";\nSELECT 1;".len());
    }

    /// Fragments that statements are built from: each is a valid piece of a statement.
    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z_][A-Za-z0-9_]{0,8}",
            "[0-9]{1,5}",
            Just("(".to_string()),
            Just(")".to_string()),
            Just(",".to_string()),
            Just("-".to_string()),
            Just("/".to_string()),
            Just("*".to_string()),
            // strings with delimiters, escapes, doubled quotes and comment markers inside
            "[a-z;'\"`#/*\\\\\\-\n ]{0,12}"
                .prop_map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))),
            "[a-z;'\"`#/*\\\\\\-\n ]{0,12}"
                .prop_map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))),
            "[a-z;'\"#/*\\\\\\-\n ]{0,12}".prop_map(|s| format!("`{}`", s.replace('`', "``"))),
            "[a-z' ]{0,10}".prop_map(|s| format!("/*!40101 {} */", s.replace('\'', ""))),
        ]
    }

    fn statement() -> impl Strategy<Value = String> {
        proptest::collection::vec(fragment(), 1..8).prop_map(|f| f.join(" "))
    }

    fn separator() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(";\n".to_string()),
            Just(";".to_string()),
            Just(" ;\n\n".to_string()),
            "[a-z ;']{0,10}".prop_map(|c| format!(";\n-- {c}\n")),
            "[a-z ;']{0,10}".prop_map(|c| format!(";\n# {c}\n")),
            "[a-z ;'\n]{0,10}".prop_map(|c| format!("; /* {c} */\n")),
        ]
    }

    proptest! {
        #[test]
        fn splitting_a_concatenation_gives_the_statements_back(
            parts in proptest::collection::vec((statement(), separator()), 1..12),
            step in 1usize..40,
        ) {
            let mut input = String::new();
            for (stmt, sep) in &parts {
                input.push_str(stmt);
                input.push_str(sep);
            }
            let got: Vec<String> = StatementSplitter::new(Trickle { data: input.as_bytes(), step })
                .map(|s| String::from_utf8(s.unwrap().sql).unwrap())
                .collect();
            let want: Vec<String> = parts.iter().map(|(s, _)| s.trim().to_string()).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn custom_delimiter_blocks_round_trip(
            bodies in proptest::collection::vec(proptest::collection::vec(statement(), 1..4), 1..4),
            delim in prop_oneof![Just(";;"), Just("//"), Just("$$")],
        ) {
            let mut input = format!("DELIMITER {delim}\n");
            let mut want = Vec::new();
            for body in &bodies {
                let block = format!("CREATE PROCEDURE p() BEGIN {}; END", body.join("; "));
                input.push_str(&block);
                input.push_str(delim);
                input.push('\n');
                want.push(block);
            }
            input.push_str("DELIMITER ;\nSELECT 1;\n");
            want.push("SELECT 1".to_string());
            prop_assume!(!want.iter().any(|w| w.contains(delim)));
            prop_assert_eq!(split(&input), want);
        }
    }
}
