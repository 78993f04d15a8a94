//! Splitting a multi-document YAML stream into documents, keeping the line each one
//! starts on so errors can point into the file.

/// One YAML document of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document<'a> {
    /// 1-based line of the file the document's first line is on.
    pub first_line: usize,
    /// The document's text (without its `---` separator line).
    pub text: &'a str,
}

impl Document<'_> {
    /// Whether the document holds nothing but blank lines and comments.
    pub fn is_empty(&self) -> bool {
        self.text.lines().all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#')
        })
    }
}

/// Splits `text` at `---` separator lines (and `...` end markers). Content after a
/// `--- ` on the separator line itself (`--- # comment`) is ignored; inline documents
/// (`--- {a: 1}`) are not supported by manifests and are kept as the next line's text.
pub fn split_documents(text: &str) -> Vec<Document<'_>> {
    let mut docs = Vec::new();
    let mut start = 0usize; // byte offset of the current document
    let mut start_line = 1usize;
    let mut offset = 0usize;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        if is_separator(bare) {
            docs.push(Document {
                first_line: start_line,
                text: &text[start..offset],
            });
            start = offset + line.len();
            start_line = index + 2;
        }
        offset += line.len();
    }
    docs.push(Document {
        first_line: start_line,
        text: &text[start..],
    });
    docs.retain(|d| !d.is_empty());
    docs
}

fn is_separator(line: &str) -> bool {
    let marker = |m: &str| {
        line == m
            || line
                .strip_prefix(m)
                .is_some_and(|rest| rest.starts_with([' ', '\t']) && rest.trim().starts_with('#'))
            || line
                .strip_prefix(m)
                .is_some_and(|rest| rest.trim().is_empty())
    };
    marker("---") || marker("...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_keeps_lines() {
        let text = "# header\n---\na: 1\n---\n\n--- # c\nb: 2\nc: 3\n";
        let docs = split_documents(text);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].first_line, 3);
        assert_eq!(docs[0].text, "a: 1\n");
        assert_eq!(docs[1].first_line, 7);
        assert_eq!(docs[1].text, "b: 2\nc: 3\n");
    }

    #[test]
    fn single_document_without_separator() {
        let docs = split_documents("a: 1\n");
        assert_eq!(
            docs,
            vec![Document {
                first_line: 1,
                text: "a: 1\n"
            }]
        );
    }
}
