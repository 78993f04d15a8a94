//! Hostile snapshots: the native manifest reader (`Manifest::from_json`), the restore
//! planner (`plan_restore`) and the objects-file parser never panic on bytes an attacker
//! (or a damaged repository) controls, and refuse what a restore must not do: files
//! outside the snapshot layout, tables listed twice, writes into system databases.
//!
//! proptest on the stable toolchain, two generators: arbitrary bytes, and a valid
//! manifest taken apart by structure-aware mutations (keys deleted or retyped, hostile
//! names and paths, huge counts, deep nesting). A panic fails the test.

use cairn_db::flavor::{Flavor, ServerInfo};
use cairn_db::manifest::{
    data_path, database_schema_path, objects_path, table_schema_path, ChunkEntry, ColumnEncoding,
    ColumnEntry, Consistency, DatabaseEntry, Manifest, ObjectEntry, ObjectKind, TableEntry, FORMAT,
};
use cairn_db::restore_plan::{plan_restore, refuse_system_targets, PlanError, RestoreOptions};
use cairn_db::row_format::quote_ident;
use cairn_db::schema::{parse_objects, render_objects, ObjectStatement};
use cairn_db::sql_dump::comment_text;
use proptest::prelude::*;
use serde_json::{json, Value};

fn table(db: &str, name: &str, rows: u64) -> TableEntry {
    TableEntry {
        name: name.into(),
        schema_path: table_schema_path(db, name),
        columns: vec![ColumnEntry {
            name: "id".into(),
            data_type: "int".into(),
            dumped: true,
            encoding: ColumnEncoding::Text,
        }],
        rows,
        checksum: "0".repeat(16),
        chunks: vec![ChunkEntry {
            path: data_path(db, name, 1),
            rows,
        }],
        primary_key: vec!["id".into()],
        engine: "InnoDB".into(),
        key_step: None,
    }
}

fn database(name: &str, tables: &[&str]) -> DatabaseEntry {
    DatabaseEntry {
        name: name.into(),
        schema_path: database_schema_path(name),
        tables: tables.iter().map(|t| table(name, t, 2)).collect(),
        objects: vec![ObjectEntry {
            kind: ObjectKind::View,
            name: "v".into(),
            path: objects_path(name, ObjectKind::View),
        }],
    }
}

fn manifest(databases: Vec<DatabaseEntry>) -> Manifest {
    Manifest {
        format: FORMAT.into(),
        tool_version: "0.1.0".into(),
        server: ServerInfo {
            flavor: Flavor::MariaDb,
            version: "10.11".into(),
        },
        consistency: Consistency::ConsistentSnapshot,
        row_digest: Default::default(),
        databases,
    }
}

fn sample() -> Manifest {
    manifest(vec![
        database("shop", &["orders", "users"]),
        database("crm", &["notes"]),
    ])
}

/// Strings an attacker would put in names and paths.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/../../etc/passwd".to_owned()),
        Just("../x".to_owned()),
        Just("/data/./x".to_owned()),
        Just("/data//x".to_owned()),
        Just("relative/path".to_owned()),
        Just(String::new()),
        Just("/".to_owned()),
        Just("a\0b".to_owned()),
        Just("x`; DROP DATABASE victim; --".to_owned()),
        Just("mysql".to_owned()),
        Just("INFORMATION_SCHEMA".to_owned()),
        Just("performance_schema".to_owned()),
        Just("sys".to_owned()),
        Just("é\u{202e}\u{feff}".to_owned()),
        Just("a".repeat(70_000)),
        "\\PC{0,20}",
        any::<String>(),
    ]
}

/// Values of the wrong type, huge or deeply nested.
fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        hostile_string().prop_map(Value::from),
        Just(Value::Null),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(1e308)),
        Just(json!(true)),
        Just(json!([])),
        Just(json!({})),
        (1usize..200).prop_map(|depth| {
            let mut v = json!(1);
            for _ in 0..depth {
                v = json!([v]);
            }
            v
        }),
    ]
}

/// One structure-aware mutation of a JSON tree, at a node chosen by `pick`.
#[derive(Debug, Clone)]
enum Mutation {
    Delete,
    Replace(Value),
    Rename(String),
    Duplicate,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Delete),
        hostile_value().prop_map(Mutation::Replace),
        "[a-z_]{1,12}".prop_map(Mutation::Rename),
        Just(Mutation::Duplicate),
    ]
}

/// Applies `m` at the `pick`-th node of `v` (pre-order, modulo the node count).
fn mutate(v: &mut Value, pick: usize, m: &Mutation) {
    fn count(v: &Value) -> usize {
        1 + match v {
            Value::Array(a) => a.iter().map(count).sum(),
            Value::Object(o) => o.values().map(count).sum(),
            _ => 0,
        }
    }
    fn walk(v: &mut Value, n: &mut usize, m: &Mutation) -> bool {
        let children: usize = match v {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => 0,
        };
        for i in 0..children {
            if *n == 0 {
                apply(v, i, m);
                return true;
            }
            *n -= 1;
            let child = match v {
                Value::Array(a) => &mut a[i],
                Value::Object(o) => o.values_mut().nth(i).unwrap(),
                _ => unreachable!(),
            };
            if walk(child, n, m) {
                return true;
            }
        }
        false
    }
    fn apply(parent: &mut Value, i: usize, m: &Mutation) {
        match parent {
            Value::Array(a) => match m {
                Mutation::Delete => {
                    a.remove(i);
                }
                Mutation::Replace(x) => a[i] = x.clone(),
                Mutation::Rename(_) | Mutation::Duplicate => {
                    let x = a[i].clone();
                    a.insert(i, x);
                }
            },
            Value::Object(o) => {
                let key = o.keys().nth(i).unwrap().clone();
                match m {
                    Mutation::Delete => {
                        o.remove(&key);
                    }
                    Mutation::Replace(x) => {
                        o.insert(key, x.clone());
                    }
                    Mutation::Rename(to) => {
                        let x = o.remove(&key).unwrap();
                        o.insert(to.clone(), x);
                    }
                    Mutation::Duplicate => {}
                }
            }
            _ => {}
        }
    }
    let total = count(v);
    let mut n = pick % total;
    walk(v, &mut n, m);
}

fn options() -> impl Strategy<Value = RestoreOptions> {
    let names = proptest::collection::vec(
        prop_oneof![
            Just("shop".to_owned()),
            Just("crm".to_owned()),
            Just("mysql".to_owned()),
            hostile_string()
        ],
        0..3,
    );
    (
        proptest::option::of(names.clone()),
        proptest::option::of(names.clone()),
        proptest::collection::vec((names.clone(), names), 0..2),
    )
        .prop_map(|(databases, tables, rename)| RestoreOptions {
            databases,
            tables,
            rename: rename
                .into_iter()
                .filter_map(|(a, b)| Some((a.first()?.clone(), b.first()?.clone())))
                .collect(),
            ..Default::default()
        })
}

/// What a plan accepted from any manifest must satisfy.
fn check_plan(m: &Manifest, opts: &RestoreOptions) {
    let Ok(plan) = plan_restore(m, opts) else {
        return;
    };
    let _ = (plan.row_count(), plan.table_count());
    for d in &plan.databases {
        assert!(
            !m.server.flavor.is_system_database(&d.target),
            "planned a restore into system database {:?}",
            d.target
        );
        let paths = std::iter::once(&d.schema_path)
            .chain(d.tables.iter().map(|t| &t.schema_path))
            .chain(
                d.tables
                    .iter()
                    .flat_map(|t| t.chunks.iter().map(|c| &c.path)),
            )
            .chain(d.objects.iter().map(|o| &o.path));
        for p in paths {
            assert!(
                p.starts_with('/') && !p.split('/').any(|s| s == ".."),
                "planned path {p:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn from_json_is_total_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Manifest::from_json(&bytes);
    }

    #[test]
    fn mutated_manifests_never_panic(
        mutations in proptest::collection::vec((any::<usize>(), mutation()), 1..4),
        opts in options(),
    ) {
        let mut v = serde_json::to_value(sample()).unwrap();
        for (pick, m) in &mutations {
            mutate(&mut v, *pick, m);
        }
        let bytes = serde_json::to_vec(&v).unwrap();
        match Manifest::from_json(&bytes) {
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("cannot parse /manifest.json") || msg.starts_with("/manifest.json has format"), "{}", msg);
            }
            Ok(m) => check_plan(&m, &opts),
        }
    }

    #[test]
    fn hostile_names_and_paths_never_panic(
        db in hostile_string(),
        t in hostile_string(),
        path in hostile_string(),
        rows in any::<u64>(),
        opts in options(),
    ) {
        let mut m = manifest(vec![database(&db, &["t"]), database("shop", &["orders"])]);
        m.databases[0].tables.push(table(&db, &t, rows));
        m.databases[1].tables[0].chunks[0].path = path;
        m.databases[1].tables[0].rows = rows;
        check_plan(&m, &opts);
        check_plan(&m, &RestoreOptions::default());
    }

    #[test]
    fn objects_file_parser_is_total(
        text in prop_oneof![
            any::<String>(),
            (hostile_string(), any::<usize>(), "[a-zA-Z_,]{0,20}").prop_map(|(name, len, mode)| {
                format!("-- cairn:object view {name} length={len} sql_mode={mode}\nCREATE VIEW v AS SELECT 1\n")
            }),
        ],
    ) {
        let _ = parse_objects(&text);
    }

    #[test]
    fn objects_file_round_trips_hostile_names(name in hostile_string(), sql in any::<String>()) {
        let st = ObjectStatement { kind: ObjectKind::Trigger, name, sql_mode: None, sql };
        prop_assert_eq!(parse_objects(&render_objects(std::slice::from_ref(&st))).unwrap(), vec![st]);
    }

    #[test]
    fn dump_comments_stay_on_one_line(name in hostile_string()) {
        let line = comment_text(&quote_ident(&name));
        prop_assert!(!line.contains(['\n', '\r']), "{:?}", line);
    }
}

fn plan_err(m: &Manifest, opts: &RestoreOptions) -> String {
    plan_restore(m, opts).unwrap_err().to_string()
}

#[test]
fn path_traversal_is_refused_with_the_file_named() {
    let mut m = sample();
    m.databases[0].tables[0].chunks[0].path = "/../../etc/passwd".into();
    assert_eq!(
        plan_err(&m, &RestoreOptions::default()),
        "/manifest.json names the file \"/../../etc/passwd\" in database \"shop\": not a plain \
         absolute path inside the snapshot (it must start with `/` and have no empty, `.` or `..` \
         segment); the snapshot is damaged or was not written by cairn"
    );
    for bad in ["etc/passwd", "/data//x", "/data/./x", "/data/x\0", ""] {
        let mut m = sample();
        m.databases[1].objects[0].path = bad.into();
        assert!(
            matches!(
                plan_restore(&m, &RestoreOptions::default()),
                Err(PlanError::DamagedManifest { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn duplicate_tables_and_databases_are_refused() {
    let mut m = sample();
    let dup = m.databases[0].tables[0].clone();
    m.databases[0].tables.push(dup);
    assert_eq!(
        plan_err(&m, &RestoreOptions::default()),
        "/manifest.json lists table \"orders\" of database \"shop\" twice; the snapshot is \
         damaged or was not written by cairn"
    );
    let mut m = sample();
    let dup = m.databases[1].clone();
    m.databases.push(dup);
    assert!(plan_err(&m, &RestoreOptions::default()).contains("lists database \"crm\" twice"));
}

#[test]
fn system_databases_are_never_restore_targets() {
    let m = manifest(vec![database("mysql", &["user"]), database("shop", &["t"])]);
    assert_eq!(
        plan_err(&m, &RestoreOptions::default()),
        "database \"mysql\" of the snapshot would be restored into \"mysql\", a system database \
         of MariaDB; cairn never restores into system databases: leave it out with --databases, \
         or restore it under another name with --rename-database mysql:NEW"
    );
    // Left out, or renamed to a user database: allowed.
    let only_shop = RestoreOptions {
        databases: Some(vec!["shop".into()]),
        ..Default::default()
    };
    assert!(plan_restore(&m, &only_shop).is_ok());
    let renamed = RestoreOptions {
        rename: vec![("mysql".into(), "mysql_copy".into())],
        ..Default::default()
    };
    assert!(plan_restore(&m, &renamed).is_ok());
    // A user database renamed into a system one, in any letter case.
    let into_system = RestoreOptions {
        rename: vec![("shop".into(), "Information_Schema".into())],
        databases: Some(vec!["shop".into()]),
        ..Default::default()
    };
    assert!(matches!(
        plan_restore(&sample(), &into_system),
        Err(PlanError::SystemDatabase { .. })
    ));
    // The target server's flavor is checked too: `memsql` is SingleStore's.
    let to_memsql = RestoreOptions {
        rename: vec![("shop".into(), "memsql".into())],
        databases: Some(vec!["shop".into()]),
        ..Default::default()
    };
    let plan = plan_restore(&sample(), &to_memsql).unwrap();
    assert!(refuse_system_targets(&plan, Flavor::SingleStore).is_err());
}

#[test]
fn huge_row_counts_saturate() {
    let mut m = sample();
    for t in m.databases.iter_mut().flat_map(|d| d.tables.iter_mut()) {
        t.rows = u64::MAX;
    }
    let plan = plan_restore(&m, &RestoreOptions::default()).unwrap();
    assert_eq!(plan.row_count(), u64::MAX);
}

#[test]
fn objects_file_with_a_huge_length_is_an_error() {
    let text = format!(
        "-- cairn:object view v length={}\nCREATE VIEW v AS SELECT 1\n",
        usize::MAX
    );
    assert!(parse_objects(&text)
        .unwrap_err()
        .to_string()
        .contains("statement shorter than its length"));
}
