//! `${var}`, `${var:=default}` and `${var:-default}` substitution, as KubeStash's
//! envsubst resolves Function images and args.

use std::collections::BTreeMap;

/// Replaces every `${...}` in `template` from `vars`; an unknown variable without a
/// default becomes empty. An unterminated `${` is kept literally.
pub fn substitute(template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        out.push_str(&resolve(&after[..end], vars));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn resolve(expr: &str, vars: &BTreeMap<String, String>) -> String {
    let (name, default) = match expr.find(":=").or_else(|| expr.find(":-")) {
        Some(i) => (&expr[..i], Some(&expr[i + 2..])),
        None => (expr, None),
    };
    match vars.get(name).filter(|v| !v.is_empty()) {
        Some(value) => value.clone(),
        None => default.unwrap_or_default().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("namespace".to_owned(), "demo".to_owned()),
            ("empty".to_owned(), String::new()),
        ])
    }

    #[test]
    fn substitutes_values_and_defaults() {
        let cases = [
            ("--namespace=${namespace:=default}", "--namespace=demo"),
            ("--wait-timeout=${waitTimeout:=300}", "--wait-timeout=300"),
            ("--x=${missing:=}", "--x="),
            ("--y=${missing}", "--y="),
            ("--e=${empty:=fallback}", "--e=fallback"),
            ("--d=${namespace:-other}", "--d=demo"),
            ("plain", "plain"),
            ("broken ${namespace", "broken ${namespace"),
            ("img:v1_${DB_VERSION}", "img:v1_"),
        ];
        for (template, want) in cases {
            assert_eq!(substitute(template, &vars()), want, "{template}");
        }
    }
}
