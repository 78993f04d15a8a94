#!/usr/bin/env python3
"""Deterministic benchmark dataset: TSV files plus the schema, for LOAD DATA LOCAL INFILE.

usage: gen_data.py OUTDIR SCALE   (SCALE 1.0 ~ 1 GB of mariadb-dump output)

Writes OUTDIR/schema.sql, OUTDIR/<db>.<table>.tsv and OUTDIR/load.sql. Same SCALE, same bytes.
"""
import os
import random
import sys

SCHEMA = """
DROP DATABASE IF EXISTS bench; DROP DATABASE IF EXISTS bench2;
CREATE DATABASE bench CHARACTER SET utf8mb4; CREATE DATABASE bench2 CHARACTER SET utf8mb4;
CREATE TABLE bench.big (
  id BIGINT NOT NULL PRIMARY KEY, k INT NOT NULL, code CHAR(12) NOT NULL,
  name VARCHAR(64) NOT NULL, amount DECIMAL(12,2) NOT NULL, ratio DOUBLE NULL,
  created DATETIME NOT NULL, flag TINYINT NOT NULL, body TEXT NULL, KEY k_k (k)
) ENGINE=InnoDB;
CREATE TABLE bench.events (
  at DATETIME(3) NOT NULL, kind VARCHAR(16) NOT NULL, user_id INT NOT NULL, payload VARCHAR(400) NULL
) ENGINE=InnoDB;
CREATE TABLE bench.blobs (
  id INT NOT NULL PRIMARY KEY, sha CHAR(64) NOT NULL, data MEDIUMBLOB NOT NULL
) ENGINE=InnoDB;
CREATE TABLE bench2.customers (
  id INT NOT NULL PRIMARY KEY, email VARCHAR(120) NOT NULL, country CHAR(2) NOT NULL,
  balance DECIMAL(14,4) NOT NULL, born DATE NULL, note VARCHAR(255) NULL, UNIQUE KEY uk (email)
) ENGINE=InnoDB;
CREATE TABLE bench2.products (
  id INT NOT NULL PRIMARY KEY, title VARCHAR(200) NOT NULL, price DOUBLE NOT NULL, attrs TEXT NULL
) ENGINE=InnoDB;
"""

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu "
         "Zoë Ñandú 東京 crème brûlée naïve façade").split()
KINDS = ("view", "click", "buy", "login", "logout", "search")
COUNTRIES = ("DE", "FR", "US", "JP", "BR", "IN", "NO", "ES")


def esc(s):
    """Escapes a value for LOAD DATA's default TSV format."""
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def sentence(r, n):
    return " ".join(r.choice(WORDS) for _ in range(n))


def stamp(r, year=2024):
    return "%d-%02d-%02d %02d:%02d:%02d" % (year, r.randint(1, 12), r.randint(1, 28),
                                            r.randint(0, 23), r.randint(0, 59), r.randint(0, 59))


def write(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write("\t".join("\\N" if v is None else esc(str(v)) for v in row))
            f.write("\n")


def big(r, n):  # ~345 bytes per row in the dump; the largest table
    for i in range(1, n + 1):
        yield (i, r.randint(0, 1_000_000), "C%011d" % r.randint(0, 10**11 - 1),
               sentence(r, 3), "%.2f" % r.uniform(-1e6, 1e6),
               None if i % 17 == 0 else repr(r.random()), stamp(r), i % 2,
               None if i % 23 == 0 else sentence(r, r.randint(20, 60)))


def events(r, n):  # ~120 bytes per row, no primary key
    for _ in range(n):
        yield ("%s.%03d" % (stamp(r), r.randint(0, 999)), r.choice(KINDS), r.randint(1, 200_000),
               None if r.random() < 0.2 else '{"q":"%s","n":%d}' % (sentence(r, 2), r.randint(0, 99)))


def blobs(r, n):  # ~8 KB (hex in the dump) per row of incompressible bytes
    for i in range(1, n + 1):
        data = r.randbytes(4096)
        yield (i, "%064x" % r.getrandbits(256), data.hex())


def customers(r, n):
    for i in range(1, n + 1):
        yield (i, "user%d@example.com" % i, r.choice(COUNTRIES), "%.4f" % r.uniform(-1000, 1e5),
               None if i % 11 == 0 else "19%02d-%02d-%02d" % (r.randint(30, 99), r.randint(1, 12), r.randint(1, 28)),
               None if i % 3 == 0 else sentence(r, 8))


def products(r, n):
    for i in range(1, n + 1):
        yield (i, sentence(r, 4), repr(round(r.uniform(0.5, 5000), 2)),
               None if i % 5 == 0 else '{"colour":"%s","size":%d}' % (r.choice(WORDS), r.randint(1, 50)))


# (db, table, generator, rows at scale 1.0, LOAD DATA column clause)
TABLES = (
    ("bench", "big", big, 2_100_000, ""),
    ("bench", "events", events, 1_900_000, ""),
    ("bench", "blobs", blobs, 17_000, "(id, sha, @d) SET data = UNHEX(@d)"),
    ("bench2", "customers", customers, 390_000, ""),
    ("bench2", "products", products, 90_000, ""),
)


def main():
    out, scale = sys.argv[1], float(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "schema.sql"), "w") as f:
        f.write(SCHEMA)
    load = ["SET foreign_key_checks = 0, unique_checks = 0;"]
    for seed, (db, table, gen, rows, cols) in enumerate(TABLES):
        n = max(10, int(rows * scale))
        path = os.path.join(out, "%s.%s.tsv" % (db, table))
        write(path, gen(random.Random(1000 + seed), n))
        load.append("LOAD DATA LOCAL INFILE '%s' INTO TABLE %s.%s CHARACTER SET utf8mb4 %s;" % (path, db, table, cols))
    with open(os.path.join(out, "load.sql"), "w") as f:
        f.write("\n".join(load) + "\n")


if __name__ == "__main__":
    main()
