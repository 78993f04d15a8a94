//! Finding the line of a field in a block-style YAML document from its JSON pointer.
//!
//! serde_yaml does not keep positions in parsed values, so this walks the text the
//! way a reader would: a key is a line `key:` one level deeper than its parent, a
//! sequence item is a line starting with `- `. Flow style (`{a: 1}`) is not looked
//! into; the line of the nearest enclosing block is returned instead.

/// One non-blank, non-comment line, measured.
#[derive(Clone, Copy, Debug)]
struct Line<'a> {
    /// 0-based index in the document.
    index: usize,
    /// Column of the first character.
    indent: usize,
    /// Column of the key after any `- ` prefixes.
    key_column: usize,
    /// Number of `- ` prefixes.
    dashes: usize,
    /// The key, if the line (after the dashes) is `key:` or `key: value`.
    key: Option<&'a str>,
}

fn measure(index: usize, raw: &str) -> Option<Line<'_>> {
    let trimmed = raw.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    let indent = raw.len() - trimmed.len();
    let mut rest = trimmed;
    let mut key_column = indent;
    let mut dashes = 0;
    while let Some(after) = rest
        .strip_prefix("- ")
        .or_else(|| (rest == "-").then_some(""))
    {
        let inner = after.trim_start();
        key_column += rest.len() - inner.len();
        rest = inner;
        dashes += 1;
    }
    let key = rest
        .split_once(':')
        .filter(|(_, after)| after.is_empty() || after.starts_with([' ', '\t']))
        .map(|(k, _)| k.trim().trim_matches(['"', '\'']));
    Some(Line {
        index,
        indent,
        key_column,
        dashes,
        key,
    })
}

/// Where the walk stands: the line of the current node and the column its content
/// must be deeper than.
#[derive(Clone, Copy)]
struct Cursor {
    line: usize,
    column: Option<usize>,
    /// The current node is a sequence item whose first key may sit on its own line.
    item: bool,
}

/// The 0-based line of the document holding the field at `pointer` (RFC 6901), or the
/// line of its nearest enclosing node that could be found.
pub fn locate(document: &str, pointer: &str) -> usize {
    let lines: Vec<Line<'_>> = document
        .lines()
        .enumerate()
        .filter_map(|(i, l)| measure(i, l))
        .collect();
    let mut cursor = Cursor {
        line: lines.first().map_or(0, |l| l.index),
        column: None,
        item: false,
    };
    let mut first = true;
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        let found = match segment.parse::<usize>() {
            Ok(n) if !first => find_item(&lines, cursor, n),
            _ => find_key(&lines, cursor, &segment, first),
        };
        first = false;
        match found {
            Some(next) => cursor = next,
            None => break,
        }
    }
    cursor.line
}

fn find_key(lines: &[Line<'_>], at: Cursor, key: &str, root: bool) -> Option<Cursor> {
    let mut child_column = None;
    for line in lines.iter().filter(|l| {
        if root {
            true
        } else if at.item {
            l.index >= at.line
        } else {
            l.index > at.line
        }
    }) {
        let owns = at.item && line.index == at.line;
        if !owns && !root && at.column.is_some_and(|c| line.indent <= c) {
            return None;
        }
        let column = if owns { line.key_column } else { line.indent };
        let expected = *child_column.get_or_insert(column);
        if column == expected && line.key == Some(key) && (owns || line.dashes == 0) {
            return Some(Cursor {
                line: line.index,
                column: Some(column),
                item: false,
            });
        }
    }
    None
}

fn find_item(lines: &[Line<'_>], at: Cursor, n: usize) -> Option<Cursor> {
    let mut dash_column = None;
    let mut count = 0;
    for line in lines.iter().filter(|l| l.index > at.line) {
        if at.column.is_some_and(|c| line.indent < c) {
            return None;
        }
        let column = *dash_column.get_or_insert(line.indent);
        if line.indent < column || (line.indent == column && line.dashes == 0) {
            return None;
        }
        if line.indent == column && line.dashes > 0 {
            if count == n {
                return Some(Cursor {
                    line: line.index,
                    column: Some(column),
                    item: true,
                });
            }
            count += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::locate;

    const DOC: &str = "\
apiVersion: core.kubestash.com/v1alpha1
kind: BackupConfiguration
metadata:
  name: sample
spec:
  backends:
  - name: b
    storageRef: {name: s}
  sessions:
  - name: first
    scheduler:
      schedule: '*/5 * * * *'
  - name: second
    schedular:
      schedule: x
    repositories:
      - name: r
        directy: /x
";

    #[test]
    fn finds_nested_fields() {
        assert_eq!(locate(DOC, "/kind"), 1);
        assert_eq!(locate(DOC, "/spec/sessions/1/schedular"), 13);
        assert_eq!(locate(DOC, "/spec/sessions/0/name"), 9);
        assert_eq!(locate(DOC, "/spec/sessions/1/repositories/0/directy"), 17);
        assert_eq!(locate(DOC, "/spec/backends/0/storageRef/oops"), 7);
    }

    #[test]
    fn missing_field_points_at_parent() {
        assert_eq!(locate(DOC, "/spec/nothing"), 4);
    }
}
