//! Secondary keys built after loading instead of row by row.
//!
//! InnoDB inserting into a table with plain secondary keys updates every key per row, in
//! random order; adding the keys once the rows are in builds them by sorting. On MariaDB
//! 10.11 loading a 220 MB table with one secondary key that way took 0.8x the time.
//! Like myloader's `--innodb-optimize-keys`, only plain `KEY` lines of InnoDB tables from
//! `SHOW CREATE TABLE` are moved; anything unusual keeps the statement as it is.

use crate::flavor::Flavor;
use crate::row_format::qualified;

/// A `CREATE TABLE` without its plain secondary keys, and how to add them back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeferredKeys {
    /// The `CREATE TABLE` statement to run before loading.
    pub create: Vec<u8>,
    /// Key definitions (e.g. ``KEY `k` (`a`,`b`)``) to add after loading.
    pub keys: Vec<String>,
}

impl DeferredKeys {
    /// `ALTER TABLE db.table ADD KEY …, ADD KEY …`.
    pub fn alter_sql(&self, db: &str, table: &str) -> String {
        let adds: Vec<String> = self.keys.iter().map(|k| format!("ADD {k}")).collect();
        format!("ALTER TABLE {} {}", qualified(db, table), adds.join(", "))
    }
}

/// Splits plain secondary keys off a `CREATE TABLE` when that is safe; `None` keeps it whole.
///
/// Kept whole: other flavors and engines, foreign keys (they need their index at once),
/// FULLTEXT and SPATIAL keys (InnoDB rebuilds the table to add them), partitioned tables,
/// keys led by an AUTO_INCREMENT column, and any line this parser does not recognise.
pub fn split(create: &[u8], flavor: Flavor) -> Option<DeferredKeys> {
    if !matches!(flavor, Flavor::MariaDb | Flavor::MySql) {
        return None;
    }
    let text = std::str::from_utf8(create).ok()?;
    let upper = text.to_ascii_uppercase();
    if !upper.trim_start().starts_with("CREATE TABLE")
        || !upper.contains("ENGINE=INNODB")
        || upper.contains("FOREIGN KEY")
        || upper.contains("FULLTEXT")
        || upper.contains("SPATIAL")
        || upper.contains("PARTITION")
    {
        return None;
    }
    let lines: Vec<&str> = text.split('\n').collect();
    // SHOW CREATE TABLE shape: header ending in "(", one definition per line, ") options".
    let header = lines.first()?;
    let close = lines.iter().rposition(|l| l.starts_with(')'))?;
    if !header.ends_with('(') || close < 2 || lines[1..close].iter().any(|l| !l.starts_with("  ")) {
        return None;
    }
    let body: Vec<&str> = lines[1..close]
        .iter()
        .map(|l| l.trim_end().trim_end_matches(','))
        .collect();
    let auto_increment: Vec<&str> = body
        .iter()
        .filter(|l| l.trim_start().starts_with('`') && l.contains(" AUTO_INCREMENT"))
        .filter_map(|l| first_identifier(l.trim_start()))
        .collect();
    let mut kept = Vec::with_capacity(body.len());
    let mut keys = Vec::new();
    for line in &body {
        let def = line.trim_start();
        if !recognised(def) {
            return None;
        }
        let deferrable = def.starts_with("KEY `")
            && key_columns(def)
                .and_then(|cols| first_identifier(cols))
                .is_some_and(|first| !auto_increment.contains(&first));
        if deferrable {
            keys.push(def.to_string());
        } else {
            kept.push(*line);
        }
    }
    if keys.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(header);
    out.push('\n');
    out.push_str(&kept.join(",\n"));
    out.push('\n');
    out.push_str(&lines[close..].join("\n"));
    Some(DeferredKeys {
        create: out.into_bytes(),
        keys,
    })
}

/// Whether a definition line has a shape `SHOW CREATE TABLE` produces.
fn recognised(def: &str) -> bool {
    const STARTS: &[&str] = &[
        "`",
        "PRIMARY KEY ",
        "UNIQUE KEY ",
        "KEY `",
        "CONSTRAINT ",
        "CHECK ",
        "PERIOD FOR ",
    ];
    STARTS.iter().any(|s| def.starts_with(s))
}

/// The column list of a key line: the text after the key name's opening parenthesis.
fn key_columns(def: &str) -> Option<&str> {
    let rest = def.strip_prefix("KEY ")?;
    let name_end = closing_backtick(rest)?;
    rest[name_end + 1..].trim_start().strip_prefix('(')
}

/// The first backtick-quoted identifier at the start of `s`, unquoted only if it has no
/// doubled backticks (good enough to compare with column names of the same statement).
fn first_identifier(s: &str) -> Option<&str> {
    let end = closing_backtick(s)?;
    Some(&s[1..end])
}

/// Byte index of the backtick closing the identifier `s` starts with.
fn closing_backtick(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    if bytes.first() != Some(&b'`') {
        return None;
    }
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            if bytes.get(i + 1) == Some(&b'`') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BIG: &str = "CREATE TABLE `big` (\n  `id` bigint(20) NOT NULL,\n  `k` int(11) NOT NULL,\n  `body` text DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  KEY `k_k` (`k`),\n  UNIQUE KEY `u` (`body`(10)),\n  KEY `two` (`k`,`id`) COMMENT 'x'\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

    #[test]
    fn plain_keys_move_to_an_alter() {
        let d = split(BIG.as_bytes(), Flavor::MariaDb).unwrap();
        assert_eq!(
            String::from_utf8(d.create.clone()).unwrap(),
            "CREATE TABLE `big` (\n  `id` bigint(20) NOT NULL,\n  `k` int(11) NOT NULL,\n  `body` text DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  UNIQUE KEY `u` (`body`(10))\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        );
        assert_eq!(
            d.alter_sql("d b", "big"),
            "ALTER TABLE `d b`.`big` ADD KEY `k_k` (`k`), ADD KEY `two` (`k`,`id`) COMMENT 'x'"
        );
    }

    #[test]
    fn unsafe_or_unusual_tables_stay_whole() {
        let cases = [
            BIG.replace("InnoDB", "MyISAM"),
            BIG.replace(
                "  UNIQUE KEY `u` (`body`(10)),\n",
                "  CONSTRAINT `f` FOREIGN KEY (`k`) REFERENCES `o` (`id`),\n",
            ),
            BIG.replace(
                "  UNIQUE KEY `u` (`body`(10)),\n",
                "  FULLTEXT KEY `f` (`body`),\n",
            ),
            BIG.replace(
                "`k` int(11) NOT NULL",
                "`k` int(11) NOT NULL AUTO_INCREMENT",
            )
            .replace("  KEY `two` (`k`,`id`) COMMENT 'x'", "  KEY `two` (`k`)"),
            BIG.replace(",\n  KEY `two`", ",\nKEY `two`"),
            BIG.replace("  UNIQUE KEY", "  INDEX KEY"),
            format!("{BIG}\n PARTITION BY HASH (`id`) PARTITIONS 4"),
            "CREATE TABLE `t` (`id` int, KEY `k` (`id`)) ENGINE=InnoDB".to_string(),
        ];
        for c in &cases {
            assert_eq!(split(c.as_bytes(), Flavor::MariaDb), None, "{c}");
        }
        assert_eq!(split(BIG.as_bytes(), Flavor::SingleStore), None);
    }

    #[test]
    fn auto_increment_keeps_only_its_own_key() {
        let sql = BIG
            .replace(
                "`id` bigint(20) NOT NULL",
                "`id` bigint(20) NOT NULL AUTO_INCREMENT",
            )
            .replace("PRIMARY KEY (`id`)", "PRIMARY KEY (`k`)")
            .replace("KEY `two` (`k`,`id`)", "KEY `two` (`id`,`k`)");
        let d = split(sql.as_bytes(), Flavor::MySql).unwrap();
        assert_eq!(d.keys, vec!["KEY `k_k` (`k`)".to_string()]);
        assert!(String::from_utf8(d.create)
            .unwrap()
            .contains("KEY `two` (`id`,`k`) COMMENT 'x'\n)"));
    }

    #[test]
    fn mariadb_show_create_output() {
        // Verbatim from MariaDB 10.11 for the `indexed` table of tests/e2e/fixtures/tricky.sql.
        let sql = "CREATE TABLE `indexed` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `seq` int(11) NOT NULL,\n  `k` int(11) DEFAULT NULL,\n  `name` varchar(40) DEFAULT NULL,\n  `note` text DEFAULT NULL,\n  PRIMARY KEY (`seq`),\n  UNIQUE KEY `u_name` (`name`),\n  KEY `by id` (`id`),\n  KEY `k``s` (`k`,`name`(8)) COMMENT 'composite',\n  KEY `plain` (`k`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";
        let d = split(sql.as_bytes(), Flavor::MariaDb).unwrap();
        assert_eq!(
            d.keys,
            vec![
                "KEY `k``s` (`k`,`name`(8)) COMMENT 'composite'".to_string(),
                "KEY `plain` (`k`)".to_string()
            ]
        );
        assert!(String::from_utf8(d.create)
            .unwrap()
            .contains("  UNIQUE KEY `u_name` (`name`),\n  KEY `by id` (`id`)\n) ENGINE=InnoDB"));
    }

    #[test]
    fn quoted_names_with_backticks() {
        let sql =
            "CREATE TABLE `t` (\n  `a``b` int NOT NULL,\n  KEY `k``1` (`a``b`)\n) ENGINE=InnoDB";
        let d = split(sql.as_bytes(), Flavor::MariaDb).unwrap();
        assert_eq!(d.keys, vec!["KEY `k``1` (`a``b`)".to_string()]);
        assert_eq!(
            String::from_utf8(d.create.clone()).unwrap(),
            "CREATE TABLE `t` (\n  `a``b` int NOT NULL\n) ENGINE=InnoDB"
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_keeps_every_other_line(s in "[ -~\n`]{0,300}") {
            let sql = format!("CREATE TABLE `t` (\n  `id` int NOT NULL,\n{s}\n) ENGINE=InnoDB");
            if let Some(d) = split(sql.as_bytes(), Flavor::MariaDb) {
                let create = String::from_utf8(d.create).unwrap();
                prop_assert!(create.starts_with("CREATE TABLE `t` (\n"));
                prop_assert!(!d.keys.is_empty());
                for k in &d.keys {
                    prop_assert!(k.starts_with("KEY `"));
                    prop_assert!(!create.contains(k.as_str()));
                }
            }
        }
    }
}
