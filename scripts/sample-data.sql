-- Deterministic sample data for the demo (and for tests that want a realistic database):
-- two databases, a few thousand rows, values that trip up dump/restore code.
SET NAMES utf8mb4;
SET SESSION max_recursive_iterations = 100000;

DROP DATABASE IF EXISTS shop;
DROP DATABASE IF EXISTS analytics;
CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE DATABASE analytics CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
USE shop;

CREATE TABLE customers (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(200) NULL,
  note TEXT NULL,
  balance DECIMAL(20,4) NOT NULL DEFAULT 0,
  created_at DATETIME(6) NOT NULL,
  UNIQUE KEY uk_email (email)
) ENGINE=InnoDB;

INSERT INTO customers (name, email, note, balance, created_at)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 2000)
SELECT
  CONCAT(ELT(1 + n % 6, 'Ann', 'Bjørn', 'Zoë', 'O''Brien', 'Ñandú', '李雷'), ' #', n),
  IF(n % 10 = 0, NULL, CONCAT('user', n, '@example.com')),
  CASE n % 7
    WHEN 0 THEN NULL
    WHEN 1 THEN ''
    WHEN 2 THEN 'tab\there, newline\nthere, cr\r'
    WHEN 3 THEN 'quote '' double " backslash \\ backtick `'
    WHEN 4 THEN 'NULL'
    WHEN 5 THEN CONCAT('emoji 🦀🚀 ', REPEAT('x', n % 300))
    ELSE CONCAT('long ', REPEAT(MD5(n), 20))
  END,
  (n * 37 % 100000) / 100 - 250,
  TIMESTAMP('2024-01-01 00:00:00') + INTERVAL n * 3607 SECOND + INTERVAL n MICROSECOND
FROM seq;

CREATE TABLE products (
  sku CHAR(8) NOT NULL PRIMARY KEY,
  title VARCHAR(200) NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  weight_kg DOUBLE NULL,
  tags SET('new','sale','eco','fragile') NOT NULL DEFAULT '',
  status ENUM('active','discontinued') NOT NULL DEFAULT 'active',
  attrs JSON NULL,
  thumbnail BLOB NULL
) ENGINE=InnoDB;

INSERT INTO products
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 500)
SELECT
  CONCAT('SKU', LPAD(n, 5, '0')),
  CONCAT('Product ', n, IF(n % 9 = 0, ' — “special” édition', '')),
  ROUND(n * 1.37, 2),
  IF(n % 11 = 0, NULL, n / 7),
  ELT(1 + n % 5, '', 'new', 'sale,eco', 'fragile', 'new,sale,eco,fragile'),
  IF(n % 13 = 0, 'discontinued', 'active'),
  IF(n % 4 = 0, NULL, JSON_OBJECT('n', n, 'colour', ELT(1 + n % 3, 'red', 'grün', '青'), 'nested', JSON_ARRAY(n, 'a"b', NULL))),
  IF(n % 5 = 0, NULL, UNHEX(CONCAT(SHA2(n, 256), '000A0D09275C22', SHA2(n + 1, 256))))
FROM seq;

CREATE TABLE orders (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id INT UNSIGNED NOT NULL,
  placed_at TIMESTAMP NOT NULL DEFAULT '2024-01-01 00:00:00',
  state VARCHAR(20) NOT NULL,
  KEY k_customer (customer_id),
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB;

INSERT INTO orders (customer_id, placed_at, state)
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 5000)
SELECT 1 + (n * 7919) % 2000,
       TIMESTAMP('2024-02-01 00:00:00') + INTERVAL n * 611 SECOND,
       ELT(1 + n % 4, 'new', 'paid', 'shipped', 'cancelled')
FROM seq;

-- A hyphenated table name and a reserved-word column, with a composite primary key.
CREATE TABLE `order-lines` (
  order_id BIGINT NOT NULL,
  line SMALLINT NOT NULL,
  sku CHAR(8) NOT NULL,
  qty INT NOT NULL,
  `select` TINYINT(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (order_id, line),
  CONSTRAINT fk_lines_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB;

INSERT INTO `order-lines`
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 8000)
SELECT 1 + (n - 1) % 5000, 1 + (n - 1) DIV 5000, CONCAT('SKU', LPAD(1 + n * 13 % 500, 5, '0')), 1 + n % 9, n % 2
FROM seq;

-- Edge values of most column types, one row each.
CREATE TABLE edge_values (
  id INT NOT NULL PRIMARY KEY,
  i_big BIGINT NULL,
  u_big BIGINT UNSIGNED NULL,
  d_dec DECIMAL(30,10) NULL,
  f_dbl DOUBLE NULL,
  f_flt FLOAT NULL,
  b_bit BIT(8) NULL,
  y_year YEAR NULL,
  t_time TIME(3) NULL,
  dt DATETIME NULL,
  s_txt TEXT NULL,
  v_bin VARBINARY(64) NULL
) ENGINE=InnoDB;

INSERT INTO edge_values VALUES
  (1, -9223372036854775808, 18446744073709551615, 99999999999999999999.9999999999, 1.7976931348623157e308, 3.4e38, b'11111111', 2155, '838:59:59.000', '9999-12-31 23:59:59', '', ''),
  (2, 9223372036854775807, 0, -99999999999999999999.9999999999, -2.2250738585072014e-308, -1.17e-38, b'00000000', 1901, '-838:59:59.000', '1000-01-01 00:00:00', ' ', 0x00),
  (3, 0, 1, 0.0000000001, 0, -0, b'10101010', 2000, '00:00:00.001', '2024-02-29 12:00:00', 'NULL', 0x5C4E),
  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (5, -1, 42, 1.5, 0.1, 0.1, b'1', 1970, '12:34:56.789', '1970-01-01 00:00:01', 'ends with backslash \\', 0x000102030405060708090A0B0C0D0E0F),
  (6, 1, 2, 3, 1e-300, 1e-30, b'0', 2024, '23:59:59.999', '2038-01-19 03:14:08', '\0 NUL inside', 0xFFFEFD),
  (7, 7, 7, 7, 7, 7, b'111', 2007, '07:07:07.007', '2007-07-07 07:07:07', CONCAT('Ωμέγα עִבְרִית العربية 👩‍👩‍👧 e', CHAR(0xCC81 USING utf8mb4)), 0x27222C0A);

CREATE VIEW order_totals AS
  SELECT o.customer_id, COUNT(*) AS orders, SUM(l.qty) AS items
  FROM orders o JOIN `order-lines` l ON l.order_id = o.id GROUP BY o.customer_id;

USE analytics;

-- No primary key: restore must still reproduce every row, duplicates included.
CREATE TABLE events (
  at DATETIME NOT NULL,
  kind VARCHAR(32) NOT NULL,
  payload MEDIUMTEXT NULL
) ENGINE=InnoDB;

INSERT INTO events
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 5000)
SELECT TIMESTAMP('2024-03-01') + INTERVAL (n DIV 3) MINUTE,
       ELT(1 + n % 3, 'view', 'click', 'buy'),
       IF(n % 50 = 0, REPEAT(CONCAT(n, ','), 2000), IF(n % 3 = 0, NULL, CONCAT('{"n":', n DIV 2, '}')))
FROM seq;

CREATE TABLE daily (
  day DATE NOT NULL PRIMARY KEY,
  visits INT UNSIGNED NOT NULL,
  ratio DOUBLE NOT NULL
) ENGINE=InnoDB;

INSERT INTO daily
WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < 365)
SELECT DATE('2024-01-01') + INTERVAL n DAY, n * 17 % 1000, n / 366
FROM seq;
