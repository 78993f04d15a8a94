//! `$(VAR)` expansion in `env[].value`, `command` and `args`, with the rules of
//! Kubernetes' third_party/forked/golang/expansion: `$$` is a literal `$`, an unknown or
//! unclosed reference stays as written.

/// Expands `$(NAME)` in `input` with `lookup`.
pub fn expand(input: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    let mut literal_start = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' || i + 1 >= bytes.len() {
            i += 1;
            continue;
        }
        out.push_str(&input[literal_start..i]);
        match bytes[i + 1] {
            b'$' => {
                out.push('$');
                i += 2;
            }
            b'(' => match input[i + 2..].find(')') {
                Some(len) => {
                    let name = &input[i + 2..i + 2 + len];
                    match lookup(name) {
                        Some(v) => out.push_str(&v),
                        None => out.push_str(&input[i..i + 3 + len]),
                    }
                    i += 3 + len;
                }
                None => {
                    out.push_str(&input[i..]);
                    i = bytes.len();
                }
            },
            _ => {
                out.push('$');
                i += 1;
            }
        }
        literal_start = i;
    }
    if literal_start < bytes.len() {
        out.push_str(&input[literal_start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expansion_rules() {
        assert_eq!(expand("$(A)", look), "alpha");
        assert_eq!(expand("x-$(A)-y", look), "x-alpha-y");
        assert_eq!(expand("$(UNKNOWN)", look), "$(UNKNOWN)");
        assert_eq!(expand("$$(A)", look), "$(A)");
        assert_eq!(expand("$$$(A)", look), "$alpha");
        assert_eq!(expand("$(A", look), "$(A");
        assert_eq!(expand("a$b", look), "a$b");
        assert_eq!(expand("end$", look), "end$");
        assert_eq!(expand("$(EMPTY)z", look), "z");
        assert_eq!(expand("ünï$(A)çødé", look), "ünïalphaçødé");
    }
}
