//! Hostile manifests: `load_str` never panics, and every rejection names the file and a
//! line of it (`demo.yaml:LINE: ...`), whatever the input.
//!
//! proptest on the stable toolchain (no cargo-fuzz sanitizers), two generators: arbitrary
//! text, and the KubeStash sample manifests mutated line by line the way YAML breaks in
//! practice (keys deleted, renamed or re-indented, values of the wrong type, huge numbers,
//! bad base64 in Secrets, unknown kinds, `---` garbage between documents, deep nesting,
//! alias bombs). A panic fails the test.

use std::path::Path;

use cairn_local::manifest::load_str;
use proptest::prelude::*;

const FILE: &str = "demo.yaml";

/// Valid documents to mutate: every kind's sample, a Secret and a Namespace.
const SEEDS: &[&str] = &[
    include_str!("../../../core/tests/fixtures/addon-singlestore-addon.yaml"),
    include_str!("../../../core/tests/fixtures/appbinding-sdb-sample.yaml"),
    include_str!("../../../core/tests/fixtures/backupconfiguration-sample-sdb-backup.yaml"),
    include_str!(
        "../../../core/tests/fixtures/backupsession-sample-sdb-backup-frequent-backup-1724065200.yaml"
    ),
    include_str!("../../../core/tests/fixtures/backupstorage-gcs-storage.yaml"),
    include_str!("../../../core/tests/fixtures/backupstorage-s3.yaml"),
    include_str!("../../../core/tests/fixtures/function-singlestore-backup.yaml"),
    include_str!("../../../core/tests/fixtures/hooktemplate-sdb-flush.yaml"),
    include_str!("../../../core/tests/fixtures/repository-gcs-sdb-repo.yaml"),
    include_str!("../../../core/tests/fixtures/restoresession-restore-sample-singlestore.yaml"),
    include_str!("../../../core/tests/fixtures/retentionpolicy-demo-retention.yaml"),
    include_str!(
        "../../../core/tests/fixtures/snapshot-gcs-sdb-repo-sample-sdb-backup-frequent-backup-1724065200.yaml"
    ),
    SECRET,
    NAMESPACE,
];

const SECRET: &str = "\
apiVersion: v1
kind: Secret
metadata:
  name: gcs-secret
  namespace: demo
data:
  GOOGLE_PROJECT_ID: YXBwc2NvZGUtdGVzdGluZw==
stringData:
  RESTIC_PASSWORD: changeit
";

const NAMESPACE: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: demo
  labels: {team: db}
";

/// Values of the wrong type or size, and YAML features manifests never use.
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("99999999999999999999999999999999".to_owned()),
        Just("-1".to_owned()),
        Just("1e400".to_owned()),
        Just(".nan".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just("~".to_owned()),
        Just("!!binary AAAA".to_owned()),
        Just("!custom tag".to_owned()),
        Just("*nope".to_owned()),
        Just("&a x".to_owned()),
        Just("\"\\u0000\"".to_owned()),
        Just("'unterminated".to_owned()),
        Just("\"bad \\q escape\"".to_owned()),
        Just("!!!not-base64!!!".to_owned()),
        Just("Zm9v!".to_owned()),
        Just("/w==".to_owned()), // valid base64, not UTF-8
        Just("x".repeat(10_000)),
        Just("../../etc/passwd".to_owned()),
        Just("Bad_Name".to_owned()),
        (1usize..300).prop_map(|d| format!("{}1{}", "[".repeat(d), "]".repeat(d))),
        (1usize..300).prop_map(|d| "{a: ".repeat(d) + "1" + &"}".repeat(d)),
        "\\PC{0,16}",
    ]
}

/// One line-level edit of a YAML document.
#[derive(Debug, Clone)]
enum Edit {
    DeleteLine,
    DuplicateLine,
    RenameKey(String),
    ReplaceValue(String),
    Indent(usize),
    Dedent,
    InsertLine(String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        Just(Edit::DeleteLine),
        Just(Edit::DuplicateLine),
        prop_oneof![
            "[a-zA-Z]{1,12}",
            Just("kind".to_owned()),
            Just("apiVersion".to_owned()),
            Just("metadata".to_owned()),
            Just("\"quoted key\"".to_owned()),
            Just("? complex".to_owned()),
        ]
        .prop_map(Edit::RenameKey),
        hostile_value().prop_map(Edit::ReplaceValue),
        (1usize..6).prop_map(Edit::Indent),
        Just(Edit::Dedent),
        prop_oneof![
            Just("---".to_owned()),
            Just("--- {a: 1}".to_owned()),
            Just("--- garbage: [".to_owned()),
            Just("...".to_owned()),
            Just("kind: Unknown".to_owned()),
            Just("kind: Secret".to_owned()),
            Just("apiVersion: v2".to_owned()),
            Just("%YAML 1.2".to_owned()),
            Just("\t".to_owned()),
            Just("- item".to_owned()),
            Just("a: &x [*x]".to_owned()),
            "\\PC{0,20}",
        ]
        .prop_map(Edit::InsertLine),
    ]
}

fn apply(lines: &mut Vec<String>, at: usize, e: &Edit) {
    if lines.is_empty() {
        lines.push(String::new());
    }
    let i = at % lines.len();
    match e {
        Edit::DeleteLine => {
            lines.remove(i);
        }
        Edit::DuplicateLine => {
            let l = lines[i].clone();
            lines.insert(i, l);
        }
        Edit::RenameKey(k) => {
            if let Some((indent_key, rest)) = lines[i].split_once(':') {
                let indent = indent_key.len() - indent_key.trim_start().len();
                let dash = if indent_key.trim_start().starts_with("- ") {
                    "- "
                } else {
                    ""
                };
                lines[i] = format!("{}{dash}{k}:{rest}", " ".repeat(indent));
            }
        }
        Edit::ReplaceValue(v) => {
            if let Some((key, _)) = lines[i].split_once(": ") {
                lines[i] = format!("{key}: {v}");
            } else if let Some(key) = lines[i].strip_suffix(':') {
                lines[i] = format!("{key}: {v}");
            }
        }
        Edit::Indent(n) => lines[i] = format!("{}{}", " ".repeat(*n), lines[i]),
        Edit::Dedent => lines[i] = lines[i].trim_start().to_owned(),
        Edit::InsertLine(l) => lines.insert(i, l.clone()),
    }
}

/// The loader's contract on any input: no panic; an error names `demo.yaml` and a line
/// of the input (or the line after its end, for errors at end of stream), on one line.
fn check(text: &str) {
    let Err(e) = load_str(text, Path::new(FILE)) else {
        return;
    };
    let msg = e.to_string();
    let rest = msg
        .strip_prefix("demo.yaml:")
        .unwrap_or_else(|| panic!("error without the file: {msg:?}"));
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let line: usize = digits
        .parse()
        .unwrap_or_else(|_| panic!("error without a line: {msg:?}"));
    let lines = text.lines().count().max(1);
    assert!(
        (1..=lines + 1).contains(&line),
        "line {line} outside 1..={} in {msg:?}",
        lines + 1
    );
    assert!(!msg.contains('\n'), "multi-line error: {msg:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_manifests_never_panic(
        seeds in proptest::collection::vec(0..SEEDS.len(), 1..3),
        edits in proptest::collection::vec((any::<usize>(), edit()), 1..5),
    ) {
        let text = seeds.iter().map(|&i| SEEDS[i]).collect::<Vec<_>>().join("---\n");
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        for (at, e) in &edits {
            apply(&mut lines, *at, e);
        }
        check(&lines.join("\n"));
    }
}

#[test]
fn the_seeds_load() {
    for seed in SEEDS {
        if let Err(e) = load_str(seed, Path::new(FILE)) {
            panic!("{e}\n{seed}");
        }
    }
}

fn error(text: &str) -> String {
    load_str(text, Path::new(FILE)).unwrap_err().to_string()
}

#[test]
fn bad_base64_names_the_key_not_the_value() {
    let text = SECRET.replace("YXBwc2NvZGUtdGVzdGluZw==", "hunter2!!!");
    let msg = error(&text);
    assert_eq!(
        msg,
        "demo.yaml:1: Secret demo/gcs-secret: data.GOOGLE_PROJECT_ID is not valid base64; put \
         plain text under stringData instead"
    );
    assert!(!msg.contains("hunter2"));
}

#[test]
fn alias_bombs_and_deep_nesting_are_errors_not_hangs() {
    // "Billion laughs": each level refers to the previous one nine times.
    let mut bomb = String::from("a: &a [\"lol\"]\n");
    for (prev, next) in ('a'..'i').zip('b'..='i') {
        let refs = vec![format!("*{prev}"); 9].join(", ");
        bomb.push_str(&format!("{next}: &{next} [{refs}]\n"));
    }
    let msg = error(&bomb);
    assert!(msg.starts_with("demo.yaml:"), "{msg}");
    let deep = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: x}}\nspec: {}1{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let msg = error(&deep);
    assert!(msg.starts_with("demo.yaml:4:"), "{msg}");
}

#[test]
fn garbage_between_documents_points_at_its_line() {
    let text = format!("{NAMESPACE}---\n: : garbage [\n---\n{SECRET}");
    let msg = error(&text);
    assert!(msg.starts_with("demo.yaml:7:"), "{msg}");
}
