//! SingleStore dialect without a server: the `SHOW CREATE TABLE` fixtures of
//! `design/singlestore.md` §3.2 are kept byte for byte, and every statement a dump would
//! send to a SingleStore server is snapshotted.

use cairn_db::conn::session_init_sql;
use cairn_db::consistency::{self, ConsistencyMode};
use cairn_db::discover;
use cairn_db::flavor::Flavor;
use cairn_db::manifest::{self, ColumnEntry, Consistency, ObjectKind, TableEntry};
use cairn_db::row_format::{encoding_for, load_data_sql, select_sql, KeyRange};
use cairn_db::schema::{self, computed_columns, statement_file, DdlKind};

/// F1: rowstore, keyless, sparse compression (note the trailing space after `SHARD KEY () `).
const F1: &str = "CREATE ROWSTORE TABLE `table_1` (
  `a` int(11) DEFAULT NULL,
  `b` decimal(10,0) DEFAULT NULL
  , SHARD KEY () 
) AUTOSTATS_CARDINALITY_MODE=PERIODIC AUTOSTATS_HISTOGRAM_MODE=CREATE SQL_MODE='STRICT_ALL_TABLES'
  COMPRESSION=SPARSE";

/// F2: columnstore, old sort-key spelling.
const F2: &str = "CREATE TABLE `table_2` (
  `a` int(11) DEFAULT NULL,
  `b` varbinary(50) DEFAULT NULL,
  KEY `b` (`b`) USING CLUSTERED COLUMNSTORE
  , SHARD KEY () 
) AUTOSTATS_CARDINALITY_MODE=INCREMENTAL AUTOSTATS_HISTOGRAM_MODE=CREATE AUTOSTATS_SAMPLING=ON SQL_MODE='STRICT_ALL_TABLES'";

/// F3: 8.x columnstore with PK, derived shard key, unordered sort key, table charset.
const F3: &str = "CREATE TABLE `trend_topic_url` (
  `topicUuid` varchar(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
  `urlCleanId` int(11) unsigned NOT NULL,
  `lastHit` timestamp NOT NULL,
  PRIMARY KEY (`topicUuid`,`urlCleanId`),
  SHARD KEY `__SHARDKEY` (`topicUuid`,`urlCleanId`),
  SORT KEY `__UNORDERED` ()
) AUTOSTATS_CARDINALITY_MODE=INCREMENTAL AUTOSTATS_HISTOGRAM_MODE=CREATE AUTOSTATS_SAMPLING=ON SQL_MODE='STRICT_ALL_TABLES' CHARACTER SET=`utf8mb4` COLLATE=`utf8mb4_general_ci`";

/// F4: 8.x keyless columnstore (tail as observed).
const F4: &str = "CREATE TABLE `offices` (
  `officeTown` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci DEFAULT NULL,
  SORT KEY `__UNORDERED` ()
  , SHARD KEY () 
) AUTOSTATS_CARDINALITY_MODE=INCREMENTAL AUTOSTATS_HISTOGRAM_MODE=CREATE AUTOSTATS_SAMPLING=ON SQL_MODE='STRICT_ALL_TABLES' CHARACTER SET=`utf8mb4` COLLATE=`utf8mb4_general_ci`";

/// F5: 8.x columnstore PK-as-unique + hash index (columns reconstructed around the observed keys).
const F5: &str = "CREATE TABLE `opportunity_score` (
  `boardUuid` varchar(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
  `clientUuid` varchar(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
  `date` date NOT NULL,
  `status` varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci DEFAULT NULL,
  UNIQUE KEY `PRIMARY` (`boardUuid`,`clientUuid`,`date`) USING HASH,
  KEY `opportunity_score_board_status` (`status`) USING HASH,
  SHARD KEY `__SHARDKEY` (`boardUuid`,`clientUuid`,`date`),
  SORT KEY `__UNORDERED` ()
) AUTOSTATS_CARDINALITY_MODE=INCREMENTAL AUTOSTATS_HISTOGRAM_MODE=CREATE AUTOSTATS_SAMPLING=ON SQL_MODE='STRICT_ALL_TABLES'";

/// F6a: 7.x reference table.
const F6A: &str = "CREATE REFERENCE TABLE `meter_to_transformer` (
  `meter_id` int(11) NOT NULL DEFAULT '0',
  `transformer_id` int(11) NOT NULL DEFAULT '0',
  `join_dt` datetime DEFAULT NULL,
  UNIQUE KEY `PRIMARY` (`meter_id`,`transformer_id`) USING HASH,
  KEY `index2` (`transformer_id`) USING HASH,
  KEY `__UNORDERED` () USING CLUSTERED COLUMNSTORE
) AUTOSTATS_CARDINALITY_MODE=OFF AUTOSTATS_HISTOGRAM_MODE=OFF AUTOSTATS_SAMPLING=ON SQL_MODE='STRICT_ALL_TABLES'";

/// F6b: persisted computed column and a zero-date default.
const F6B: &str = "CREATE TABLE `daily_transformer_aggregation` (
  `transformer_id` int(11) NOT NULL DEFAULT '0',
  `agg_date` date NOT NULL DEFAULT '0000-00-00 00:00:00',
  `m_sum` decimal(12,2) DEFAULT NULL,
  `kva` as m_sum/1000/24/.9 PERSISTED decimal(12,2),
  UNIQUE KEY `PRIMARY` (`transformer_id`,`agg_date`) USING HASH,
  SHARD KEY `transformer_id` (`transformer_id`),
  KEY `agg_date` (`agg_date`) USING HASH,
  KEY `__UNORDERED` () USING CLUSTERED COLUMNSTORE
) AUTOSTATS_CARDINALITY_MODE=PERIODIC AUTOSTATS_HISTOGRAM_MODE=CREATE AUTOSTATS_SAMPLING=ON SQL_MODE='STRICT_ALL_TABLES'";

/// F7: rowstore with JSON / spatial types.
const F7: &str = "CREATE ROWSTORE TABLE `geo` (
  `id` int(11) NOT NULL,
  `jsonColumn` JSON COLLATE utf8_bin,
  `geographyColumn` geography DEFAULT NULL,
  `geographypointColumn` geographypoint,
  `ts6` timestamp(6) NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `geographypointColumn` (`geographypointColumn`)
) AUTOSTATS_CARDINALITY_MODE=PERIODIC AUTOSTATS_HISTOGRAM_MODE=CREATE SQL_MODE='STRICT_ALL_TABLES'";

/// F8: 8.7+ columnstore with VECTOR, FULLTEXT v2, named DESC sort key.
const F8: &str = "CREATE TABLE `docs` (
  `id` bigint(20) NOT NULL,
  `created_at` datetime(6) DEFAULT NULL,
  `body` text CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
  `emb` vector(1536, F32) NOT NULL,
  UNIQUE KEY `PRIMARY` (`id`) USING HASH,
  SHARD KEY `__SHARDKEY` (`id`),
  SORT KEY `created_at` (`created_at` DESC),
  FULLTEXT USING VERSION 2 `body_ft` (`body`),
  VECTOR INDEX `emb_idx` (`emb`) INDEX_OPTIONS='{\"index_type\":\"HNSW_FLAT\",\"metric_type\":\"DOT_PRODUCT\"}'
) AUTOSTATS_CARDINALITY_MODE=INCREMENTAL AUTOSTATS_HISTOGRAM_MODE=CREATE AUTOSTATS_SAMPLING=ON SQL_MODE='STRICT_ALL_TABLES'";

const FIXTURES: &[(&str, &str)] = &[
    ("table_1", F1),
    ("table_2", F2),
    ("trend_topic_url", F3),
    ("offices", F4),
    ("opportunity_score", F5),
    ("meter_to_transformer", F6A),
    ("daily_transformer_aggregation", F6B),
    ("geo", F7),
    ("docs", F8),
];

/// Column name and base type from a fixture (what information_schema would report).
fn fixture_columns(ddl: &str) -> Vec<ColumnEntry> {
    let computed = computed_columns(ddl);
    ddl.lines()
        .filter_map(|l| l.strip_prefix("  `"))
        .filter_map(|rest| {
            let (name, after) = rest.split_once('`')?;
            let ty = if computed.iter().any(|c| c == name) {
                after.split(" PERSISTED ").nth(1)?.trim_end_matches(',')
            } else {
                after.trim_start().split(' ').next()?.trim_end_matches(',')
            };
            Some(ColumnEntry {
                name: name.to_string(),
                data_type: ty.to_string(),
                dumped: !computed.iter().any(|c| c == name),
                encoding: encoding_for(ty),
            })
        })
        .collect()
}

/// Snapshots live next to the crate's other snapshots in `src/snapshots/`.
fn snapshot(name: &str, value: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../src/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, value));
}

fn entry(name: &str, ddl: &str) -> TableEntry {
    TableEntry {
        name: name.to_string(),
        schema_path: manifest::table_schema_path("app", name),
        columns: fixture_columns(ddl),
        rows: 0,
        checksum: String::new(),
        chunks: vec![],
        primary_key: vec![],
        engine: String::new(),
        key_step: None,
    }
}

#[test]
fn singlestore_table_ddl_is_kept_byte_for_byte() {
    let mut all = String::new();
    for (name, ddl) in FIXTURES {
        let file = statement_file(ddl);
        assert_eq!(
            file.as_bytes(),
            [ddl.as_bytes(), b";\n"].concat().as_slice(),
            "{name}"
        );
        all.push_str(&format!(
            "=== {}\n{file}",
            manifest::table_schema_path("app", name)
        ));
    }
    assert!(
        all.contains("  , SHARD KEY () \n"),
        "trailing space survives"
    );
    snapshot("singlestore_table_files", &all);
}

#[test]
fn singlestore_computed_columns_are_not_dumped() {
    let t = entry("daily_transformer_aggregation", F6B);
    let kva = t.columns.iter().find(|c| c.name == "kva").unwrap();
    assert!(!kva.dumped);
    assert!(!select_sql("app", &t, None).contains("kva"));
    assert!(!load_data_sql("app", &t, "f").contains("kva"));
}

#[test]
fn singlestore_dump_statements() {
    let flavor = Flavor::SingleStore;
    let mut out = vec!["-- session".to_string()];
    out.extend(session_init_sql());
    out.push("-- discovery".into());
    out.push(discover::databases_sql().into());
    out.push(discover::tables_sql("app"));
    out.push(discover::columns_sql(flavor, "app"));
    out.push(discover::primary_keys_sql("app"));
    out.push(discover::routines_sql("app"));
    out.push("-- schema".into());
    out.push(schema::show_create_sql(DdlKind::Database, "app", ""));
    for (name, _) in FIXTURES {
        out.push(schema::show_create_sql(DdlKind::Table, "app", name));
    }
    out.push(schema::show_create_sql(
        DdlKind::Object(ObjectKind::Procedure),
        "app",
        "derive_aggs",
    ));
    out.push(schema::show_create_sql(
        DdlKind::Object(ObjectKind::Function),
        "app",
        "f",
    ));
    for mode in [ConsistencyMode::Auto, ConsistencyMode::NoLock] {
        let plan = consistency::plan(flavor, mode);
        out.push(format!("-- consistency {mode:?} -> {:?}", plan.achieved));
        out.extend(plan.lock_sql.map(String::from));
        out.extend(plan.worker_begin_sql.iter().map(|s| s.to_string()));
    }
    out.push("-- data (one SELECT per chunk)".into());
    for (name, ddl) in FIXTURES {
        out.push(select_sql("app", &entry(name, ddl), None));
    }
    out.push(select_sql(
        "app",
        &entry("docs", F8),
        Some(&KeyRange {
            column: "id".into(),
            lower: Some(1000),
            upper: Some(2000),
        }),
    ));
    out.push("-- release".into());
    out.push(consistency::UNLOCK_SQL.into());
    out.push("-- restore side: LOAD DATA per data file".into());
    for (name, ddl) in FIXTURES {
        out.push(load_data_sql(
            "app",
            &entry(name, ddl),
            &manifest::data_path("app", name, 1),
        ));
    }
    assert_eq!(
        consistency::plan(flavor, ConsistencyMode::Auto).achieved,
        Consistency::GlobalReadLock
    );
    snapshot("singlestore_dump_statements", &out.join("\n"));
}
